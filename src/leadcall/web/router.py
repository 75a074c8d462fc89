"""The web app's pages and fragments: server-rendered, htmx swaps fragments, SSE keeps calls live.

Pages call the domain services directly (never repositories); tenant and organization always come
from the signed-in principal.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from leadcall.billing.service import BillingService
from leadcall.calls.schemas import CallLog, CallOutcomeUpdate
from leadcall.calls.service import CallService, to_wire
from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.core.errors import Forbidden, Invalid, LeadcallError, RateLimited, Unauthenticated
from leadcall.kit.clock import utc_datetime
from leadcall.leads import csv_import, phones
from leadcall.leads import service as leads
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.deps import require_csrf, sign_in, sign_out
from leadcall.tenancy.principal import Permission, Principal
from leadcall.voice import stats as agent_stats
from leadcall.voice.manager import AgentAvailability, Unavailability, VoiceManager
from leadcall.voice.schemas import CALL_TYPES
from leadcall.voice.stats import AgentStats
from leadcall.web.auth import (
    SIGNED_OUT_KEY,
    PagePrincipal,
    ReportsPage,
    local_path,
    page_principal,
    session_principal,
)
from leadcall.web.forms import PageRoute, field_problem
from leadcall.web.i18n import LANGUAGES, explain_field, money, translate, translate_reason
from leadcall.web.rendering import LIVE_STATUSES, as_utc, language_of, render
from leadcall.web.rules import eligibility_of

public_router = APIRouter(include_in_schema=False, dependencies=[Depends(check_request)], route_class=PageRoute)
# Secure by default: every page and fragment needs a signed-in browser (and CSRF on unsafe methods),
# whether or not its route also asks for the principal; then its input is checked (leadcall.core.boundary).
# Form mistakes are told in the page's language.
pages_router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                         route_class=PageRoute)

LEADS_PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 5


def calls_of(request: Request) -> CallService:
    service: CallService = request.app.state.call_service
    return service


def voices_of(request: Request) -> VoiceManager:
    manager: VoiceManager = request.app.state.voice_manager
    return manager


def billing_of(request: Request) -> BillingService:
    billing: BillingService = request.app.state.billing
    return billing


def _local_path(target: str | None) -> str:
    """Only paths of this site are followed after a form (no open redirect)."""
    return local_path(target) or "/"


# -- sign in, sign out, language ---------------------------------------------------------------------


@public_router.get("/login")
async def login_page(request: Request, next_path: str = Query("", alias="next")) -> Response:
    """The sign-in form; `next` (a path of this site, else ignored) is where it leads once signed in, and a
    browser whose session has just ended is told so (once)."""
    back = local_path(next_path) or ""
    if await session_principal(request) is not None:
        return RedirectResponse(back or "/", status_code=303)
    signed_out = request.session.pop(SIGNED_OUT_KEY, None)
    note = "login.session_ended" if signed_out == "session_ended" else None
    return render(request, "login.html", None, error=None, email="", next_path=back, note=note)


@public_router.post("/login")
async def login(request: Request, session: DbSession, now: Now, email: str = Form(""),
                password: str = Form(""), next_path: str = Form("", alias="next")) -> Response:
    back = local_path(next_path) or ""

    def again(status_code: int, error: str, headers: dict[str, str] | None = None, **values: object) -> Response:
        return render(request, "login.html", None, status_code=status_code, error=(error, values), email=email,
                      next_path=back, note=None, headers=headers)

    try:  # the sign-in form carries the token of the session that showed it
        await require_csrf(request)
    except Forbidden:
        return again(403, "login.expired")
    settings = request.app.state.container.settings
    try:
        await tenancy.guard_login(request.app.state.limiter, email, request.client.host if request.client else None,
                                  settings.login_attempts_per_minute)
    except RateLimited as exc:
        return again(429, "login.too_many", exc.headers, seconds=exc.extra.get("retryAfterSeconds", 60))
    try:
        user = await tenancy.authenticate(session, email, password)
    except Unauthenticated:
        return again(401, "login.failed")
    await sign_in(request, session, user, now)  # a fresh cookie: only the language survives from before
    return RedirectResponse(back or "/", status_code=303)


@public_router.post("/logout")
async def logout(request: Request, session: DbSession) -> Response:
    await require_csrf(request)
    lang = language_of(request, await session_principal(request))
    await sign_out(request, session)
    request.session["lang"] = lang  # the sign-in page keeps speaking the user's language
    return RedirectResponse("/login", status_code=303)


@public_router.post("/lang")
async def switch_language(request: Request, session: DbSession, lang: str = Form(""),
                          next_path: str = Form("/", alias="next")) -> Response:
    await require_csrf(request)
    if lang not in LANGUAGES:
        raise Invalid(f"unknown language '{lang}'; use one of {', '.join(LANGUAGES)}")
    request.session["lang"] = lang
    principal = await session_principal(request)
    if principal is not None:  # remembered on the user, so other browsers follow
        await tenancy.update_user(session, principal, principal.user_id, language=lang)
    return RedirectResponse(_local_path(next_path), status_code=303)


# -- leads ------------------------------------------------------------------------------------------------


def _filters(q: str | None, status: str | None, owner: str | None, org: str | None,
             archived: str | None = None) -> dict[str, str]:
    return {"q": (q or "").strip(), "status": status or "", "owner": owner or "", "org": org or "",
            "archived": "1" if archived == "1" else ""}


async def _lead_rows(session: DbSession, principal: Principal, filters: dict[str, str],
                     cursor: str | None) -> dict[str, Any]:
    page = await leads.list_leads(session, principal.scope, limit=LEADS_PAGE_SIZE, cursor=cursor,
                                  search=filters["q"] or None, status=filters["status"] or None,
                                  owner_id=filters["owner"] or None, organization_id=filters["org"] or None,
                                  archived=filters["archived"] == "1")
    return {"page": page, "filters": filters}


async def _leads_page(request: Request, session: DbSession, principal: Principal, filters: dict[str, str],
                      panel: dict[str, Any] | None = None) -> Response:
    context = await _lead_rows(session, principal, filters, None)
    users = await tenancy.list_users(session, principal.scope)
    orgs = await tenancy.list_organizations(session, principal.scope)
    return render(request, "leads.html", principal, users=users, orgs=orgs, panel=panel is not None,
                  **context, **(panel or {}))


@pages_router.get("/")
async def leads_page(request: Request, principal: PagePrincipal, session: DbSession, q: str | None = None,
                     status: str | None = None, owner: str | None = None, org: str | None = None,
                     archived: str | None = None) -> Response:
    return await _leads_page(request, session, principal, _filters(q, status, owner, org, archived))


@pages_router.get("/leads/rows")
async def lead_rows(request: Request, principal: PagePrincipal, session: DbSession, q: str | None = None,
                    status: str | None = None, owner: str | None = None, org: str | None = None,
                    archived: str | None = None, cursor: str | None = None) -> Response:
    context = await _lead_rows(session, principal, _filters(q, status, owner, org, archived), cursor)
    return render(request, "_lead_rows.html", principal, append=cursor is not None, **context)


@pages_router.post("/leads/import")
async def import_leads(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                       file: UploadFile, dry_run: Annotated[str, Form()] = "") -> Response:
    principal.require(Permission.import_leads)
    limit = request.app.state.container.settings.max_csv_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        megabytes = f"{limit / 1_000_000:g}"
        raise Invalid(f"the file is larger than {megabytes} MB; split it and import the parts", code="csv_too_large",
                      params={"megabytes": megabytes})
    report = await csv_import.import_csv(session, principal, content, now, dry_run=dry_run == "1")
    lang = language_of(request, principal)
    rows = [(e.row, [explain_field(lang, p.field, p.code, p.params) for p in e.problems]) for e in report.errors]
    response = render(request, "_import_report.html", principal, report=report, rows=rows)
    if report.created or report.updated:
        response.headers["HX-Trigger"] = "leadcall:leads"
    return response


async def _panel_context(request: Request, session: DbSession, principal: Principal, lead_id: str,
                         now: datetime) -> dict[str, Any]:
    lead = await leads.get_lead(session, principal.scope, lead_id)
    history = await calls_of(request).history(session, principal.scope, lead_id, limit=HISTORY_PAGE_SIZE, cursor=None)
    live = next((c for c in history.items if c.status.value in LIVE_STATUSES), None)
    team = await tenancy.list_users(session, principal.tenant_scope)
    users = {u.id: u.name for u in team}
    orgs = {o.id: o.name for o in await tenancy.list_organizations(session, principal.scope)}
    return {"lead": lead, "history": history, "owner_name": users.get(lead.owner_id or ""),
            "owners": [u for u in team if u.organization_id == lead.organization_id and u.is_active],
            "team_name": orgs.get(lead.organization_id), **_card(live, now), "call": live,
            "eligibility": await eligibility_of(request, principal, session, lead, now)}


@pages_router.get("/leads/{lead_id}")
async def lead_panel(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                     now: Now, call: str | None = None) -> Response:
    """The lead's panel: a fragment for htmx, else the leads page with the panel open (a link to share).
    `?call=1` (the list's Call button) opens it with the agent picker, for those who may call."""
    if call not in (None, "", "1"):
        raise RequestValidationError([field_problem("call", "enum", "call is 1 (open the agent picker) or absent",
                                                    expected="1")])
    panel = await _panel_context(request, session, principal, lead_id, now)
    panel["open_picker"] = call == "1" and principal.can(Permission.place_calls)
    if request.headers.get("hx-request") and not request.headers.get("hx-history-restore-request"):
        return render(request, "_lead_panel.html", principal, **panel)
    return await _leads_page(request, session, principal, _filters(None, None, None, None), panel=panel)


@pages_router.get("/leads/{lead_id}/status")
async def lead_status(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    """The lead's status tag: the open panel and the lead's row in the list fetch it again when news of one of
    the lead's calls arrives, since a call that ends can move the lead on (a new lead that answers is contacted)."""
    lead = await leads.get_lead(session, principal.scope, lead_id)
    return render(request, "_lead_status.html", principal, lead=lead)


@pages_router.get("/leads/{lead_id}/history")
async def lead_history(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                       cursor: str | None = None) -> Response:
    history = await calls_of(request).history(session, principal.scope, lead_id, limit=HISTORY_PAGE_SIZE,
                                              cursor=cursor)
    return render(request, "_history.html", principal, history=history, lead_id=lead_id, append=cursor is not None)


# -- the agent picker -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentView:
    id: str
    name: str
    voice_name: str | None
    preview_url: str | None
    language: str
    account: str
    tags: list[str]
    specialty: str | None
    live_calls: int
    unavailable: Unavailability | None
    stats: AgentStats | None = None  # its calls of the chosen type over the last 30 days (voice/stats.py)

    @property
    def available(self) -> bool:
        return self.unavailable is None


def _agent_view(item: AgentAvailability, unavailable: Unavailability | None,
                stats: AgentStats | None = None) -> AgentView:
    tags = list(dict.fromkeys([*item.info.tags, *item.ref.tags]))
    return AgentView(id=item.ref.id, name=item.info.name, voice_name=item.voice.name if item.voice else None,
                     preview_url=item.voice.preview_url if item.voice else None, language=item.info.language,
                     account=item.account.name, tags=tags, specialty=item.ref.specialty, live_calls=item.live_calls,
                     unavailable=unavailable, stats=stats)


@dataclass(frozen=True)
class AccountNote:
    """An account whose agents are missing from the picker, or shown but not callable: said above them."""

    key: str
    account: str


# (the account's problem code, whether its last listed agents are shown) → what the picker says
_ACCOUNT_NOTES = {("provider_unavailable", False): "picker.account_down",
                  ("provider_unavailable", True): "picker.account_down_shown",
                  ("provider_misconfigured", False): "picker.account_problem",
                  ("provider_misconfigured", True): "picker.account_problem_shown",
                  ("listing_pending", False): "picker.account_pending"}


async def _agents(request: Request, session: DbSession, principal: Principal, call_type: str | None, *,
                  with_stats: bool = False) -> tuple[list[AgentView], list[AccountNote]]:
    """The agents this caller's team may use, each with whether it can take a call of `call_type` right now
    (and, `with_stats`, how its calls of that type went: the picker's line; its live refreshes skip them),
    and a note for each account whose agents are missing or cannot be called."""
    manager = voices_of(request)
    report = await manager.availability_report(session, tenant_id=principal.tenant_id,
                                               organization_id=principal.organization_id, call_type=None)
    typed: dict[str, Unavailability | None] = {}
    if call_type:
        typed = {a.ref.id: a.unavailable for a in await manager.availability(
            session, tenant_id=principal.tenant_id, organization_id=principal.organization_id, call_type=call_type,
            include_unusable=True)}
    figures = {}
    if with_stats:
        since, until = agent_stats.period(None, None, utc_datetime(request.app.state.container.clock))
        figures = await manager.agent_stats.agent_stats(session, principal.scope, since=since, until=until,
                                                        call_type=call_type)
    shown = {a.account.id for a in report.agents}
    notes = [AccountNote(_ACCOUNT_NOTES.get((s.problem.code, s.account.id in shown), "picker.account_down"),
                         s.account.name) for s in report.accounts if s.problem is not None]
    return [_agent_view(a, typed.get(a.ref.id, a.unavailable), figures.get(a.ref.id)) for a in report.agents], notes


def _call_type(value: str | None) -> str:
    if value and value not in CALL_TYPES:
        raise RequestValidationError([field_problem("call_type", "enum",
                                                    f"unknown call type '{value}'; use one of {', '.join(CALL_TYPES)}")])
    return value or CALL_TYPES[0]


def _speaks(agent: AgentView, language: str) -> bool:
    return agent.language.split("-")[0].lower() == language.lower()


def default_agent(agents: list[AgentView], language: str, call_type: str) -> str | None:
    """The agent chosen when the picker opens: among those who can take this call now, one that speaks the lead's
    language, preferring one meant for this call type (its tag or specialty); else the first available."""
    usable = [a for a in agents if a.available]

    def fit(a: AgentView) -> tuple[bool, bool]:
        meant = call_type in {t.lower() for t in a.tags} or (a.specialty or "").lower().replace(" ", "_") == call_type
        return _speaks(a, language), meant

    return max(usable, key=fit).id if usable else None  # max keeps the first of equals: the listing's order


@pages_router.get("/leads/{lead_id}/picker")
async def picker(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                 call_type: str | None = None) -> Response:
    principal.require(Permission.place_calls)
    lead = await leads.get_lead(session, principal.scope, lead_id)
    chosen = _call_type(call_type)
    agents, notes = await _agents(request, session, principal, chosen, with_stats=True)
    language = phones.language_of(lead.phone) or language_of(request, principal)
    first = default_agent(agents, language, chosen)
    agents = sorted(agents, key=lambda a: a.id != first)  # the chosen one on top, in view on a phone
    return render(request, "_picker.html", principal, lead=lead, agents=agents, notes=notes, checked=first,
                  lead_language=language,
                  call_type=chosen, idempotency_key=f"web-{secrets.token_urlsafe(18)}",
                  eligibility=await eligibility_of(request, principal, session, lead, now))


@pages_router.get("/leads/{lead_id}/agents")
async def picker_availability(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                              call_type: str | None = None) -> Response:
    """Out-of-band updates of each agent's availability, so an open picker stays true while calls come and go."""
    await leads.get_lead(session, principal.scope, lead_id)
    agents, notes = await _agents(request, session, principal, _call_type(call_type))
    return render(request, "_agent_availability.html", principal, agents=agents, notes=notes)


# -- the call -----------------------------------------------------------------------------------------------


def _card(call: CallLog | None, now: datetime, notice: str | None = None) -> dict[str, Any]:
    """The call card's context; the elapsed time is the server's, so the browser's clock does not matter."""
    elapsed = int((as_utc(now) - as_utc(call.timestamp)).total_seconds()) if call is not None else 0
    return {"call": call, "elapsed": max(0, elapsed), "notice": notice}


@pages_router.post("/leads/{lead_id}/call")
async def place_call(lead_id: str, request: Request, principal: PagePrincipal, now: Now, agent_id: str = Form(""),
                     call_type: str = Form(""), idempotency_key: str = Form("")) -> Response:
    principal.require(Permission.place_calls)
    if not agent_id:
        raise Invalid(translate(language_of(request, principal), "picker.choose_first"))
    try:
        placed = await calls_of(request).place_call(principal, lead_id=lead_id, agent_id=agent_id,
                                                    call_type=_call_type(call_type),
                                                    idempotency_key=idempotency_key or None)
    except LeadcallError as exc:
        code, values = exc.extra.get("reasonCode"), exc.extra.get("reasonValues")
        if not isinstance(code, str):
            raise
        # The agent became unavailable after the picker showed it: say why in the page's language.
        lang = language_of(request, principal)
        reason = translate_reason(lang, code, str(exc.extra.get("reason") or exc.detail),
                                  values if isinstance(values, dict) else None)
        exc.detail = translate(lang, "picker.unavailable", reason=reason)
        raise
    return render(request, "_call_card.html", principal, headers={"HX-Trigger": "leadcall:history"},
                  **_card(placed.call_log, now))


@pages_router.get("/calls/{call_id}/card")
async def call_card(call_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                    now: Now) -> Response:
    call = await calls_of(request).get_call(session, principal.scope, call_id)
    return render(request, "_call_card.html", principal, **_card(to_wire(call), now))


@pages_router.post("/calls/{call_id}/cancel")
async def cancel_call(call_id: str, request: Request, principal: PagePrincipal, now: Now) -> Response:
    principal.require(Permission.place_calls)
    result = await calls_of(request).cancel(principal, call_id)
    return render(request, "_call_card.html", principal, headers={"HX-Trigger": "leadcall:history"},
                  **_card(result.call_log, now, None if result.canceled else result.detail))


@pages_router.post("/calls/{call_id}/outcome")
async def correct_outcome(call_id: str, request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                          outcome: str = Form(""), notes: str | None = Form(None),
                          next_action: str = Form("")) -> Response:
    """The seller's correction of an ended call; its notes only when the form sends them (the card has its
    own notes form)."""
    principal.require(Permission.place_calls)
    changes: dict[str, Any] = {"next_action": next_action.strip() or None}
    if notes is not None:
        changes["notes"] = notes.strip() or None
    if outcome:
        changes["outcome"] = outcome
    call = await calls_of(request).correct(session, principal, call_id, CallOutcomeUpdate.model_validate(changes))
    notice = translate(language_of(request, principal), "notice.saved")
    return render(request, "_call_card.html", principal, headers={"HX-Trigger": "leadcall:history"},
                  **_card(to_wire(call), now, notice))


# -- usage ----------------------------------------------------------------------------------------------------------


@pages_router.get("/alerts/toast")
async def budget_alert_toast(request: Request, principal: ReportsPage, session: DbSession, alert_id: str = "") -> Response:
    """A budget alert the browser just heard of over SSE, as a toast (only one the viewer's scope holds)."""
    alert = await billing_of(request).alert(session, principal.scope, alert_id)
    lang = language_of(request, principal)
    if alert.organization_id:
        orgs = {o.id: o.name for o in await tenancy.list_organizations(session, principal.tenant_scope)}
        who = orgs.get(alert.organization_id, alert.organization_id)
    else:
        who = translate(lang, "settings.whole_tenant")
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    spent, limit = money(lang, alert.spent, tenant.currency), money(lang, alert.monthly_limit, tenant.currency)
    message = translate(lang, "alert.toast", threshold=alert.threshold, who=who, spent=spent, limit=limit)
    return render(request, "_toast.html", principal, title=translate(lang, "alert.toast_title"), message=message,
                  kind="warning")
