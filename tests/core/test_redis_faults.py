"""Redis stopping, freezing and restarting under each Redis user of a process: rate limits refuse with a 503
that says so, caches load from the source, live events are dropped and their relay subscribes again and
tells its streams to resync, jobs are left to the sweep; nothing waits longer than a command's deadline.

Each test runs its own redis-server on a free port (never the shared one)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from leadcall.core.events import RESYNC, Event
from leadcall.core.jobs import ArqJobs
from leadcall.core.ratelimit import Limit
from leadcall.core.redis_events import RedisEventHub
from leadcall.core.redis_impl import RedisCache, RedisRateLimiter
from leadcall.core.redis_link import RedisLink, RedisUnavailable, connect
from leadcall.kit.clock import ManualClock
from leadcall.runtime import arq_pool
from tests.redis_server import PrivateRedis, running_private_redis

TIMEOUT = 0.5  # each command's deadline here; Redis stays frozen far longer than that


@pytest.fixture
def server() -> Iterator[PrivateRedis]:
    with running_private_redis() as redis:
        yield redis


@pytest.fixture
async def link(server: PrivateRedis) -> AsyncIterator[RedisLink]:
    link = RedisLink(connect(server.url, TIMEOUT))
    yield link
    await link.close()
    await link.redis.aclose()


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str, within: float = 30) -> None:
    """Waits for a state (never for time to pass); fails saying what never happened."""
    async with asyncio.timeout(within):
        while True:
            result = condition()
            if result if isinstance(result, bool) else await result:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(what)  # pragma: no cover - the timeout raises first


class Listener:
    """A stream of one tenant's team, as the SSE route reads it, collected as it arrives."""

    def __init__(self, hub: RedisEventHub, tenant_id: str, organization_id: str | None) -> None:
        self._hub = hub
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run(tenant_id, organization_id))

    async def _run(self, tenant_id: str, organization_id: str | None) -> None:
        async for event in self._hub.subscribe(tenant_id, organization_id):
            if event is not None:
                self._events.put_nowait(event)

    async def ready(self) -> None:
        await until(lambda: self._hub.subscriber_count == 1, "the stream never subscribed")

    async def next(self) -> Event:
        return await asyncio.wait_for(self._events.get(), 5)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_a_rate_limit_redis_cannot_check_refuses_with_a_clear_503_until_redis_is_back(
        server: PrivateRedis, link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, ManualClock())
    limit = Limit("place:user:u1", 5, 60.0)
    assert await limiter.hit(limit) is None
    server.stop()
    with pytest.raises(RedisUnavailable) as refused:
        await limiter.hit(limit)
    assert refused.value.status_code == 503 and refused.value.code == "redis_unavailable"
    assert "try again" in refused.value.detail
    await until(lambda: not link.up, "the probe never found Redis down")  # next commands fail at once
    with pytest.raises(RedisUnavailable):
        await limiter.hit(limit)
    server.start()
    await asyncio.wait_for(link.wait_until_up(), 30)
    assert await limiter.hit(limit) is None


async def test_a_frozen_redis_costs_a_command_its_deadline_not_as_long_as_redis_stays_frozen(
        server: PrivateRedis, link: RedisLink) -> None:
    limiter = RedisRateLimiter(link, ManualClock())
    limit = Limit("place:user:u1", 5, 60.0)
    assert await limiter.hit(limit) is None  # connected
    server.freeze()
    try:
        # Without a deadline this would wait for Redis to wake up, which it does not until the test ends.
        with pytest.raises(RedisUnavailable):
            await asyncio.wait_for(limiter.hit(limit), 20)
        with pytest.raises(RedisUnavailable):
            await asyncio.wait_for(limiter.hit(limit), 20)
    finally:
        server.thaw()
    await asyncio.wait_for(link.wait_until_up(), 30)
    assert await limiter.hit(limit) is None


async def test_cached_values_come_from_the_source_while_redis_is_down_once_per_process(
        server: PrivateRedis, link: RedisLink) -> None:
    clock = ManualClock()
    loads: list[int] = []

    async def load() -> str:
        loads.append(1)
        return f"agents v{len(loads)}"

    cache = RedisCache(link, clock, b"k" * 32)
    assert await cache.get_or_load("agents:a", 30.0, load) == "agents v1"
    server.stop()
    assert await cache.get_or_load("agents:a", 30.0, load) == "agents v2", "loaded from the source"
    assert await cache.get_or_load("agents:a", 30.0, load) == "agents v2", "kept in this process meanwhile"
    await cache.invalidate("agents:a")  # an agent was edited: nothing old is served, Redis down or not
    assert await cache.get_or_load("agents:a", 30.0, load) == "agents v3"
    server.start()  # empty, as a Redis that keeps no data comes back
    await asyncio.wait_for(link.wait_until_up(), 30)
    assert await cache.get_or_load("agents:a", 30.0, load) == "agents v4"
    other_process = RedisCache(link, clock, b"k" * 32)
    assert await other_process.get_or_load("agents:a", 30.0, load) == "agents v4", "shared in Redis again"
    assert len(loads) == 4


async def test_the_relay_subscribes_again_after_a_restart_and_tells_its_streams_to_resync(
        server: PrivateRedis, link: RedisLink) -> None:
    hub = RedisEventHub(link, timeout_seconds=TIMEOUT)
    await hub.start()
    stream = Listener(hub, "t1", "o1")
    try:
        assert hub.relay_connected
        await stream.ready()
        await hub.publish(Event("call.updated", "t1", "o1", {"id": "before"}))
        assert (await stream.next()).data["id"] == "before"
        server.stop()
        await until(lambda: not hub.relay_connected, "the relay never noticed Redis going away")
        await hub.publish(Event("call.updated", "t1", "o1", {"id": "lost"}))  # dropped, not raised
        server.start()
        await asyncio.wait_for(hub.wait_subscribed(), 30)
        resync = await stream.next()
        assert resync.name == RESYNC and resync.tenant_id == "t1", "the lost event is to be re-read"
        await asyncio.wait_for(link.wait_until_up(), 30)
        await hub.publish(Event("call.updated", "t1", "o1", {"id": "after"}))
        assert (await stream.next()).data["id"] == "after"
        assert hub.reconnections == 1
    finally:
        await stream.close()
        await hub.close()


async def test_the_relay_notices_a_frozen_redis_and_resyncs_once_it_answers(
        server: PrivateRedis, link: RedisLink) -> None:
    hub = RedisEventHub(link, timeout_seconds=TIMEOUT, ping_seconds=0.2)
    await hub.start()
    stream = Listener(hub, "t1", None)
    try:
        await stream.ready()
        server.freeze()
        try:
            await until(lambda: not hub.relay_connected, "a frozen Redis went unnoticed: its pings had no answer")
        finally:
            server.thaw()
        await asyncio.wait_for(hub.wait_subscribed(), 30)
        assert (await stream.next()).name == RESYNC
    finally:
        await stream.close()
        await hub.close()


async def test_a_relay_started_while_redis_is_down_serves_and_subscribes_once_redis_is_up(
        server: PrivateRedis, link: RedisLink) -> None:
    server.stop()
    hub = RedisEventHub(link, timeout_seconds=TIMEOUT)
    await asyncio.wait_for(hub.start(), 10)  # the process starts all the same
    try:
        assert not hub.relay_connected
        server.start()
        await asyncio.wait_for(hub.wait_subscribed(), 30)
    finally:
        await hub.close()


async def test_a_job_redis_does_not_take_is_left_to_the_sweep_without_failing_the_caller(
        server: PrivateRedis, link: RedisLink, caplog: pytest.LogCaptureFixture) -> None:
    pool = arq_pool(server.url, TIMEOUT)
    jobs = ArqJobs(pool, link)
    try:
        server.stop()
        with caplog.at_level(logging.WARNING, "leadcall.jobs"):
            await jobs.enqueue("process_webhook", "delivery-1")  # after a commit: the request is not failed
        assert "sweep" in caplog.text
        server.start()
        await asyncio.wait_for(link.wait_until_up(), 30)
        await jobs.enqueue("process_webhook", "delivery-2")
        assert [job.args for job in await pool.queued_jobs()] == [("delivery-2",)]
    finally:
        await jobs.close()
