"""Background jobs: the embedded in-process runner and the arq (Redis) queue.

Jobs take ids, never objects, and are enqueued after the transaction that wrote their
data has committed (`core.db.on_commit`). Every job is idempotent, so the queue may
run it again after a crash without double effects.

Why arq for the distributed shape: it is asyncio-native (our code is async end to
end), small, runs on the Redis we already require, retries failed jobs, and its cron
jobs carry a per-run job id, so a periodic job runs once cluster-wide however many
workers are up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger("leadcall.jobs")

Handler = Callable[..., Awaitable[None]]


class JobQueue(Protocol):
    async def enqueue(self, name: str, *args: str) -> None: ...

    async def close(self) -> None: ...


class InProcessJobs:
    """Runs each job as a task of this process (embedded default)."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    async def enqueue(self, name: str, *args: str) -> None:
        handler = self.handlers[name]

        async def run() -> None:
            try:
                await handler(*args)
            except Exception:  # noqa: BLE001 - logged; the sweeper picks the work up again
                log.exception("job %s%s failed", name, args)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for the jobs started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()


class ArqJobs:
    """Enqueues into arq's Redis queue; `leadcall worker` processes run the jobs."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def enqueue(self, name: str, *args: str) -> None:
        # The job id makes a second enqueue of the same work a no-op while the first is pending.
        await self._pool.enqueue_job(name, *args, _job_id=f"{name}:{':'.join(args)}")

    async def close(self) -> None:
        await self._pool.aclose()
