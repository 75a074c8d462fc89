"""The in-process worker of the embedded default.

The database is the queue: calls carry `next_check_at` (polling with backoff) and
`deadline_at` (reconciliation), stored webhooks carry `processed_at`. So a worker
that dies mid-call loses nothing: the next one picks up exactly where the rows say,
and every step is idempotent.

Other domains add their periodic chores (the budget alerts' safety net, retention) as `Chore`s,
run by the same sweep every so often.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from leadcall.calls import repository
from leadcall.calls.service import CallService
from leadcall.calls.webhooks import WEBHOOK_LEASE_SECONDS, process_delivery
from leadcall.core.db import transaction
from leadcall.core.observability import bind, running_job

log = logging.getLogger("leadcall.worker")


@dataclass(frozen=True)
class Chore:
    """Periodic work the sweep runs every `every_seconds` (the first time that long after the worker's first
    pass); returns the work it did."""

    name: str
    every_seconds: float
    run: Callable[[], Awaitable[int]]


class CallWorker:
    def __init__(self, service: CallService, *, interval_seconds: float = 1.0, chores: Sequence[Chore] = (),
                 heartbeat: Callable[[], Awaitable[None]] | None = None) -> None:
        self.service = service
        self.heartbeat = heartbeat  # told after every pass (what `/health` reads)
        self.interval = interval_seconds
        self.chores = list(chores)
        self._task: asyncio.Task[None] | None = None
        self._chores_due: list[float | None] = [None] * len(self.chores)

    async def run_once(self) -> int:
        """One pass: due polls, overdue calls, stored webhooks not yet processed. Returns work done."""
        with running_job("sweep", None):  # one id for the pass's lines (the arq job's, when it is one)
            return await self._run_once()

    async def _run_once(self) -> int:
        now = self.service.now()
        async with transaction(self.service.sessionmaker) as session:
            due = await repository.unscoped_due_calls(session, now)
            overdue = await repository.unscoped_overdue_calls(session, now)
            pending = await repository.unscoped_claim_pending_webhooks(
                session, now, now + timedelta(seconds=WEBHOOK_LEASE_SECONDS))
        for delivery_id in pending:
            await process_delivery(self.service, delivery_id)
        for call_id in due:
            await self._guarded(call_id, "poll")
        for call_id in overdue:
            if call_id not in due:
                await self._guarded(call_id, "reconcile")
        done = len(due) + len(overdue) + len(pending) + await self._run_chores()
        if self.heartbeat is not None:
            await self.heartbeat()
        return done

    async def run_chores(self) -> int:
        """Every chore now, whether due or not (tests)."""
        self._chores_due = [0.0] * len(self.chores)
        return await self._run_chores()

    async def _run_chores(self) -> int:
        done = 0
        now = self.service.clock.now()
        for index, chore in enumerate(self.chores):
            due = self._chores_due[index]
            if due is None or now < due:
                if due is None:  # the first pass only sets the timer
                    self._chores_due[index] = now + chore.every_seconds
                continue
            self._chores_due[index] = now + chore.every_seconds
            try:
                done += await chore.run()
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("chore %s failed", chore.name)
                self._chores_due[index] = 0.0
        return done

    async def _guarded(self, call_id: str, source: str) -> None:
        try:
            with bind(call_id=call_id):
                await self.service.check_call(call_id, source=source)
        except Exception:  # noqa: BLE001 - one bad call must not stop the others
            log.exception("checking call %s failed", call_id)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - keep the worker alive; the rows keep the state
                log.exception("worker pass failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
