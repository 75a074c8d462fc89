"""The routes that answer without a signed-in user. Everything else requires one."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from leadcall.calls.webhooks import router as webhooks_router
from leadcall.core.db import transaction
from leadcall.core.heartbeats import SWEEP, SWEEP_STALE_SECONDS
from leadcall.core.redis_events import RedisEventHub
from leadcall.operations import metrics_router
from leadcall.tenancy.router import public_router as auth_router

health_router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description='"ok", or "failing" with each problem said')
    database: str
    redis: str
    relay: str
    lastSweepSecondsAgo: float | None  # noqa: N815 - the wire name
    problems: list[str]


@health_router.get("/health", response_model=Health,
                   responses={503: {"model": Health, "description": "Failing: see `problems`"}})
async def health(request: Request, response: Response) -> dict[str, Any]:
    """For load balancers and operators: 200 "ok", or 503 "failing" with each problem said. Failing: the
    database (or Redis, where configured) cannot be reached; this process's live-event relay has lost Redis
    (its browsers get no live status until it subscribes again); or no worker has swept in the last minute
    (calls are then placed but neither polled nor reconciled, and stored webhooks wait)."""
    state = request.app.state
    problems: list[str] = []
    database = "ok"
    try:
        async with asyncio.timeout(5), transaction(state.container.read_sessionmaker) as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure here means the database cannot be used
        database = "unreachable"
        problems.append("the database cannot be reached")
    scaled_out = bool(state.container.settings.redis_url)
    redis = "ok" if scaled_out else "not used"
    last: float | None = None
    try:
        async with asyncio.timeout(5):
            last = await state.heartbeats.last(SWEEP)
    except Exception:  # noqa: BLE001 - only the Redis implementation can fail
        redis = "unreachable"
        problems.append("Redis cannot be reached")
    relay = "not used"
    if isinstance(state.events, RedisEventHub):
        relay = "ok" if state.events.relay_connected else "reconnecting"
        if relay != "ok":
            problems.append("live events do not reach this process's browsers: its relay lost Redis and is "
                            "subscribing again")
    now = state.container.clock.now()
    ago = max(0.0, now - last) if last is not None else None
    # Counted from this process's start at the earliest: a worker started with it has had no time to sweep yet.
    unseen_for = now - max(last if last is not None else 0.0, state.heartbeats.since)
    if redis != "unreachable" and unseen_for > SWEEP_STALE_SECONDS:
        problems.append("no worker has swept in the last minute: calls are not followed; start `leadcall worker`"
                        if scaled_out else
                        "the in-process worker has not swept in the last minute: calls are not followed")
    if problems:
        response.status_code = 503
    return {"status": "failing" if problems else "ok", "database": database, "redis": redis, "relay": relay,
            "lastSweepSecondsAgo": round(ago, 1) if ago is not None else None, "problems": problems}


PUBLIC_ROUTERS: list[APIRouter] = [health_router, auth_router, webhooks_router, metrics_router]
# The web app's sign-in pages and static files are public too (leadcall.web.public_router, /static).
