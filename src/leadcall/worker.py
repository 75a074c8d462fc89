"""`leadcall worker`: an arq worker process for the distributed shape (PostgreSQL + Redis).

It runs the jobs the web processes enqueue (webhook processing, budget alert checks) and, as arq cron
jobs with one id per tick (so exactly one worker runs each tick cluster-wide), the
sweep: due polls, overdue calls (reconciliation), stored webhooks not yet processed,
retention. Everything a job does is idempotent; a worker killed mid-job leaves the
rows as they were and the next sweep or retry finishes the work.

It outlives Redis: started while Redis is down it waits for it; when Redis restarts,
freezes or goes away it keeps running, tries again with backoff and carries on once
Redis answers (arq alone would exit). Jobs lost with a Redis that kept no data are
found again by the sweep, which reads the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, cast

from arq import cron, func
from arq.typing import WorkerCoroutine
from arq.worker import Worker as ArqWorker

from leadcall.billing.service import ALERTS_JOB
from leadcall.calls.webhooks import process_delivery
from leadcall.campaigns.dispatcher import DISPATCH_JOB
from leadcall.core import metrics
from leadcall.core.observability import bind, configure_logging, running_job
from leadcall.core.redis_link import REDIS_FAILURES, reconnect_backoff
from leadcall.integrations.delivery import DELIVER_JOB
from leadcall.retention.archive import DELETE_CONVERSATIONS_JOB
from leadcall.runtime import Runtime, arq_pool, runtime
from leadcall.settings import Settings

log = logging.getLogger("leadcall.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings = Settings()
    configure_logging(settings.log_format)
    manager: AbstractAsyncContextManager[Runtime] = runtime(settings)
    ctx["runtime"] = await manager.__aenter__()
    ctx["runtime_manager"] = manager


async def shutdown(ctx: dict[str, Any]) -> None:
    manager = ctx.pop("runtime_manager", None)  # once, however the worker stops
    if manager is not None:
        await manager.__aexit__(None, None, None)


Job = Callable[..., Awaitable[None]]


def job(name: str) -> Callable[[Job], WorkerCoroutine]:
    """An arq job run as one `running_job` block: its lines carry the id of the request that enqueued it (the
    `carrier` keyword `ArqJobs.enqueue` sends), its time in the queue is counted in `leadcall_job_lag_seconds`."""

    def wrap(run: Job) -> WorkerCoroutine:
        @functools.wraps(run)
        async def wrapped(ctx: dict[str, Any], *args: str, carrier: dict[str, str] | None = None) -> None:
            enqueued = ctx.get("enqueue_time")
            if enqueued is not None:
                metrics.JOB_LAG.labels(name).observe(max(0.0, time.time() - enqueued.timestamp()))
            with running_job(name, carrier):
                await run(ctx, *args)

        return cast(WorkerCoroutine, wrapped)

    return wrap


@job("process_webhook")
async def process_webhook(ctx: dict[str, Any], delivery_id: str) -> None:
    await process_delivery(ctx["runtime"].calls, delivery_id)


@job(ALERTS_JOB)
async def check_budget_alerts(ctx: dict[str, Any], tenant_id: str, organization_id: str) -> None:
    with bind(tenant_id=tenant_id):
        await ctx["runtime"].billing.check_alerts(tenant_id, organization_id)


@job(DELETE_CONVERSATIONS_JOB)
async def delete_conversations(ctx: dict[str, Any], tenant_id: str) -> None:
    with bind(tenant_id=tenant_id):
        await ctx["runtime"].retention.delete_conversations(tenant_id)


@job(DELIVER_JOB)
async def deliver_webhooks(ctx: dict[str, Any], endpoint_id: str) -> None:
    await ctx["runtime"].webhooks.deliver_endpoint(endpoint_id)


@job(DISPATCH_JOB)
async def dispatch_campaigns(ctx: dict[str, Any]) -> None:
    await ctx["runtime"].dispatcher.dispatch(join=False)


@job("sweep")
async def sweep(ctx: dict[str, Any]) -> None:
    await ctx["runtime"].worker.run_once()


class Worker(ArqWorker):
    """arq's worker, made to outlive Redis: a poll that Redis fails is retried with backoff instead of
    ending the process."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._backoff = reconnect_backoff()
        self._failures = 0

    async def main(self) -> None:
        await self._wait_for_redis()
        await super().main()

    async def _wait_for_redis(self) -> None:
        failures = 0
        while True:
            try:
                await self.pool.ping()
                return
            except REDIS_FAILURES as exc:
                failures += 1
                if failures == 1:
                    log.warning("Redis is not answering (%s: %s); the worker waits for it", type(exc).__name__, exc)
                await asyncio.sleep(self._backoff.compute(failures))

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_FAILURES as exc:
            self._failures += 1
            if self._failures == 1:
                log.warning("Redis is not answering (%s: %s); the worker tries again with backoff",
                            type(exc).__name__, exc)
            await asyncio.sleep(self._backoff.compute(self._failures))
            return
        if self._failures:
            log.warning("Redis answers again after %d failed polls; the worker carries on", self._failures)
            self._failures = 0

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        for job_id in job_ids:
            if self.job_counter >= self.max_jobs:
                return
            try:
                await super().start_jobs([job_id])
            except REDIS_FAILURES:
                if job_id.decode() not in self.tasks:
                    # arq took a slot and counted the job before asking Redis; give both back, or a few
                    # outages would leave the worker unable to start any job.
                    self.job_counter -= 1
                    self.sem.release()
                raise

    async def close(self) -> None:
        try:
            await super().close()
        except REDIS_FAILURES as exc:
            log.warning("Redis did not answer while the worker stopped (%s); closing without it", exc)
            await shutdown(self.ctx)


def worker_options(settings: Settings) -> dict[str, Any]:
    if not settings.redis_url:
        raise RuntimeError("`leadcall worker` needs LEADCALL_REDIS_URL (the embedded default runs its worker "
                           "inside `leadcall serve`)")
    return {
        "functions": [func(process_webhook, name="process_webhook", max_tries=5),
                      func(check_budget_alerts, name=ALERTS_JOB, max_tries=5, keep_result=0),
                      func(delete_conversations, name=DELETE_CONVERSATIONS_JOB, max_tries=3, keep_result=0),
                      # Its deliveries keep their own schedule; a job that fails leaves leases that lapse.
                      func(deliver_webhooks, name=DELIVER_JOB, max_tries=1, keep_result=0),
                      func(dispatch_campaigns, name=DISPATCH_JOB, max_tries=1, keep_result=0)],
        "cron_jobs": [cron(sweep, name="sweep", second=set(range(60)), unique=True, run_at_startup=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_pool": arq_pool(settings.redis_url, settings.redis_timeout_seconds),
        "max_jobs": 50,
        "job_timeout": 120,
        "keep_result": 60,
    }
