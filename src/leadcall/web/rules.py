"""Pages of the calling rules: what the lead panel and the picker say before a seller presses Call,
and the page where managers keep the do-not-call list and admins set the calling hours and caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.core.errors import Invalid, NotFound
from leadcall.leads.models import DncSource, Lead
from leadcall.rules import records
from leadcall.rules.hours import DAYS
from leadcall.rules.regions import REGION_RULES
from leadcall.rules.schemas import CallingRulesPut
from leadcall.rules.service import RulesService, Verdict, load_rules, parse_zone, put_rules, tenant_zone
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.principal import Permission, Principal
from leadcall.web.auth import PagePrincipal, page_principal
from leadcall.web.forms import PageRoute
from leadcall.web.i18n import translate, translate_problem
from leadcall.web.rendering import language_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)


@dataclass(frozen=True)
class EligibilityView:
    """The verdict in the page's words: each refusal, and when a call would be allowed (lead's time and
    the seller's: the page turns the `<time data-local>` into the browser's zone)."""

    allowed: bool
    reasons: list[str]
    next_allowed_at: datetime | None
    next_lead_text: str | None
    timezone: str
    lead_now_text: str
    code: str | None
    codes: list[str]


def _reason(lang: str, code: str, detail: str, params: dict[str, Any]) -> str:
    if code == "attempts_exhausted":
        key = "rules.attempts_total" if params.get("window") == "total" else "rules.attempts_24h"
        return translate(lang, key, attempts=params.get("attempts", ""), limit=params.get("limit", ""))
    return translate_problem(lang, code, detail, params)


def eligibility_view(verdict: Verdict, lang: str) -> EligibilityView:
    zone = parse_zone(verdict.timezone)
    next_at = verdict.next_allowed_at
    return EligibilityView(
        allowed=verdict.allowed, reasons=[_reason(lang, r.code, r.detail, r.params) for r in verdict.refusals],
        next_allowed_at=next_at, next_lead_text=f"{next_at.astimezone(zone):%Y-%m-%d %H:%M}" if next_at and zone
        else None, timezone=verdict.timezone, lead_now_text=f"{verdict.local_time:%H:%M}",
        code=verdict.refusals[0].code if verdict.refusals else None, codes=[r.code for r in verdict.refusals])


async def eligibility_of(request: Request, principal: Principal, session: AsyncSession, lead: Lead,
                         now: datetime) -> EligibilityView:
    rules: RulesService = request.app.state.rules
    verdict = await rules.may_dial(session, lead, now, path="page")
    return eligibility_view(verdict, language_of(request, principal))


# -- the calling-rules page ----------------------------------------------------------------------------------


async def _page(request: Request, principal: Principal, session: DbSession, *, organization_id: str | None,
                q: str | None, message: str | None = None, kind: str = "ok",
                fragment: bool = False) -> Response:
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    rules = await load_rules(session, tenant.id, organization_id)
    hours = {day: ("", "") for day in DAYS}
    for w in rules.windows:
        wire = w.to_wire()
        for day in sorted(w.days):
            hours[DAYS[day]] = (str(wire["start"]), str(wire["end"]))
    dnc = await records.page(session, principal, search=q, cursor=None, limit=200)
    orgs = await tenancy.list_organizations(session, principal.tenant_scope)
    return render(request, "_rules_body.html" if fragment else "calling_rules.html", principal,
                  rules=rules, hours=hours, days=DAYS, regions=REGION_RULES, dnc=dnc.items, q=q or "", orgs=orgs,
                  organization_id=organization_id or "", timezone=tenant_zone(tenant).key, message=message,
                  kind=kind)


@router.get("/calling-rules")
async def calling_rules_page(request: Request, principal: PagePrincipal, session: DbSession,
                             organization_id: str | None = None, q: str | None = None) -> Response:
    principal.require(Permission.manage_dnc)
    if organization_id and organization_id not in {o.id for o in await tenancy.list_organizations(
            session, principal.tenant_scope)}:
        raise NotFound("organization not found", code="not_found", params={"what": "organization"})
    return await _page(request, principal, session, organization_id=organization_id or None, q=q,
                       fragment=bool(request.headers.get("hx-request")))


@router.post("/calling-rules")
async def save_calling_rules(request: Request, principal: PagePrincipal, session: DbSession, now: Now) -> Response:
    principal.require(Permission.manage_calling_rules)
    form = await request.form()

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    windows: list[dict[str, object]] = []
    for day in DAYS:
        start, end = text(f"start_{day}"), text(f"end_{day}")
        if start or end:
            windows.append({"days": [day], "start": start, "end": end})
    organization_id = text("organization_id") or None
    body = CallingRulesPut.model_validate({
        "organization_id": organization_id, "windows": windows,
        "max_attempts_per_24h": text("max_attempts_per_24h") or None,
        "max_attempts_total": text("max_attempts_total") or None,
        "require_consent": form.get("require_consent") == "on", "region_rules": form.get("region_rules") == "on",
        "timezone": None if organization_id else (text("timezone") or None)})
    if organization_id and organization_id not in {o.id for o in await tenancy.list_organizations(
            session, principal.tenant_scope)}:
        raise NotFound("organization not found", code="not_found", params={"what": "organization"})
    if body.timezone is not None:
        if parse_zone(body.timezone) is None:
            raise Invalid(f"'{body.timezone}' is not a timezone", extra={"field": "timezone"},
                          code="timezone_unknown", params={"timezone": body.timezone})
        tenant = await tenancy.get_tenant(session, principal.tenant_scope)
        tenant.timezone = body.timezone
    await put_rules(session, principal.tenant_id, organization_id, windows=[w.model_dump() for w in body.windows],
                    max_attempts_per_24h=body.max_attempts_per_24h, max_attempts_total=body.max_attempts_total,
                    require_consent=body.require_consent, region_rules=body.region_rules, now=now,
                    actor_id=principal.user_id)
    lang = language_of(request, principal)
    return await _page(request, principal, session, organization_id=organization_id, q=None,
                       message=translate(lang, "notice.saved"), fragment=True)


@router.post("/calling-rules/dnc")
async def add_to_dnc(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                     phone: str = Form(""), reason: str = Form("")) -> Response:
    principal.require(Permission.manage_dnc)
    entry, _ = await records.add(session, principal, phone, reason.strip()[:300] or None,
                                 source=DncSource.manual.value, now=now)
    message = translate(language_of(request, principal), "dnc.added", phone=entry.phone)
    return await _page(request, principal, session, organization_id=None, q=None, message=message, fragment=True)


@router.post("/calling-rules/dnc/remove")
async def remove_from_dnc(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                          phone: str = Form("")) -> Response:
    principal.require(Permission.manage_calling_rules)
    await records.remove(session, principal, phone, now=now)
    message = translate(language_of(request, principal), "dnc.removed", phone=phone)
    return await _page(request, principal, session, organization_id=None, q=None, message=message, fragment=True)


@router.post("/calling-rules/dnc/import")
async def import_dnc(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                     file: UploadFile) -> Response:
    principal.require(Permission.manage_dnc)
    limit = request.app.state.container.settings.max_csv_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise Invalid("the file is too large", code="csv_too_large", params={"megabytes": limit // (1024 * 1024)})
    report = await records.import_csv(session, principal, content, now)
    lang = language_of(request, principal)
    lines = [translate(lang, "dnc.imported", added=report.added, already=report.already_listed,
                       rejected=len(report.rejected))]
    lines += [translate(lang, "dnc.rejected_row", row=r.row, phone=r.phone, code=r.code) for r in report.rejected[:20]]
    return await _page(request, principal, session, organization_id=None, q=None, message=" ".join(lines),
                       kind="error" if report.rejected else "ok", fragment=True)
