"""`leadcall worker`: an arq worker process for the distributed shape (PostgreSQL + Redis).

It runs the jobs the web processes enqueue (webhook processing, budget alert checks) and, as arq cron
jobs with one id per tick (so exactly one worker runs each tick cluster-wide), the
sweep: due polls, overdue calls (reconciliation), stored webhooks not yet processed,
retention. Everything a job does is idempotent; a worker killed mid-job leaves the
rows as they were and the next sweep or retry finishes the work.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from leadcall.billing.service import ALERTS_JOB
from leadcall.calls.webhooks import process_delivery
from leadcall.retention.archive import DELETE_CONVERSATIONS_JOB
from leadcall.runtime import Runtime, runtime
from leadcall.settings import Settings


async def startup(ctx: dict[str, Any]) -> None:
    manager: AbstractAsyncContextManager[Runtime] = runtime(Settings())
    ctx["runtime_manager"] = manager
    ctx["runtime"] = await manager.__aenter__()


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["runtime_manager"].__aexit__(None, None, None)


async def process_webhook(ctx: dict[str, Any], delivery_id: str) -> None:
    await process_delivery(ctx["runtime"].calls, delivery_id)


async def check_budget_alerts(ctx: dict[str, Any], tenant_id: str, organization_id: str) -> None:
    await ctx["runtime"].billing.check_alerts(tenant_id, organization_id)


async def delete_conversations(ctx: dict[str, Any], tenant_id: str) -> None:
    await ctx["runtime"].retention.delete_conversations(tenant_id)


async def sweep(ctx: dict[str, Any]) -> None:
    await ctx["runtime"].worker.run_once()


def worker_settings(settings: Settings) -> dict[str, Any]:
    if not settings.redis_url:
        raise RuntimeError("`leadcall worker` needs LEADCALL_REDIS_URL (the embedded default runs its worker "
                           "inside `leadcall serve`)")
    return {
        "functions": [func(process_webhook, name="process_webhook", max_tries=5),
                      func(check_budget_alerts, name=ALERTS_JOB, max_tries=5, keep_result=0),
                      func(delete_conversations, name=DELETE_CONVERSATIONS_JOB, max_tries=3, keep_result=0)],
        "cron_jobs": [cron(sweep, name="sweep", second=set(range(60)), unique=True, run_at_startup=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "max_jobs": 50,
        "job_timeout": 120,
        "keep_result": 60,
    }
