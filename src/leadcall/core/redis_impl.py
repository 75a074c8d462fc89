"""Redis implementations of the infrastructure interfaces, for several processes.

Chosen at start-up when LEADCALL_REDIS_URL is set: caches, single-flight loads, rate
limits and heartbeats are shared by every process (live events: core.redis_events).
Every command goes through the process's RedisLink (deadlines, fail-fast while Redis
is down); what a failure means is said per interface below.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import hashlib
import hmac
import logging
import pickle
import types
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from leadcall.core.cache import BackgroundRefreshes, MemoryCache
from leadcall.core.ratelimit import Limit, Refused, wait_for
from leadcall.core.redis_link import RedisLink, RedisUnavailable
from leadcall.kit.clock import Clock

log = logging.getLogger("leadcall.cache")

T = TypeVar("T")

# Provider values are frozen dataclasses holding read-only mappings; let them travel.
def read_only(mapping: dict[str, object]) -> types.MappingProxyType[str, object]:
    return types.MappingProxyType(mapping)


copyreg.pickle(types.MappingProxyType, lambda m: (read_only, (dict(m),)))


# Stores the loaded value only if this loader still holds the key's lock (an invalidate() in
# the meantime deletes the lock, so a value loaded before it is not kept), then frees the lock.
_STORE_IF_LOCKED = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
end
"""
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end"


class RedisCache:
    """Cached values in Redis; one loader per key cluster-wide (a Redis lock), the others wait and read.

    A value is stored with the time it stops being fresh and lives in Redis for its
    stale period too, so any process can answer with it while one refreshes it.

    Values are pickled (our own frozen dataclasses) and signed with a key every process
    derives from LEADCALL_SECRET_KEYS: a value someone else wrote into Redis is never
    unpickled, only treated as missing.

    While Redis does not answer, values come from this process's own memory cache (loaded
    from the source once per process, not once per request) and an invalidation drops the
    memory copy; the one in Redis, if Redis kept it, expires by itself.
    """

    def __init__(self, link: RedisLink, clock: Clock, signing_key: bytes,
                 prefix: str = "leadcall:cache:v3:") -> None:
        self._link = link
        self._clock = clock
        self._key = signing_key
        self._prefix = prefix
        self._fallback = MemoryCache(clock, max_entries=1_000)
        self.refreshes = BackgroundRefreshes()

    def _seal(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest() + payload

    def _open(self, raw: bytes) -> tuple[float, float, Any] | None:
        mac, payload = raw[:32], raw[32:]
        if not hmac.compare_digest(mac, hmac.new(self._key, payload, hashlib.sha256).digest()):
            log.warning("ignoring a cache value in Redis that is not signed with this deployment's key")
            return None
        fresh_until, served_until, value = pickle.loads(payload)  # noqa: S301 - signed by us
        return float(fresh_until), float(served_until), value

    async def get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]], *,
                          stale_seconds: float = 0.0) -> T:
        try:
            return await self._get_or_load(key, ttl_seconds, load, stale_seconds)
        except RedisUnavailable:
            return await self._fallback.get_or_load(key, ttl_seconds, load, stale_seconds=stale_seconds)

    async def _get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]],
                           stale_seconds: float) -> T:
        full = self._prefix + key
        redis = self._link.redis
        for _ in range(200):
            raw = await self._link.call(lambda: redis.get(full))
            entry = self._open(raw) if isinstance(raw, bytes) else None
            if entry is not None:
                fresh_until, served_until, value = entry
                now = self._clock.now()
                if now < fresh_until:
                    return value  # type: ignore[no-any-return]
                if now < served_until:
                    self.refreshes.start(key, lambda: self._load(full, ttl_seconds, stale_seconds, load))
                    return value  # type: ignore[no-any-return]
            loaded = await self._load(full, ttl_seconds, stale_seconds, load)
            if loaded is not _BUSY:
                return loaded  # type: ignore[return-value]
            await asyncio.sleep(0.05)  # another process is loading it: read its result
        return await load()

    async def _load(self, full: str, ttl_seconds: float, stale_seconds: float,
                    load: Callable[[], Awaitable[T]]) -> T | object:
        """Loads and stores the value if no other process is loading it (else _BUSY). Once `load` has run,
        its value is answered even if Redis fails to store it."""
        token = uuid.uuid4().hex
        redis = self._link.redis
        if not await self._link.call(lambda: redis.set(full + ":lock", token, nx=True, px=15_000)):
            return _BUSY
        try:
            value = await load()
        except BaseException:
            with contextlib.suppress(RedisUnavailable):
                await self._script(_UNLOCK, [full + ":lock"], token)
            raise
        now = self._clock.now()
        payload = self._seal(pickle.dumps((now + ttl_seconds, now + ttl_seconds + stale_seconds, value)))
        with contextlib.suppress(RedisUnavailable):
            await self._script(_STORE_IF_LOCKED, [full, full + ":lock"], token, payload,
                               str(max(1, int((ttl_seconds + stale_seconds) * 1000))))
        return value

    async def _script(self, script: str, keys: list[str], *args: str | bytes) -> None:
        run: Any = self._link.redis.eval  # redis-py types arguments as str only; bytes are sent as they are
        await self._link.call(lambda: run(script, len(keys), *keys, *args))

    async def invalidate(self, key: str) -> None:
        await self._fallback.invalidate(key)
        full = self._prefix + key
        try:
            await self._link.call(lambda: self._link.redis.delete(full, full + ":lock"))
        except RedisUnavailable:
            log.warning("the cached %s could not be dropped from Redis (not answering); it expires by itself",
                        key.split(":", 1)[0])


_BUSY = object()


# Sliding windows in one sorted set per key; every limit is checked before any is counted (atomically).
# An event already counted (by name) is allowed again and counted once.
_HIT = """
local now, member = tonumber(ARGV[1]), ARGV[2]
local counted = redis.call('ZSCORE', KEYS[1], member)
if counted and tonumber(counted) > now - tonumber(ARGV[4]) then
  return {0, '0'}
end
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {i, oldest[2] or tostring(now)}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i])) + 1)
end
return {0, '0'}
"""


class RedisRateLimiter:
    """The same limits shared by every process: a Lua script checks every window, then counts the event in
    all of them or in none."""

    def __init__(self, link: RedisLink, clock: Clock) -> None:
        self._link = link
        self._clock = clock

    async def hit(self, *limits: Limit, event: str | None = None) -> Refused | None:
        """Raises RedisUnavailable (503) while Redis does not answer: a limit that cannot be checked is not
        waived."""
        now = self._clock.now()
        args: list[str] = [repr(now), event or uuid.uuid4().hex]
        for limit in limits:
            args += [str(limit.limit), repr(float(limit.window_seconds))]
        run: Any = self._link.redis.eval
        keys = [f"leadcall:rate:{limit.key}" for limit in limits]
        index, oldest = await self._link.call(lambda: run(_HIT, len(limits), *keys, *args))
        if int(index) == 0:
            return None
        refused = limits[int(index) - 1]
        return Refused(int(index) - 1, wait_for(float(oldest), refused.window_seconds, now))

    async def forget(self, event: str, *limits: Limit) -> None:
        """Best effort: while Redis does not answer the event stays counted (it leaves the window in time);
        the refusal that gives it back is answered as it is."""

        async def remove() -> None:
            async with self._link.redis.pipeline(transaction=True) as pipe:
                for limit in limits:
                    pipe.zrem(f"leadcall:rate:{limit.key}", event)
                await pipe.execute()

        try:
            await self._link.call(remove)
        except RedisUnavailable:
            log.warning("a refused placement could not be taken out of its rate limits: Redis is not answering")


class RedisHeartbeats:
    """The last run of each kind of background work, shared by every process (kept a day). Both raise
    RedisUnavailable while Redis does not answer (`/health` then says so)."""

    def __init__(self, link: RedisLink, clock: Clock, prefix: str = "leadcall:heartbeat:") -> None:
        self._link = link
        self._clock = clock
        self._prefix = prefix
        self.since = clock.now()

    async def beat(self, name: str) -> None:
        await self._link.call(lambda: self._link.redis.set(self._prefix + name, repr(self._clock.now()), ex=86_400))

    async def last(self, name: str) -> float | None:
        raw = await self._link.call(lambda: self._link.redis.get(self._prefix + name))
        return float(raw) if raw is not None else None
