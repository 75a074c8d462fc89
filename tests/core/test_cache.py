"""The cache behind agent, voice and number listings, in both shapes: in-process and Redis.

Time is a ManualClock; Redis is the one `./dev test` starts on 127.0.0.1 (or
LEADCALL_REDIS_URL)."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from leadcall.core.cache import MemoryCache
from leadcall.core.redis_impl import RedisCache
from leadcall.core.redis_link import RedisLink
from leadcall.kit.clock import ManualClock

TTL, STALE = 30.0, 600.0
KEY = b"k" * 32


class Source:
    """A provider listing that counts its loads and can be made slow or failing."""

    def __init__(self) -> None:
        self.loads = 0
        self.version = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def load(self) -> str:
        self.loads += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("ElevenLabs is down")
        return f"v{self.version}"


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[tuple[MemoryCache | RedisCache, ManualClock]]:
    clock = ManualClock()
    if request.param == "memory":
        yield MemoryCache(clock), clock
        return
    redis = Redis.from_url(os.environ.get("LEADCALL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    yield RedisCache(RedisLink(redis), clock, KEY, prefix=f"leadcall:test-cache:{uuid.uuid4().hex}:"), clock
    await redis.aclose()


async def test_a_fresh_value_is_loaded_once_however_many_ask(cache: tuple[MemoryCache | RedisCache, ManualClock]) -> None:
    store, clock = cache
    source = Source()
    source.gate = asyncio.Event()
    waiting = [asyncio.create_task(store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE))
               for _ in range(10)]
    await asyncio.sleep(0.1)
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["v0"] * 10
    clock.advance(TTL - 1)
    assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v0"
    assert source.loads == 1


async def test_a_stale_value_is_answered_at_once_while_one_refresh_runs(
        cache: tuple[MemoryCache | RedisCache, ManualClock]) -> None:
    store, clock = cache
    source = Source()
    assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v0"
    source.version, source.gate = 1, asyncio.Event()
    clock.advance(TTL + 1)
    # The provider is slow now: nobody waits for it, and only one refresh is started.
    answers = [await asyncio.wait_for(store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE), 1)
               for _ in range(5)]
    assert answers == ["v0"] * 5
    assert source.loads == 2
    source.gate.set()
    await store.refreshes.wait()
    assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v1"
    assert source.loads == 2


async def test_a_failed_refresh_keeps_the_previous_value_and_is_logged(
        cache: tuple[MemoryCache | RedisCache, ManualClock], caplog: pytest.LogCaptureFixture) -> None:
    store, clock = cache
    source = Source()
    await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE)
    source.fail = True
    clock.advance(TTL + 1)
    with caplog.at_level(logging.WARNING, logger="leadcall.cache"):
        assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v0"
        await store.refreshes.wait()
    assert "refreshing the cached agents failed (RuntimeError)" in caplog.text
    # The next caller tries again and still gets the previous value.
    assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v0"
    await store.refreshes.wait()
    assert source.loads == 3


async def test_past_the_stale_period_callers_wait_for_a_new_value(
        cache: tuple[MemoryCache | RedisCache, ManualClock]) -> None:
    store, clock = cache
    source = Source()
    await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE)
    source.version = 1
    clock.advance(TTL + STALE + 1)
    assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v1"
    source.fail = True
    clock.advance(TTL + STALE + 1)
    with pytest.raises(RuntimeError, match="ElevenLabs is down"):
        await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE)


async def test_without_a_stale_period_an_expired_value_is_reloaded_before_answering(
        cache: tuple[MemoryCache | RedisCache, ManualClock]) -> None:
    store, clock = cache
    source = Source()
    await store.get_or_load("numbers:a", TTL, source.load)
    source.version = 1
    clock.advance(TTL + 1)
    assert await store.get_or_load("numbers:a", TTL, source.load) == "v1"


async def test_a_load_begun_before_an_invalidation_is_not_kept(
        cache: tuple[MemoryCache | RedisCache, ManualClock]) -> None:
    store, _ = cache
    source = Source()
    source.gate = asyncio.Event()
    loading = asyncio.create_task(store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE))
    await asyncio.sleep(0.1)
    await store.invalidate("agents:a")  # e.g. an admin changed the agent meanwhile
    source.gate.set()
    assert await loading == "v0"
    source.version, source.gate = 1, None
    assert await store.get_or_load("agents:a", TTL, source.load, stale_seconds=STALE) == "v1"
    assert source.loads == 2


async def test_a_value_not_signed_by_this_deployment_is_never_unpickled() -> None:
    """Whoever can write to Redis cannot make a web process unpickle their bytes: unsigned or wrongly
    signed values count as missing and are loaded again."""
    redis = Redis.from_url(os.environ.get("LEADCALL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    prefix = f"leadcall:test-cache:{uuid.uuid4().hex}:"
    clock = ManualClock()
    link = RedisLink(redis)
    ours, theirs = RedisCache(link, clock, KEY, prefix=prefix), RedisCache(link, clock, b"x" * 32, prefix=prefix)
    try:
        source = Source()
        await redis.set(prefix + "agents:a", pickle.dumps((clock.now() + TTL, clock.now() + TTL, "planted")))
        assert await ours.get_or_load("agents:a", TTL, source.load) == "v0"
        assert source.loads == 1
        source.version = 1
        assert await theirs.get_or_load("agents:a", TTL, source.load) == "v1", "another key's value is not read"
        assert await ours.get_or_load("agents:b", TTL, source.load) == "v1"
        source.version = 2
        assert await ours.get_or_load("agents:b", TTL, source.load) == "v1", "our own signed value is read"
        assert source.loads == 3
    finally:
        await redis.aclose()
