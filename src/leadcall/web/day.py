"""The seller's day (/today): their callbacks due today and the overdue ones (each in the seller's time and the
lead's, one click from the call), the leads they called today, and their recent results. Everything is the
viewer's own (their callbacks, their calls) within what their role may see, as the API scopes it; "today" is the
tenant's calendar day (its time zone, else UTC), named on the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls import listing
from leadcall.calls.schemas import CallLog
from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.core.errors import NotFound
from leadcall.core.scoping import Scope
from leadcall.leads import service as leads
from leadcall.tenancy import service as tenancy
from leadcall.web.auth import PagePrincipal, page_principal
from leadcall.web.forms import PageRoute
from leadcall.web.rendering import LIVE_STATUSES, as_utc, language_of, render
from leadcall.web.scheduling import CallbackView, scheduling_of, view

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)

CALLS_READ = 100  # today's calls of one seller read at most (a page of the API's listing)
RECENT_DAYS = 7
RECENT_SHOWN = 10


@dataclass(frozen=True)
class CalledLead:
    """A lead the seller called today: its latest call of the day and how many calls it had."""

    lead_id: str
    lead_name: str | None
    call: CallLog
    calls: int


@dataclass(frozen=True)
class Result:
    lead_id: str
    lead_name: str | None
    call: CallLog


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def _names(session: AsyncSession, scope: Scope, lead_ids: list[str]) -> dict[str, str | None]:
    """The names of the leads, within the viewer's scope (an erased lead's is None); a lead out of scope is left
    out."""
    names: dict[str, str | None] = {}
    for lead_id in dict.fromkeys(lead_ids):
        try:
            lead = await leads.get_lead(session, scope, lead_id)
        except NotFound:
            continue
        names[lead_id] = None if lead.erased_at else lead.name
    return names


@router.get("/today")
async def my_day(request: Request, principal: PagePrincipal, session: DbSession, now: Now) -> Response:
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    zone = _zone(tenant.timezone)
    today = as_utc(now).astimezone(zone).date()
    start = datetime.combine(today, time(0), zone)
    end = start + timedelta(days=1)
    lang = language_of(request, principal)

    rows = await scheduling_of(request).open_for_day(session, principal, end)
    called = await listing.list_calls(session, principal.scope, listing.CallFilters(
        since=start, user_id=principal.user_id), limit=CALLS_READ, cursor=None)
    recent = await listing.list_calls(session, principal.scope, listing.CallFilters(
        since=start - timedelta(days=RECENT_DAYS - 1), user_id=principal.user_id), limit=CALLS_READ, cursor=None)
    names = await _names(session, principal.scope, [r.lead_id for r in rows] + [c.lead_id for c in recent.items])

    callbacks: list[CallbackView] = [view(lang, r, names[r.lead_id] or "") for r in rows if r.lead_id in names]
    by_lead: dict[str, list[CallLog]] = {}
    for call in called.items:  # newest first
        by_lead.setdefault(call.lead_id, []).append(call)
    called_leads = [CalledLead(lead_id, names.get(lead_id), calls[0], len(calls))
                    for lead_id, calls in by_lead.items() if lead_id in names]
    results = [Result(c.lead_id, names.get(c.lead_id), c) for c in recent.items
               if c.status.value not in LIVE_STATUSES and c.lead_id in names][:RECENT_SHOWN]
    return render(request, "day.html", principal, callbacks=callbacks, called=called_leads, results=results,
                  overdue=sum(1 for c in callbacks if c.due_at < as_utc(now)),
                  today_text=format_date(today, "full", locale=lang), zone=getattr(zone, "key", "UTC"),
                  now=as_utc(now))
