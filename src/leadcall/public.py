"""The routes that answer without a signed-in user. Everything else requires one."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from leadcall.calls.webhooks import router as webhooks_router
from leadcall.core.db import transaction
from leadcall.core.heartbeats import SWEEP, SWEEP_STALE_SECONDS
from leadcall.tenancy.router import public_router as auth_router

health_router = APIRouter(tags=["health"])


@health_router.get("/health")
async def health(request: Request, response: Response) -> dict[str, Any]:
    """For load balancers and operators. 503 when the database (or Redis, where configured) cannot be
    reached. "degraded", still 200 since the web process itself serves, when no worker has swept in the
    last minute: calls are then neither polled nor reconciled, and stored webhooks wait."""
    state = request.app.state
    problems: list[str] = []
    database = "ok"
    try:
        async with asyncio.timeout(5), transaction(state.container.read_sessionmaker) as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure here means the database cannot be used
        database = "unreachable"
        problems.append("the database cannot be reached")
    redis = "ok" if state.container.settings.redis_url else "not used"
    last: float | None = None
    try:
        async with asyncio.timeout(5):
            last = await state.heartbeats.last(SWEEP)
    except Exception:  # noqa: BLE001 - only the Redis implementation can fail
        redis = "unreachable"
        problems.append("Redis cannot be reached")
    ago = max(0.0, state.container.clock.now() - last) if last is not None else None
    failing = bool(problems)
    if not failing and (ago is None or ago > SWEEP_STALE_SECONDS):
        problems.append("no worker has swept in the last minute: calls are not followed; start `leadcall worker`"
                        if state.container.settings.redis_url else
                        "the in-process worker has not swept in the last minute: calls are not followed")
    if failing:
        response.status_code = 503
    return {"status": "failing" if failing else "degraded" if problems else "ok", "database": database,
            "redis": redis, "lastSweepSecondsAgo": round(ago, 1) if ago is not None else None, "problems": problems}


PUBLIC_ROUTERS: list[APIRouter] = [health_router, auth_router, webhooks_router]
# The web app's sign-in pages and static files are public too (leadcall.web.public_router, /static).
