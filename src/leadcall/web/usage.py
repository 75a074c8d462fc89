"""The usage page: cost and calls over a period the address names (`?period=this_month|last_month|last_30_days`,
or `?period=custom&from=YYYY-MM-DD&to=YYYY-MM-DD`), with a chart whose axes carry their values and units."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from babel.numbers import get_currency_symbol
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from leadcall.billing import usage as usage_reports
from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.tenancy import service as tenancy
from leadcall.web.auth import ReportsPage, page_principal
from leadcall.web.forms import PageRoute, field_problem, query_day
from leadcall.web.rendering import language_of, render
from leadcall.web.router import billing_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)

PERIODS = ("this_month", "last_month", "last_30_days", "custom")
DEFAULT_PERIOD = "last_30_days"
MAX_DAYS = 366
# The chart's drawing area inside its viewBox (room on the left for the cost axis, below for the days).
LEFT, TOP, WIDTH, HEIGHT = 72, 34, 620, 160
X_LABELS = 6


def period_range(period: str | None, from_: str | None, to: str | None, today: date) -> tuple[str, date, date]:
    """The period asked for, as (its name, first day, last day), both days included. Days given without a period
    name a custom range; a custom range needs both days, in order, at most MAX_DAYS long."""
    start, end = query_day(from_, "from"), query_day(to, "to")
    chosen = period or ("custom" if start or end else DEFAULT_PERIOD)
    if chosen not in PERIODS:
        raise RequestValidationError([field_problem("period", "enum", f"choose one of {', '.join(PERIODS)}",
                                                    expected=", ".join(PERIODS))])
    if chosen == "this_month":
        return chosen, today.replace(day=1), today
    if chosen == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return chosen, last.replace(day=1), last
    if chosen == "last_30_days":
        return chosen, today - timedelta(days=29), today
    problems = [field_problem(name, "missing", "a custom period needs both days")
                for name, day in (("from", start), ("to", end)) if day is None]
    if problems:
        raise RequestValidationError(problems)
    assert start is not None and end is not None
    if end < start:
        raise RequestValidationError([field_problem("to", "date_order", "the last day is before the first")])
    if (end - start).days + 1 > MAX_DAYS:
        raise RequestValidationError([field_problem("to", "range_too_long", f"at most {MAX_DAYS} days at a time",
                                                    max=MAX_DAYS)])
    return chosen, start, end


def _nice_step(value: float) -> float:
    """The smallest round step (1, 2 or 5 times a power of ten) at or above `value`."""
    if value <= 0:
        return 0.25
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= value - 1e-12)


@dataclass(frozen=True)
class Chart:
    bars: list[dict[str, Any]]
    y_ticks: list[dict[str, Any]]  # value, places, y
    x_ticks: list[dict[str, Any]]  # label, x
    unit: str  # the cost axis's currency, as the reader's language writes it


def chart(lines: list[Any], start: date, end: date, lang: str, currency: str) -> Chart:
    """One bar per day of the range (days without calls are zero) against a cost axis from 0 to a round top."""
    cost_by_day = {line.key: line.cost for line in lines}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    tick = _nice_step(max(cost_by_day.values(), default=0.0) / 4)  # four round steps up to the busiest day
    top = 4 * tick
    step = WIDTH / len(days)
    bars = []
    for i, day in enumerate(days):
        cost = cost_by_day.get(day.isoformat(), 0.0)
        h = round(cost / top * HEIGHT, 1)
        bars.append({"x": round(LEFT + i * step + 1, 1), "w": round(max(step - 2, 1), 1), "h": h,
                     "y": round(TOP + HEIGHT - h, 1), "label": format_date(day, "long", locale=lang), "cost": cost})
    places = len(f"{tick:.4f}".rstrip("0").split(".")[1])  # the decimals a step has (0.25 → 2, 50 → 0)
    y_ticks = [{"value": top * k / 4, "places": places, "y": round(TOP + HEIGHT - HEIGHT * k / 4, 1)}
               for k in range(5)]
    every = max(1, math.ceil(len(days) / X_LABELS))
    picked = sorted({*range(0, len(days), every), len(days) - 1})
    if len(picked) > 1 and picked[-1] - picked[-2] < every / 2:
        picked.pop(-2)  # the last day's label would overlap the one before it
    x_ticks = [{"label": format_date(days[i], "d MMM", locale=lang), "x": round(LEFT + (i + 0.5) * step, 1),
                "minor": n % 2 == 1 and n != len(picked) - 1} for n, i in enumerate(picked)]
    return Chart(bars, y_ticks, x_ticks, get_currency_symbol(currency, locale=lang))


@router.get("/usage")
async def usage_page(request: Request, principal: ReportsPage, session: DbSession, now: Now,
                     period: str | None = Query(default=None), from_: str | None = Query(default=None, alias="from"),
                     to: str | None = Query(default=None)) -> Response:
    chosen, start, end = period_range(period, from_, to, now.date())
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    report = await usage_reports.usage_report(session, principal.scope, period="day", start=start, end=end,
                                              currency=tenant.currency)
    billing = billing_of(request)
    budgets = await billing.statuses(session, principal.scope)
    alerts = await billing.recent_alerts(session, principal.scope)
    drawn = chart(report.by_period, start, end, language_of(request, principal), report.currency)
    return render(request, "usage.html", principal, report=report, chart=drawn, budgets=budgets, alerts=alerts,
                  periods=PERIODS, period=chosen, start=start, end=end,
                  box={"left": LEFT, "top": TOP, "width": WIDTH, "height": HEIGHT})
