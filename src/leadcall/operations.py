"""Operator routes: `GET /metrics`, Prometheus text for the bearer of `LEADCALL_METRICS_TOKEN`.

Without a token set the route is not served (404): metrics say how busy each status is across every
tenant, so they are never open to anyone by default. What the database and the queue hold is read at each
scrape (calls live, calls being confirmed by the reconciler, budget holds, the job queue's depth), so every
web process answers the same.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from leadcall.calls.models import LIVE, CallLog
from leadcall.core import metrics
from leadcall.core.db import transaction
from leadcall.core.deps import get_container
from leadcall.core.errors import LeadcallError, NotFound, Unauthenticated
from leadcall.core.jobs import JobQueue
from leadcall.core.redis_link import RedisUnavailable

metrics_router = APIRouter(tags=["operations"])


def plain_error(error: LeadcallError, headers: dict[str, str] | None = None) -> Response:
    """The JSON error itself: a scraper is no browser to send to the sign-in page (as pages' errors do)."""
    return JSONResponse(error.to_json(), status_code=error.status_code, headers=headers)


@metrics_router.get("/metrics", include_in_schema=False)
async def scrape(request: Request) -> Response:
    container = get_container(request)
    token = container.settings.metrics_token
    if token is None or not token.get_secret_value():
        return plain_error(NotFound("not found"))
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return plain_error(Unauthenticated("send 'Authorization: Bearer <the metrics token>'",
                                           code="metrics_token_required"), {"WWW-Authenticate": "Bearer"})
    async with transaction(container.read_sessionmaker) as session:
        rows = await session.execute(select(CallLog.status, func.count()).where(CallLog.status.in_(LIVE))
                                     .group_by(CallLog.status))
        counted = {str(status): int(count) for status, count in rows.all()}
        confirming = (await session.execute(select(func.count()).select_from(CallLog).where(
            CallLog.status.in_(LIVE), CallLog.confirming_since.is_not(None)))).scalar_one()
        holds = (await session.execute(select(CallLog.cost_currency, func.count(), func.sum(CallLog.reserved_cost))
                                       .where(CallLog.reserved_cost.is_not(None))
                                       .group_by(CallLog.cost_currency))).all()
    live = {status.value: counted.get(status.value, 0) for status in LIVE}
    others: list[metrics.ScrapeGauge] = [
        ("leadcall_calls_confirming", "Calls whose dial has no recorded answer, for the reconciler to confirm",
         [], {(): float(confirming)}),
        ("leadcall_budget_holds", "Live calls holding their estimated cost against a budget, by currency",
         ["currency"], {(str(cur or ""),): float(n) for cur, n, _ in holds}),
        ("leadcall_budget_held_amount", "The estimated cost held for live calls, by currency",
         ["currency"], {(str(cur or ""),): float(total or 0) for cur, _, total in holds}),
    ]
    jobs: JobQueue | None = getattr(request.app.state, "jobs", None)
    if jobs is not None:
        try:
            others.append(("leadcall_job_queue_depth", "Jobs waiting to start", [], {(): float(await jobs.depth())}))
        except RedisUnavailable:
            pass  # no depth to tell: /health says Redis is down
    return Response(metrics.exposition(live, others), media_type=CONTENT_TYPE_LATEST)
