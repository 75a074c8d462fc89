"""Background work waits for a gap between requests, but never for good."""

from __future__ import annotations

import asyncio

from leadcall.kit.inflight import InFlight


async def test_quiet_waits_for_the_last_one_in_flight_to_leave() -> None:
    arriving = InFlight()
    await arriving.quiet(60)  # nothing in flight: at once
    order: list[str] = []

    async def background() -> None:
        await arriving.quiet(60)
        order.append("applied")

    with arriving.entered():
        with arriving.entered():
            waiting = asyncio.create_task(background())
            await asyncio.sleep(0)
            assert arriving.count == 2 and not waiting.done()
        await asyncio.sleep(0)
        assert not waiting.done()  # one is still in flight
        order.append("answered")
    await waiting
    assert order == ["answered", "applied"] and arriving.count == 0


async def test_quiet_gives_up_waiting_under_an_endless_stream() -> None:
    arriving = InFlight()
    with arriving.entered():
        await arriving.quiet(0.01)  # returns although one is still in flight
        assert arriving.count == 1
