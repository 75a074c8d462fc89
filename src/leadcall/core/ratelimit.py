"""Rate limits (sliding window). In-process for the embedded default; Redis for several processes."""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

from leadcall.kit.clock import Clock


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Counts one event; returns None if allowed, else the seconds until one is allowed."""
        ...


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    async def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        now = self._clock.now()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window_seconds:
            hits.popleft()
        if len(hits) >= limit:
            return max(1.0, math.ceil(hits[0] + window_seconds - now))
        hits.append(now)
        return None
