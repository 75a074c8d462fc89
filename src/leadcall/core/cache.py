"""Short-lived caches with single-flight loading.

`get_or_load(key, ttl, load)` returns a fresh cached value, or runs `load` - and only
one `load` per key runs at a time however many callers ask; the others wait for its
result. The in-process implementation serves the embedded default; a Redis one
serves several processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from leadcall.kit.clock import Clock

T = TypeVar("T")


class Cache(Protocol):
    async def get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]]) -> T: ...

    async def invalidate(self, key: str) -> None: ...


class MemoryCache:
    def __init__(self, clock: Clock, max_entries: int = 10_000) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._max_entries = max_entries

    def _fresh(self, key: str) -> tuple[bool, Any]:
        entry = self._values.get(key)
        if entry is not None and entry[0] > self._clock.now():
            return True, entry[1]
        return False, None

    async def get_or_load(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[T]]) -> T:
        hit, value = self._fresh(key)
        if hit:
            return value  # type: ignore[no-any-return]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit, value = self._fresh(key)
            if hit:
                return value  # type: ignore[no-any-return]
            loaded = await load()
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = (self._clock.now() + ttl_seconds, loaded)
            return loaded

    async def invalidate(self, key: str) -> None:
        self._values.pop(key, None)
