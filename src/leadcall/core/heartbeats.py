"""When background work last ran, for `/health`: in-process for the embedded default, in Redis for several
processes (any web process can tell whether some `leadcall worker` is sweeping)."""

from __future__ import annotations

from typing import Protocol

from leadcall.kit.clock import Clock

SWEEP = "sweep"  # the worker's pass: polling, reconciliation, stored webhooks, retention, chores
SWEEP_STALE_SECONDS = 60.0  # a sweep runs every second or so; a minute without one means no worker runs


class Heartbeats(Protocol):
    since: float  # when this process began to watch (a worker started with it has had no time to beat yet)

    async def beat(self, name: str) -> None:
        """`name` ran just now."""
        ...

    async def last(self, name: str) -> float | None:
        """When `name` last ran (seconds since the epoch), or None if never."""
        ...


class MemoryHeartbeats:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}
        self.since = clock.now()

    async def beat(self, name: str) -> None:
        self._last[name] = self._clock.now()

    async def last(self, name: str) -> float | None:
        return self._last.get(name)
