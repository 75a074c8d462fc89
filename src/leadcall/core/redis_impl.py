"""Redis implementations of the infrastructure interfaces, for several processes.

Chosen at start-up when LEADCALL_REDIS_URL is set: events go through pub/sub so any
web process can serve any browser; caches, single-flight loads and rate limits are
shared by every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import json
import pickle
import types
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis

from leadcall.core.events import Event, MemoryEventHub
from leadcall.kit.clock import Clock

T = TypeVar("T")
CHANNEL = "leadcall:events"

# Provider values are frozen dataclasses holding read-only mappings; let them travel.
def read_only(mapping: dict[str, object]) -> types.MappingProxyType[str, object]:
    return types.MappingProxyType(mapping)


copyreg.pickle(types.MappingProxyType, lambda m: (read_only, (dict(m),)))


class RedisEventHub:
    """Publishes to one Redis channel; each process relays what it hears to its local subscribers."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._local = MemoryEventHub()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._relay())
            await asyncio.wait_for(self._ready.wait(), 10)

    async def _relay(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        self._ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    with contextlib.suppress(ValueError, KeyError):
                        self._local.deliver(Event.from_json(message["data"]))
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def publish(self, event: Event) -> None:
        await self._redis.publish(CHANNEL, event.to_json())

    def subscribe(self, tenant_id: str, organization_id: str | None) -> AsyncIterator[Event]:
        return self._local.subscribe(tenant_id, organization_id)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._local.close()


class RedisCache:
    """Cached values in Redis; one loader per key cluster-wide (a Redis lock), the others wait and read."""

    def __init__(self, redis: Redis, prefix: str = "leadcall:cache:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]]) -> T:
        full = self._prefix + key
        for _ in range(200):
            raw = await self._redis.get(full)
            if isinstance(raw, bytes):
                value: T = pickle.loads(raw)  # noqa: S301 - values are our own frozen dataclasses
                return value
            token = uuid.uuid4().hex
            if await self._redis.set(full + ":lock", token, nx=True, px=15_000):
                try:
                    value = await load()
                    await self._redis.set(full, pickle.dumps(value), px=int(ttl_seconds * 1000))
                    return value
                finally:
                    if await self._redis.get(full + ":lock") == token.encode():
                        await self._redis.delete(full + ":lock")
            await asyncio.sleep(0.05)
        return await load()

    async def invalidate(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class RedisRateLimiter:
    """Sliding window in a sorted set per key, shared by every process."""

    def __init__(self, redis: Redis, clock: Clock) -> None:
        self._redis = redis
        self._clock = clock

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Adds first, then counts: two racing requests may both be refused, never both admitted over the limit."""
        now = self._clock.now()
        full = f"leadcall:rate:{key}"
        member = json.dumps([now, uuid.uuid4().hex])
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(full, 0, now - window_seconds)
        pipe.zadd(full, {member: now})
        pipe.zcard(full)
        pipe.zrange(full, 0, 0, withscores=True)
        pipe.expire(full, int(window_seconds) + 1)
        _, _, count, oldest, _ = await pipe.execute()
        if int(count) > limit:
            await self._redis.zrem(full, member)
            first = float(oldest[0][1]) if oldest else now
            return max(1.0, float(int(first + window_seconds - now + 0.999)))
        return None


def connect(url: str) -> Redis:
    client: Redis = Redis.from_url(url)
    return client


