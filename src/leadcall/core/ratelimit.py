"""Rate limits (sliding window). In-process for the embedded default; Redis for several processes."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from leadcall.kit.clock import Clock


@dataclass(frozen=True)
class Limit:
    """At most `limit` events per `window_seconds` under `key`."""

    key: str
    limit: int
    window_seconds: float


@dataclass(frozen=True)
class Refused:
    """Which of the limits refused (its index), and the seconds until it allows one event again."""

    index: int
    wait_seconds: float


class RateLimiter(Protocol):
    async def hit(self, *limits: Limit, event: str | None = None) -> Refused | None:
        """Counts one event against every limit, or against none: None when each allows it, else the first
        limit that refuses. So an event the team's limit refuses costs the user's limit nothing.
        `event` names the event for `forget`; an event of that name still counted is allowed again
        without counting twice (requests retrying one action are one event)."""
        ...

    async def forget(self, event: str, *limits: Limit) -> None:
        """Takes a counted event back out of every limit's window (it turned out not to be one)."""
        ...


def wait_for(oldest: float, window_seconds: float, now: float) -> float:
    return max(1.0, float(math.ceil(oldest + window_seconds - now)))


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._hits: dict[str, deque[tuple[float, str | None]]] = {}

    async def hit(self, *limits: Limit, event: str | None = None) -> Refused | None:
        now = self._clock.now()
        if event is not None and limits and any(
                hit == event and at > now - limits[0].window_seconds for at, hit in self._hits.get(limits[0].key, ())):
            return None
        windows = []
        for index, limit in enumerate(limits):
            hits = self._hits.setdefault(limit.key, deque())
            while hits and hits[0][0] <= now - limit.window_seconds:
                hits.popleft()
            if len(hits) >= limit.limit:
                return Refused(index, wait_for(hits[0][0], limit.window_seconds, now))
            windows.append(hits)
        for hits in windows:
            hits.append((now, event))
        return None

    async def forget(self, event: str, *limits: Limit) -> None:
        for limit in limits:
            hits = self._hits.get(limit.key)
            found = next((hit for hit in hits or () if hit[1] == event), None)
            if hits is not None and found is not None:
                hits.remove(found)
