"""Background jobs: the embedded in-process runner and the arq (Redis) queue.

Jobs take ids, never objects, and are enqueued after the transaction that wrote their
data has committed (`core.db.on_commit`). Every job is idempotent, so the queue may
run it again after a crash without double effects.

Each job carries a small carrier of the enqueuing request (its request id, and its trace context when
traces are on): the job's log lines name the request that asked for it, and its spans join the request's
trace (`observability.job_carrier` / `running_job`), in both runners.

Why arq for the distributed shape: it is asyncio-native (our code is async end to
end), small, runs on the Redis we already require, retries failed jobs, and its cron
jobs carry a per-run job id, so a periodic job runs once cluster-wide however many
workers are up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from arq.constants import default_queue_name

from leadcall.core import metrics
from leadcall.core.observability import job_carrier, running_job
from leadcall.core.redis_link import RedisLink, RedisUnavailable

log = logging.getLogger("leadcall.jobs")

Handler = Callable[..., Awaitable[None]]


class JobQueue(Protocol):
    async def enqueue(self, name: str, *args: str, unique: bool = True) -> None:
        """Run job `name` with `args` soon. `unique` (the default): while the same job with the same args is
        queued or running, this enqueue may add nothing. With `unique=False` it is dropped at most while an
        identical job has not started yet (that one will see everything committed before it)."""
        ...

    async def depth(self) -> int:
        """How many jobs wait to start now (`leadcall_job_queue_depth`)."""
        ...

    async def close(self) -> None: ...


class InProcessJobs:
    """Runs each job as a task of this process (embedded default). An enqueue is dropped while the same job
    with the same args waits to start, so a burst of identical jobs runs once or twice, never a hundred times.

    A job registered with `concurrency=n` runs at most n at a time, in the order enqueued (a lane): the rest
    wait their turn without a task of their own. Webhook processing runs so, one at a time: on SQLite every
    apply is a write that queues on the one writer lock, so more of them at once only push the requests'
    inserts further back in that queue, and one at a time they apply in arrival order."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self._limits: dict[str, int] = {}
        self._lanes: dict[str, deque[Callable[[], Awaitable[None]]]] = {}
        self._running: dict[str, int] = {}
        self._lane_workers: dict[str, set[asyncio.Task[None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[tuple[str, tuple[str, ...]]] = set()

    def register(self, name: str, handler: Handler, *, concurrency: int | None = None) -> None:
        self.handlers[name] = handler
        if concurrency is not None:
            self._limits[name] = concurrency
            self._lanes[name] = deque()
            self._running[name] = 0
            self._lane_workers[name] = set()

    async def enqueue(self, name: str, *args: str, unique: bool = True) -> None:
        handler = self.handlers[name]
        key = (name, args)
        if key in self._waiting:
            return
        self._waiting.add(key)
        carrier = job_carrier()
        enqueued = time.monotonic()

        async def run() -> None:
            self._waiting.discard(key)
            metrics.JOB_LAG.labels(name).observe(time.monotonic() - enqueued)
            try:
                with running_job(name, carrier):
                    await handler(*args)
            except Exception:  # noqa: BLE001 - logged; the sweeper picks the work up again
                log.exception("job %s%s failed", name, args)

        lane = self._lanes.get(name)
        if lane is None:
            self._start(run())
            return
        lane.append(run)
        if self._running[name] < self._limits[name]:
            self._running[name] += 1
            worker = self._start(self._work_lane(name))
            self._lane_workers[name].add(worker)
            worker.add_done_callback(self._lane_workers[name].discard)

    async def _work_lane(self, name: str) -> None:
        lane = self._lanes[name]
        try:
            while lane:
                await lane.popleft()()
        finally:
            self._running[name] -= 1

    def _start(self, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def depth(self) -> int:
        return len(self._waiting)

    async def drain_lane(self, name: str) -> None:
        """Waits for the jobs of one lane (a job registered with `concurrency`), queued so far or enqueued
        meanwhile, and for no other job (tests)."""
        while workers := self._lane_workers[name]:
            await asyncio.gather(*list(workers), return_exceptions=True)

    async def drain(self) -> None:
        """Waits for the jobs started or queued so far, and those they enqueue (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()


class ArqJobs:
    """Enqueues into arq's Redis queue; `leadcall worker` processes run the jobs.

    Jobs are enqueued after a commit, so an enqueue that Redis does not answer cannot fail the request
    whose work is already done: it is logged and dropped, and the worker's sweep does that work (stored
    webhooks not yet processed; every budget's alerts, every five minutes; queued deletions at ElevenLabs,
    hourly)."""

    def __init__(self, pool: Any, link: RedisLink) -> None:
        self._pool = pool
        self._link = link

    async def enqueue(self, name: str, *args: str, unique: bool = True) -> None:
        # The job id makes a second enqueue of the same work a no-op while the first is pending (arq also
        # refuses it while the first one's result is kept); without one, arq gives each enqueue its own id.
        job_id = f"{name}:{':'.join(args)}" if unique else None
        try:
            await self._link.call(lambda: self._pool.enqueue_job(name, *args, _job_id=job_id, carrier=job_carrier()))
        except RedisUnavailable:
            log.warning("job %s%s not enqueued: Redis is not answering; the worker's sweep will do its work",
                        name, args)

    async def depth(self) -> int:
        """The jobs in arq's queue (a sorted set by due time: those deferred count too)."""
        return int(await self._link.call(lambda: self._pool.zcard(default_queue_name)))

    async def close(self) -> None:
        await self._pool.aclose()
