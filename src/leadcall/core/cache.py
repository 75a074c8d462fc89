"""Short-lived caches with single-flight loading.

`get_or_load(key, ttl, load)` returns a fresh cached value, or runs `load` - and only
one `load` per key runs at a time however many callers ask; the others wait for its
result. With `stale_seconds`, a value past its `ttl` but younger than `ttl +
stale_seconds` is still answered at once while one refresh runs in the background
(stale-while-revalidate): a slow or failing provider then delays nobody, and a failed
refresh keeps the previous value. The in-process implementation serves the embedded
default; a Redis one serves several processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from leadcall.kit.clock import Clock

T = TypeVar("T")
log = logging.getLogger("leadcall.cache")


class Cache(Protocol):
    async def get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]], *,
                          stale_seconds: float = 0.0) -> T: ...

    async def invalidate(self, key: str) -> None: ...


class BackgroundRefreshes:
    """At most one background refresh per key; a failing one is logged and leaves the old value."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[object]] = {}

    def start(self, key: str, refresh: Callable[[], Awaitable[object]]) -> None:
        if key in self._running:
            return

        async def run() -> object:
            return await refresh()

        task = asyncio.get_running_loop().create_task(run(), name=f"cache-refresh:{key}")
        self._running[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: str, task: asyncio.Task[object]) -> None:
        self._running.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.warning("refreshing the cached %s failed (%s); the previous value is served until it expires",
                        key.split(":", 1)[0], type(task.exception()).__name__)

    async def wait(self) -> None:
        """Until the refreshes running now have ended (tests)."""
        await asyncio.gather(*self._running.values(), return_exceptions=True)


class MemoryCache:
    def __init__(self, clock: Clock, max_entries: int = 10_000) -> None:
        self._clock = clock
        # key → (fresh until, served until, value)
        self._values: dict[str, tuple[float, float, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._generations: dict[str, int] = {}  # bumped by invalidate(): a load begun before it is not kept
        self._max_entries = max_entries
        self.refreshes = BackgroundRefreshes()

    async def get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]], *,
                          stale_seconds: float = 0.0) -> T:
        entry = self._values.get(key)
        now = self._clock.now()
        if entry is not None and now < entry[0]:
            return entry[2]  # type: ignore[no-any-return]
        if entry is not None and now < entry[1]:
            self.refreshes.start(key, lambda: self._load(key, ttl_seconds, stale_seconds, load))
            return entry[2]  # type: ignore[no-any-return]
        return await self._load(key, ttl_seconds, stale_seconds, load)

    async def _load(self, key: str, ttl_seconds: float, stale_seconds: float, load: Callable[[], Awaitable[T]]) -> T:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._values.get(key)
            if entry is not None and self._clock.now() < entry[0]:
                return entry[2]  # type: ignore[no-any-return]  # loaded by whoever held the lock
            generation = self._generations.get(key, 0)
            loaded = await load()
            if generation != self._generations.get(key, 0):
                return loaded
            if len(self._values) >= self._max_entries:
                self._values.clear()
                self._generations.clear()
            now = self._clock.now()
            self._values[key] = (now + ttl_seconds, now + ttl_seconds + stale_seconds, loaded)
            return loaded

    async def invalidate(self, key: str) -> None:
        self._values.pop(key, None)
        self._generations[key] = self._generations.get(key, 0) + 1
