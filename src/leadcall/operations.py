"""Operator routes: `GET /metrics`, Prometheus text for the bearer of `LEADCALL_METRICS_TOKEN`.

Without a token set the route is not served (404): metrics say how busy each status is across every
tenant, so they are never open to anyone by default.
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
    live = {status.value: counted.get(status.value, 0) for status in LIVE}
    return Response(metrics.exposition(live), media_type=CONTENT_TYPE_LATEST)
