"""Usage reports: cost, minutes and calls by period, organization, agent, user and outcome."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.billing import schemas
from leadcall.calls.models import UsageRollup
from leadcall.calls.rollups import COST_UNITS
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


def _period_of_day(session: AsyncSession, period: str) -> ColumnElement[str]:
    """`period_key` of a rollup's day (a UTC day; weeks start on Monday), computed by the database.
    SQLite keeps dates as ISO text, PostgreSQL as date."""
    day = UsageRollup.day
    if session.get_bind().dialect.name == "postgresql":
        if period == "week":
            return func.to_char(func.date_trunc("week", day), "YYYY-MM-DD")
        return func.to_char(day, "YYYY-MM-DD" if period == "day" else "YYYY-MM")
    if period == "week":
        return func.date(day, "-6 days", "weekday 1")
    return func.substr(day, 1, 10 if period == "day" else 7)


def _row() -> list[int]:
    return [0, 0, 0, 0]  # calls, answered, seconds, cost in ten-thousandths


async def usage_report(session: AsyncSession, scope: Scope, *, period: str, start: date, end: date,
                       currency: str) -> schemas.Usage:
    if period not in PERIODS:
        raise Invalid(f"period must be one of {', '.join(PERIODS)}", extra={"field": "period"})
    if end < start:
        raise Invalid("'to' is before 'from'", extra={"field": "to"})
    if (end - start).days > MAX_DAYS:
        raise Invalid(f"ask for at most {MAX_DAYS} days at a time", extra={"field": "to"})
    r = UsageRollup
    when = _period_of_day(session, period)
    # The report's days are whole UTC days, so it reads the daily rollups (calls/rollups.py keeps them exact)
    # instead of the calls: a year of a big tenant is a million calls but some tens of thousands of rollup
    # rows. Each call is in one row of each dimension, so the totals, periods and organizations are
    # those of the outcome rows.
    stmt = (select(when, r.organization_id, r.dimension, r.key, r.label, func.sum(r.calls), func.sum(r.answered),
                   func.sum(r.seconds), func.sum(r.cost_units))
            .where(r.tenant_id == scope.tenant_id, r.day >= start, r.day <= end, r.calls != 0)
            .group_by(when, r.organization_id, r.dimension, r.key, r.label))
    if scope.organization_id is not None:
        stmt = stmt.where(r.organization_id == scope.organization_id)
    rows = (await session.execute(stmt)).all()
    orgs = {o.id: o.name for o in (await session.execute(
        select(Organization).where(Organization.tenant_id == scope.tenant_id))).scalars()}
    users = {u.id: u.name for u in (await session.execute(select(User).where(User.tenant_id == scope.tenant_id))).scalars()}
    groups: dict[str, dict[str, list[int]]] = {k: defaultdict(_row) for k in
                                               ("period", "organization", "agent", "user", "outcome")}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    total = _row()
    for period_of, organization_id, dimension, key, label, calls, answered_calls, seconds, units in rows:
        figures = (int(calls), int(answered_calls or 0), int(seconds or 0), int(units or 0))
        targets: list[list[int]]
        if dimension == "outcome":
            labels["organization"][organization_id] = orgs.get(organization_id, organization_id)
            targets = [total, groups["period"][str(period_of)], groups["organization"][organization_id],
                       groups["outcome"][key]]
        elif dimension == "agent":
            labels["agent"][key] = label or labels["agent"].get(key) or key
            targets = [groups["agent"][key]]
        else:
            user = key or "-"
            labels["user"][user] = users.get(key, "(deleted user)")
            targets = [groups["user"][user]]
        for target in targets:
            for i, value in enumerate(figures):
                target[i] += value

    def line(key: str, label: str, v: list[int]) -> schemas.UsageLine:
        return schemas.UsageLine(key=key, label=label, calls=v[0], answered=v[1], minutes=round(v[2] / 60, 2),
                                 cost=round(v[3] / COST_UNITS, 4))

    def lines(group: str) -> list[schemas.UsageLine]:
        items = sorted(groups[group].items(), key=lambda kv: kv[0] if group == "period" else -kv[1][3])
        return [line(k, labels[group].get(k, k), v) for k, v in items]

    return schemas.Usage(
        currency=currency, period=period, start=start, end=end, total=line("total", "total", total),
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
