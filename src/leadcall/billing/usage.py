"""Usage reports: cost, minutes and calls by period, organization, agent, user and outcome."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.billing import schemas
from leadcall.calls.models import CallLog
from leadcall.core.errors import Invalid
from leadcall.core.scoping import Scope
from leadcall.kit.spreadsheet import csv_text
from leadcall.tenancy.models import Organization, User

PERIODS = ("day", "week", "month")
MAX_DAYS = 400


def period_key(when: datetime, period: str) -> str:
    if period == "day":
        return when.date().isoformat()
    if period == "week":
        monday = when.date() - timedelta(days=when.weekday())
        return monday.isoformat()
    return when.strftime("%Y-%m")


def _period_of_call(session: AsyncSession, period: str) -> ColumnElement[str]:
    """`period_key` of a call's creation, computed by the database (UTC; weeks start on Monday).
    SQLite keeps UTC datetimes as ISO text, PostgreSQL as timestamptz."""
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone("UTC", CallLog.created_at)
        if period == "week":
            return func.to_char(func.date_trunc("week", utc), "YYYY-MM-DD")
        return func.to_char(utc, "YYYY-MM-DD" if period == "day" else "YYYY-MM")
    if period == "week":
        return func.date(CallLog.created_at, "-6 days", "weekday 1")
    return func.substr(CallLog.created_at, 1, 10 if period == "day" else 7)


def _row() -> dict[str, float]:
    return {"calls": 0, "answered": 0, "minutes": 0.0, "cost": 0.0}


async def usage_report(session: AsyncSession, scope: Scope, *, period: str, start: date, end: date,
                       currency: str) -> schemas.Usage:
    if period not in PERIODS:
        raise Invalid(f"period must be one of {', '.join(PERIODS)}", extra={"field": "period"})
    if end < start:
        raise Invalid("'to' is before 'from'", extra={"field": "to"})
    if (end - start).days > MAX_DAYS:
        raise Invalid(f"ask for at most {MAX_DAYS} days at a time", extra={"field": "to"})
    start_at = datetime(start.year, start.month, start.day, tzinfo=UTC)
    end_at = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    when = _period_of_call(session, period)
    outcome = func.coalesce(CallLog.sales_result, CallLog.phone_result, CallLog.status)
    answered = func.sum(case((CallLog.phone_result == "answered", 1), else_=0))
    # Grouped in the database (one row per period, organization, agent, user and outcome), not call by call:
    # a year of a big tenant is a million calls but a few thousand groups.
    stmt = (select(when, CallLog.organization_id, CallLog.agent_ref_id, CallLog.agent_name, CallLog.user_id,
                   outcome, func.count(), answered, func.sum(CallLog.duration_seconds), func.sum(CallLog.cost))
            .where(CallLog.tenant_id == scope.tenant_id, CallLog.created_at >= start_at, CallLog.created_at < end_at)
            .group_by(when, CallLog.organization_id, CallLog.agent_ref_id, CallLog.agent_name, CallLog.user_id,
                      outcome))
    if scope.organization_id is not None:
        stmt = stmt.where(CallLog.organization_id == scope.organization_id)
    rows = (await session.execute(stmt)).all()
    orgs = {o.id: o.name for o in (await session.execute(
        select(Organization).where(Organization.tenant_id == scope.tenant_id))).scalars()}
    users = {u.id: u.name for u in (await session.execute(select(User).where(User.tenant_id == scope.tenant_id))).scalars()}
    groups: dict[str, dict[str, dict[str, float]]] = {k: defaultdict(_row) for k in
                                                       ("period", "organization", "agent", "user", "outcome")}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    total = _row()
    for (period_of, organization_id, agent_ref_id, agent_name, user_id, outcome_of, calls, answered_calls, seconds,
         cost) in rows:
        keys = {"period": str(period_of), "organization": organization_id,
                "agent": agent_ref_id, "user": user_id or "-", "outcome": outcome_of}
        labels["organization"][organization_id] = orgs.get(organization_id, organization_id)
        labels["agent"][agent_ref_id] = agent_name or labels["agent"].get(agent_ref_id) or agent_ref_id
        labels["user"][user_id or "-"] = users.get(user_id or "", "(deleted user)")
        for target in [total, *(groups[g][k] for g, k in keys.items())]:
            target["calls"] += int(calls)
            target["answered"] += int(answered_calls or 0)
            target["minutes"] += float(seconds or 0) / 60
            target["cost"] += float(cost or 0)

    def lines(group: str) -> list[schemas.UsageLine]:
        items = sorted(groups[group].items(), key=lambda kv: kv[0] if group == "period" else -kv[1]["cost"])
        return [schemas.UsageLine(key=k, label=labels[group].get(k, k), calls=int(v["calls"]),
                                  answered=int(v["answered"]), minutes=round(v["minutes"], 2),
                                  cost=round(v["cost"], 4)) for k, v in items]

    return schemas.Usage(
        currency=currency, period=period, start=start, end=end,
        total=schemas.UsageLine(key="total", label="total", calls=int(total["calls"]), answered=int(total["answered"]),
                                minutes=round(total["minutes"], 2), cost=round(total["cost"], 4)),
        by_period=lines("period"), by_organization=lines("organization"), by_agent=lines("agent"),
        by_user=lines("user"), by_outcome=lines("outcome"))


def usage_csv(report: schemas.Usage) -> str:
    """The report as CSV; names come from users (organization, agent, user), so cells are spreadsheet-safe."""
    rows: list[list[object]] = [["group", "key", "label", "calls", "answered", "minutes", f"cost_{report.currency}"]]
    for group, lines in (("period", report.by_period), ("organization", report.by_organization),
                         ("agent", report.by_agent), ("user", report.by_user), ("outcome", report.by_outcome)):
        rows.extend([group, line.key, line.label, line.calls, line.answered, f"{line.minutes:.2f}", f"{line.cost:.4f}"]
                    for line in lines)
    t = report.total
    rows.append(["total", "total", "total", t.calls, t.answered, f"{t.minutes:.2f}", f"{t.cost:.4f}"])
    return csv_text(rows)
