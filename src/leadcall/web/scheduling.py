"""Pages of the follow-through: a lead's callbacks in its panel, the "Callbacks due" list on the leads page
(one click from the call), the interested-lead notice and the tenant's auto/manual setting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.leads import service as leads
from leadcall.scheduling.models import OPEN, Callback, CallbackMode
from leadcall.scheduling.schemas import CallbackCreate
from leadcall.scheduling.service import SchedulingService
from leadcall.tenancy.principal import Permission, Principal
from leadcall.web.auth import AdminPage, PagePrincipal, page_principal
from leadcall.web.forms import PageRoute, field_problem
from leadcall.web.i18n import translate, translate_problem
from leadcall.web.rendering import as_utc, language_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)
ENDED_SHOWN = 3


def scheduling_of(request: Request) -> SchedulingService:
    service: SchedulingService = request.app.state.scheduling
    return service


@dataclass(frozen=True)
class CallbackView:
    id: str
    lead_id: str
    lead_name: str
    status: str
    mode: str
    due_at: datetime
    due_lead_text: str
    timezone: str
    note: str | None
    moved: str | None
    reason: str | None
    is_open: bool
    can_call: bool


MOVED = {"callback_time_past": "callbacks.moved_past", "callback_time_unreadable": "callbacks.moved_unreadable",
         "outside_calling_hours": "callbacks.moved_hours", "attempts_exhausted": "callbacks.moved_attempts"}
REASONS = {"called_otherwise": "callbacks.reason_called_otherwise", "number_on_dnc": "callbacks.reason_number_on_dnc",
           "lead_archived": "callbacks.reason_lead_archived", "canceled_by_user": "callbacks.reason_canceled_by_user",
           "seller_unavailable": "callbacks.reason_seller_unavailable"}


def _moved_text(lang: str, row: Callback) -> str | None:
    if not row.moved_code:
        return None
    due = str((row.moved_params or {}).get("dueLocal", ""))
    return translate(lang, MOVED.get(row.moved_code, "callbacks.moved_hours"), due=due)


def _reason_text(lang: str, row: Callback) -> str | None:
    if not row.reason_code:
        return None
    if row.reason_code in REASONS:
        return translate(lang, REASONS[row.reason_code])
    # A refused placement (missed): the refusal's own words, when the catalog has them.
    return translate_problem(lang, row.reason_code, row.reason or row.reason_code)


def view(lang: str, row: Callback, lead_name: str) -> CallbackView:
    zone = ZoneInfo(row.lead_timezone)
    reason = _reason_text(lang, row)
    return CallbackView(id=row.id, lead_id=row.lead_id, lead_name=lead_name, status=row.status, mode=row.mode,
                        due_at=as_utc(row.due_at), due_lead_text=f"{as_utc(row.due_at).astimezone(zone):%Y-%m-%d %H:%M}",
                        timezone=row.lead_timezone, note=row.note, moved=_moved_text(lang, row), reason=reason,
                        is_open=row.status in OPEN, can_call=row.status in OPEN and bool(row.agent_id))


async def _lead_callbacks(request: Request, principal: Principal, session: AsyncSession, lead_id: str,
                          message: str | None = None) -> Response:
    lead = await leads.get_lead(session, principal.scope, lead_id)
    rows = await scheduling_of(request).listing(session, principal, due=None, lead_id=lead_id)
    lang = language_of(request, principal)
    opened = [view(lang, r, lead.name) for r in rows if r.status in OPEN]
    ended = [view(lang, r, lead.name) for r in sorted(rows, key=lambda r: r.updated_at, reverse=True)
             if r.status not in OPEN][:ENDED_SHOWN]
    return render(request, "_lead_callbacks.html", principal, lead=lead, opened=opened, ended=ended,
                  message=message)


@router.get("/leads/{lead_id}/callbacks")
async def lead_callbacks(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    return await _lead_callbacks(request, principal, session, lead_id)


@router.post("/leads/{lead_id}/callbacks")
async def schedule_callback(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                            at: str = Form(""), note: str = Form("")) -> Response:
    principal.require(Permission.place_calls)
    try:
        wanted = datetime.fromisoformat(at.strip())
    except ValueError as exc:
        raise RequestValidationError([field_problem("at", "datetime_parsing",
                                                    "the callback's time is not a date and time")]) from exc
    body = CallbackCreate.model_validate({"at": wanted, "note": note.strip() or None})
    await scheduling_of(request).create(session, principal, lead_id, body, now)
    lang = language_of(request, principal)
    return await _lead_callbacks(request, principal, session, lead_id, message=translate(lang, "callbacks.scheduled"))


@router.post("/callbacks/{callback_id}/cancel")
async def cancel_callback(callback_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                          now: Now) -> Response:
    principal.require(Permission.place_calls)
    row = await scheduling_of(request).cancel(session, principal, callback_id, now)
    lang = language_of(request, principal)
    return await _lead_callbacks(request, principal, session, row.lead_id, message=translate(lang, "callbacks.canceled"))


async def _due(request: Request, principal: Principal, session: AsyncSession) -> list[CallbackView]:
    rows = await scheduling_of(request).due_for(session, principal)
    lang = language_of(request, principal)
    names: dict[str, str] = {}
    for row in rows:
        if row.lead_id not in names:
            names[row.lead_id] = (await leads.get_lead(session, principal.scope, row.lead_id)).name
    return [view(lang, r, names[r.lead_id]) for r in rows]


@router.get("/callbacks/due")
async def callbacks_due(request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    return render(request, "_callbacks_due.html", principal, due=await _due(request, principal, session))


@router.post("/callbacks/{callback_id}/call")
async def call_back(callback_id: str, request: Request, principal: PagePrincipal) -> Response:
    """The owner's one click on a due callback: placed with its agent, then the lead's panel shows the call."""
    principal.require(Permission.place_calls)
    service = scheduling_of(request)
    await service.place_now(principal, callback_id)
    async with service.sessionmaker() as session:
        row = await service.listing(session, principal, due=None)
        lead_id = next((r.lead_id for r in row if r.id == callback_id), None)
    return Response(status_code=204, headers={"HX-Redirect": f"/leads/{lead_id}" if lead_id else "/"})


@router.get("/callbacks/interested")
async def interested_toast(request: Request, principal: PagePrincipal, session: DbSession,
                           lead_id: str = "") -> Response:
    """A lead just said it is interested (heard over SSE): a notice naming it, for its owner (for everyone who
    may see it when it has none)."""
    lead = await leads.get_lead(session, principal.scope, lead_id)
    if lead.owner_id is not None and lead.owner_id != principal.user_id:
        return Response(status_code=204)  # the notice is the owner's (htmx swaps nothing)
    lang = language_of(request, principal)
    return render(request, "_toast.html", principal, title=translate(lang, "callbacks.interested_title"),
                  message=translate(lang, "callbacks.interested", name=lead.name), kind="ok")


# -- the tenant's setting ------------------------------------------------------------------------------------


async def _settings(request: Request, principal: Principal, session: AsyncSession, message: str | None = None
                    ) -> Response:
    mode = await scheduling_of(request).mode_of(session, principal.tenant_id)
    return render(request, "_callback_settings.html", principal, mode=mode.value, modes=[m.value for m in CallbackMode],
                  message=message)


@router.get("/settings/callbacks")
async def callback_settings(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return await _settings(request, principal, session)


@router.post("/settings/callbacks")
async def save_callback_settings(request: Request, principal: AdminPage, session: DbSession,
                                 mode: str = Form("")) -> Response:
    if mode not in {m.value for m in CallbackMode}:
        raise RequestValidationError([field_problem("mode", "enum", "choose auto or manual", expected="auto, manual")])
    await scheduling_of(request).set_mode(session, principal.tenant_id, CallbackMode(mode))
    return await _settings(request, principal, session, message=translate(language_of(request, principal),
                                                                           "notice.saved"))
