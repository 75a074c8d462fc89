"""Work in flight in this process, and a wait for a quiet moment between it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    """Counts the units of some work running in this process (requests of one kind, say). Background work that
    should not compete with them waits for `quiet`: until none runs, but never longer than it says, so under
    an endless stream of them it still moves on."""

    def __init__(self) -> None:
        self._count = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def entered(self) -> Iterator[None]:
        self._count += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._quiet.set()

    async def quiet(self, at_most_seconds: float) -> None:
        if self._count == 0:
            return
        try:
            async with asyncio.timeout(at_most_seconds):
                await self._quiet.wait()
        except TimeoutError:
            pass
