"""Rate limits in both shapes (in-process and Redis): sliding windows, counted in every limit or in none."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from leadcall.core.ratelimit import Limit, MemoryRateLimiter, RateLimiter, Refused
from leadcall.core.redis_impl import RedisRateLimiter
from leadcall.core.redis_link import RedisLink
from leadcall.kit.clock import ManualClock


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[tuple[RateLimiter, ManualClock, str]]:
    clock = ManualClock()
    prefix = f"test-{uuid.uuid4().hex}:"
    if request.param == "memory":
        yield MemoryRateLimiter(clock), clock, prefix
        return
    redis = Redis.from_url(os.environ.get("LEADCALL_REDIS_URL", "redis://127.0.0.1:6379/0"))
    yield RedisRateLimiter(RedisLink(redis), clock), clock, prefix
    await redis.aclose()


async def test_a_sliding_window_refuses_with_the_wait_and_allows_again(
        limiter: tuple[RateLimiter, ManualClock, str]) -> None:
    store, clock, prefix = limiter
    user = Limit(prefix + "user", 2, 60.0)
    assert await store.hit(user) is None
    clock.advance(10)
    assert await store.hit(user) is None
    assert await store.hit(user) == Refused(0, 50.0), "the oldest event leaves the window in 50 s"
    clock.advance(50.5)
    assert await store.hit(user) is None
    assert await store.hit(user) == Refused(0, 10.0)


async def test_an_event_one_limit_refuses_counts_in_none(limiter: tuple[RateLimiter, ManualClock, str]) -> None:
    store, _, prefix = limiter
    user, team = Limit(prefix + "user", 2, 60.0), Limit(prefix + "team", 1, 60.0)
    assert await store.hit(user, team) is None
    refused = await store.hit(user, team)
    assert refused is not None and refused.index == 1, "the team's limit refuses"
    assert await store.hit(user) is None, "the refused attempt cost the user nothing"
    assert await store.hit(user) is not None


async def test_racing_events_never_exceed_the_limit(limiter: tuple[RateLimiter, ManualClock, str]) -> None:
    store, _, prefix = limiter
    team = Limit(prefix + "team", 5, 60.0)
    results = await asyncio.gather(*(store.hit(Limit(prefix + f"user-{i}", 10, 60.0), team) for i in range(20)))
    assert sum(r is None for r in results) == 5


async def test_a_forgotten_event_leaves_every_window(limiter: tuple[RateLimiter, ManualClock, str]) -> None:
    store, _, prefix = limiter
    user, team = Limit(prefix + "user", 1, 60.0), Limit(prefix + "team", 1, 60.0)
    assert await store.hit(user, team, event="refused-later") is None
    assert await store.hit(user, team) is not None
    await store.forget("refused-later", user, team)
    assert await store.hit(user, team) is None, "the forgotten event no longer counts in either limit"
    await store.forget("never-counted", user, team)
    assert await store.hit(user, team) is not None


async def test_a_named_event_counts_once(limiter: tuple[RateLimiter, ManualClock, str]) -> None:
    store, clock, prefix = limiter
    user = Limit(prefix + "user", 2, 60.0)
    assert [await store.hit(user, event="one-key") for _ in range(5)] == [None] * 5, "one event, however often"
    assert await store.hit(user) is None
    assert await store.hit(user) is not None, "the named event took one place, not five"
    clock.advance(61)
    assert await store.hit(user, event="one-key") is None
    assert await store.hit(user, event="one-key") is None
    assert await store.hit(user) is None
    assert await store.hit(user) is not None, "out of its window, the name counts anew (once)"
