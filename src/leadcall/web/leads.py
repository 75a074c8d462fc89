"""Pages for working a lead: create one, edit its details, status, owner and notes, and a call's notes
(written while it is live and after). The same service and
rules as the API's POST and PATCH (the phone validated and stored as E.164, an owner only from the lead's
team); the panel comes back re-rendered and the list refreshes itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from leadcall.calls.schemas import CallOutcomeUpdate
from leadcall.core.deps import DbSession, Now
from leadcall.leads import service as leads
from leadcall.leads.schemas import LeadCreate, LeadUpdate
from leadcall.tenancy.principal import Permission, Principal
from leadcall.web.auth import PagePrincipal, page_principal
from leadcall.web.forms import PageRoute
from leadcall.web.i18n import translate
from leadcall.web.rendering import language_of, render
from leadcall.web.router import _panel_context, calls_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal)], route_class=PageRoute)


def _fields(name: str, company: str, phone: str, email: str, notes: str, owner_id: str,
            status: str) -> dict[str, Any]:
    return {"name": name, "company": company, "phone": phone, "email": email, "notes": notes,
            "owner_id": owner_id.strip() or None, "status": status or None}


def _checked(model: type[LeadCreate] | type[LeadUpdate], fields: dict[str, Any]) -> Any:
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None or k == "owner_id"})
    except ValidationError as exc:  # worded per field in the page's language
        raise RequestValidationError(exc.errors()) from exc


async def _panel(request: Request, session: DbSession, principal: Principal, lead_id: str, now: Now,
                 notice: str, headers: dict[str, str]) -> Response:
    context = await _panel_context(request, session, principal, lead_id, now)
    return render(request, "_lead_panel.html", principal, headers={"HX-Trigger": "leadcall:leads", **headers},
                  record_notice=translate(language_of(request, principal), notice), **context)


@router.post("/leads/new")
async def create_lead(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                      name: str = Form(""), company: str = Form(""), phone: str = Form(""), email: str = Form(""),
                      notes: str = Form(""), owner_id: str = Form("")) -> Response:
    principal.require(Permission.edit_leads)
    data = _checked(LeadCreate, _fields(name, company, phone, email, notes, owner_id, ""))
    lead = await leads.create_lead(session, principal, data, now)
    # The address follows the lead that opens (a link to share, Back, a refresh).
    return await _panel(request, session, principal, lead.id, now, "lead.created_notice",
                        {"HX-Push-Url": f"/leads/{lead.id}"})


@router.post("/leads/{lead_id}/edit")
async def edit_lead(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                    name: str = Form(""), company: str = Form(""), phone: str = Form(""), email: str = Form(""),
                    notes: str = Form(""), owner_id: str = Form(""), status: str = Form("")) -> Response:
    principal.require(Permission.edit_leads)
    data = _checked(LeadUpdate, _fields(name, company, phone, email, notes, owner_id, status))
    await leads.update_lead(session, principal, lead_id, data, now)
    return await _panel(request, session, principal, lead_id, now, "notice.saved", {})


@router.post("/calls/{call_id}/notes")
async def save_call_notes(call_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                          notes: str = Form("")) -> Response:
    """The seller's notes on a call, live or ended (the same correction as the API's PATCH, notes only); the
    history shows them."""
    principal.require(Permission.place_calls)
    data = _checked_notes(notes)
    await calls_of(request).correct(session, principal, call_id, data)
    return render(request, "_notes_saved.html", principal, saved=True, headers={"HX-Trigger": "leadcall:history"})


def _checked_notes(notes: str) -> CallOutcomeUpdate:
    try:
        return CallOutcomeUpdate.model_validate({"notes": notes.strip() or None})
    except ValidationError as exc:  # worded per field in the page's language
        raise RequestValidationError(exc.errors()) from exc
