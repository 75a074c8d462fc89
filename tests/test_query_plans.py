"""The hot reads of a big tenant are served by indexes (PostgreSQL's plans, pinned).

The statements are the ones the services send (captured from the engine), explained with sequential
scans switched off: a `Seq Scan` on leads or call_logs that remains means no index can answer it,
which is how a query that is fast on a new tenant becomes slow on a tenant with a million calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from leadcall.billing.usage import usage_report
from leadcall.calls.listing import CallFilters, list_calls
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.kit.pagination import encode_cursor
from leadcall.leads import service as leads
from tests.factories import TenantWorld

BIG_TABLES = ("leads", "call_logs", "usage_rollups")


async def _plans(app: FastAPI, work: Any) -> list[tuple[str, str]]:
    """(statement, plan) of every statement `work` sends that reads leads or call_logs."""
    engine = app.state.container.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and any(f" {t}" in statement for t in BIG_TABLES):
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with transaction(app.state.container.sessionmaker) as session:
            await work(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    plans = []
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in seen:
            rows = (await conn.exec_driver_sql("EXPLAIN " + statement, parameters)).all()
            plans.append((statement, "\n".join(r[0] for r in rows)))
    return plans


def _no_seq_scan(plans: list[tuple[str, str]]) -> None:
    assert plans, "no statement was captured"
    for statement, plan in plans:
        for table in BIG_TABLES:
            assert f"Seq Scan on {table}" not in plan, f"{statement}\n{plan}"


@pytest.fixture(autouse=True)
def _postgres_only(app: FastAPI) -> None:
    if app.state.container.engine.dialect.name != "postgresql":
        pytest.skip("query plans are pinned on PostgreSQL (the PostgreSQL pass of ./dev test)")


async def test_leads_list_search_and_deep_page_use_indexes(app: FastAPI, world: TenantWorld) -> None:
    scope = Scope(world.tenant_id)
    cursor = encode_cursor(datetime.now(UTC), world.lead_ids[0])

    async def work(session: Any) -> None:
        await leads.list_leads(session, scope, limit=50, cursor=None, search=None, status=None, owner_id=None,
                               organization_id=None)
        await leads.list_leads(session, scope, limit=50, cursor=cursor, search=None, status=None, owner_id=None,
                               organization_id=world.org_id)
        for q in ("navarro", "5550", "clínica dental", "example.com", "ab"):
            await leads.list_leads(session, scope, limit=50, cursor=None, search=q, status=None, owner_id=None,
                                   organization_id=None)

    _no_seq_scan(await _plans(app, work))


async def test_history_calls_list_and_usage_use_indexes(app: FastAPI, world: TenantWorld) -> None:
    scope = Scope(world.tenant_id)
    calls = app.state.call_service
    cursor = encode_cursor(datetime.now(UTC), "z")

    async def work(session: Any) -> None:
        await calls.history(session, scope, world.lead_ids[0], limit=20, cursor=None)
        await calls.history(session, scope, world.lead_ids[0], limit=20, cursor=cursor)
        await list_calls(session, scope, CallFilters(), limit=50, cursor=None)
        await list_calls(session, scope, CallFilters(outcome="interested"), limit=50, cursor=cursor)
        today = datetime.now(UTC).date()
        await usage_report(session, scope, period="month", start=today - timedelta(days=365), end=today,
                           currency="USD")
        await usage_report(session, Scope(world.tenant_id, world.org_id), period="day", start=date(2026, 1, 1),
                           end=date(2026, 1, 31), currency="USD")

    _no_seq_scan(await _plans(app, work))
