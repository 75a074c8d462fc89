"""Live events: keep-alives on idle streams, one encoding per event, no subscriber left behind."""

from __future__ import annotations

import asyncio

import httpx

from leadcall.core.events import Event, MemoryEventHub
from tests.live import CallWorld, LiveServer


async def test_an_idle_subscriber_gets_keep_alives_and_then_its_events() -> None:
    hub = MemoryEventHub()
    stream = hub.subscribe("t1", "o1", idle_seconds=0.05)
    assert await asyncio.wait_for(anext(stream), 1) is None  # nothing happened: a keep-alive
    await asyncio.sleep(0)
    await hub.publish(Event("call.updated", "t2", None, {"id": "other tenant"}))
    await hub.publish(Event("call.updated", "t1", "o2", {"id": "other team"}))
    await hub.publish(Event("call.updated", "t1", "o1", {"id": "mine"}))
    received = await asyncio.wait_for(anext(stream), 1)
    assert received is not None and received.data["id"] == "mine"  # the others' events never arrive
    await stream.aclose()  # type: ignore[attr-defined]
    assert hub.subscriber_count == 0


def test_an_event_is_encoded_once_for_all_its_clients() -> None:
    event = Event("call.updated", "t1", None, {"id": "c1", "status": "ringing"})
    assert event.sse_frame is event.sse_frame
    assert event.sse_frame == f"event: call.updated\ndata: {event.to_json()}\n\n".encode()


async def test_a_browser_that_leaves_the_stream_is_unsubscribed(live: LiveServer, live_client: httpx.AsyncClient,
                                                              cw: CallWorld) -> None:
    hub = live.app.state.events
    before = hub.subscriber_count
    async with httpx.AsyncClient(base_url=live.url, timeout=None) as client, client.stream(
            "GET", "/api/events", headers=cw.world.member.headers) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert (await asyncio.wait_for(anext(lines), 5)).startswith(": connected")
        assert hub.subscriber_count == before + 1
    for _ in range(100):  # the server notices the closed connection and ends the stream
        if hub.subscriber_count == before:
            break
        await asyncio.sleep(0.05)
    assert hub.subscriber_count == before
