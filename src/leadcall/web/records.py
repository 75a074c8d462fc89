"""Pages for a lead's record: archive, restore and erase it (the lead panel), and the tenant's retention
(the settings page). The panel and settings body come back re-rendered; the lead list refreshes itself."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from leadcall.core.deps import DbSession, Now
from leadcall.retention import archive
from leadcall.retention import service as retention
from leadcall.retention.schemas import RetentionPolicyUpdate
from leadcall.tenancy.principal import Permission, Principal
from leadcall.web.auth import AdminPage, PagePrincipal, page_principal
from leadcall.web.forms import PageRoute, field_problem
from leadcall.web.i18n import translate
from leadcall.web.rendering import language_of, render
from leadcall.web.router import _panel_context
from leadcall.web.settings import section_body

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal)], route_class=PageRoute)


async def _panel(request: Request, session: DbSession, principal: Principal, lead_id: str, now: Now,
                 notice: str) -> Response:
    context = await _panel_context(request, session, principal, lead_id, now)
    return render(request, "_lead_panel.html", principal, headers={"HX-Trigger": "leadcall:leads"},
                  record_notice=translate(language_of(request, principal), notice), **context)


@router.post("/leads/{lead_id}/archive")
async def archive_lead(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                       now: Now) -> Response:
    principal.require(Permission.archive_leads)
    await archive.archive_lead(session, principal, lead_id, now)
    return await _panel(request, session, principal, lead_id, now, "lead.archived_notice")


@router.post("/leads/{lead_id}/restore")
async def restore_lead(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                       now: Now) -> Response:
    principal.require(Permission.archive_leads)
    await archive.restore_lead(session, principal, lead_id, now)
    return await _panel(request, session, principal, lead_id, now, "lead.restored_notice")


@router.post("/leads/{lead_id}/erase")
async def erase_lead(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                     now: Now) -> Response:
    principal.require(Permission.erase_leads)
    await archive.erase_lead(session, principal, lead_id, now, request.app.state.jobs)
    return await _panel(request, session, principal, lead_id, now, "lead.erased_notice")


@router.post("/settings/retention")
async def save_retention(request: Request, principal: AdminPage, session: DbSession,
                         retention_days: str = Form(""), delete_at_provider: str = Form("")) -> Response:
    principal.require(Permission.manage_retention)
    raw = retention_days.strip()
    if raw and not raw.isdigit():
        raise RequestValidationError([field_problem("retention_days", "int_parsing", "days must be a whole number "
                                                    "(or blank to keep everything)")])
    try:
        data = RetentionPolicyUpdate.model_validate({"days": int(raw) if raw else None,
                                                     "delete_at_provider": delete_at_provider == "on"})
    except ValidationError as exc:  # named as the form names its field
        raise RequestValidationError([{**e, "loc": ("body", "retention_days" if e["loc"] == ("days",) else
                                                    str(e["loc"][-1]))} for e in exc.errors()]) from exc
    await retention.put_policy(session, principal.tenant_id, data)
    return await section_body(request, principal, session, "calling", translate(language_of(request, principal),
                                                                       "notice.saved"))
