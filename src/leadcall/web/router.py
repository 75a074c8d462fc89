"""The web app's pages and fragments (server-rendered; htmx swaps fragments; SSE keeps calls live)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leadcall.billing import usage as usage_reports
from leadcall.billing.service import BillingService
from leadcall.calls.schemas import CallOutcomeUpdate
from leadcall.calls.service import CallService, to_wire
from leadcall.core.deps import DbSession, Now
from leadcall.core.errors import Invalid, RateLimited, Unauthenticated
from leadcall.leads import service as leads
from leadcall.leads.models import LeadStatus
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import Role
from leadcall.tenancy.principal import Permission, Principal
from leadcall.voice import service as voice
from leadcall.voice.manager import VoiceManager
from leadcall.voice.schemas import CALL_TYPES, AccountCreate, AccountUpdate, AgentSettingsUpdate, ConnectionTest
from leadcall.web.auth import AdminPage, PagePrincipal, ReportsPage
from leadcall.web.i18n import LANGUAGES, translate

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

public_router = APIRouter(include_in_schema=False)
pages_router = APIRouter(include_in_schema=False)

STATUS_CLASSES = {"initiating": "live", "ringing": "live", "in_progress": "live", "completed": "ok",
                  "failed": "bad", "canceled": "muted"}


def language_of(request: Request, principal: Principal | None) -> str:
    chosen = request.session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return principal.language if principal else "es"


def render(request: Request, template: str, principal: Principal | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = language_of(request, principal)
    if "csrf" not in request.session:
        request.session["csrf"] = tenancy.new_csrf_token()

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return templates.TemplateResponse(request, template, {
        "t": t, "lang": lang, "principal": principal, "csrf": request.session["csrf"],
        "status_class": STATUS_CLASSES, "call_types": CALL_TYPES, "lead_statuses": [s.value for s in LeadStatus],
        "can": (lambda p: principal is not None and principal.can(Permission(p))), **context},
        status_code=status_code)


def render_error_page(request: Request, status_code: int, detail: str) -> Response:
    principal = getattr(request.state, "principal", None)
    if request.headers.get("hx-request"):
        response = render(request, "_toast.html", principal, message=detail, kind="error")
        response.headers["HX-Retarget"] = "#toast"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "error.html", principal, status_code=status_code, detail=detail, code=status_code)


def calls_of(request: Request) -> CallService:
    service: CallService = request.app.state.call_service
    return service


def voices_of(request: Request) -> VoiceManager:
    manager: VoiceManager = request.app.state.voice_manager
    return manager


# -- sign in / out ------------------------------------------------------------------------


@public_router.get("/login")
async def login_page(request: Request) -> Response:
    if request.session.get("uid"):
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", None, error=None, email="")


@public_router.post("/login")
async def login(request: Request, session: DbSession, email: str = Form(""), password: str = Form(""),
                csrf_token: str = Form("")) -> Response:
    if not csrf_token or csrf_token != request.session.get("csrf"):
        return render(request, "login.html", None, status_code=403, error="csrf", email=email)
    try:
        await tenancy.guard_login(request.app.state.limiter, email, request.client.host if request.client else None,
                                  request.app.state.container.settings.login_attempts_per_minute)
    except RateLimited as exc:
        return render(request, "login.html", None, status_code=429, error=exc.detail, email=email)
    try:
        user = await tenancy.authenticate(session, email, password)
    except Unauthenticated:
        return render(request, "login.html", None, status_code=401, error="login.failed", email=email)
    lang = request.session.get("lang")
    request.session.clear()
    request.session.update({"uid": user.id, "csrf": tenancy.new_csrf_token()})
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/", status_code=303)


@public_router.post("/logout")
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@public_router.get("/lang/{code}")
async def switch_language(code: str, request: Request) -> Response:
    if code in LANGUAGES:
        request.session["lang"] = code
    back = request.headers.get("referer") or "/"
    return RedirectResponse(back if back.startswith(str(request.base_url)) else "/", status_code=303)


# -- leads ----------------------------------------------------------------------------------


async def _lead_page(request: Request, session: DbSession, principal: Principal, *, q: str | None, status: str | None,
                     owner: str | None, org: str | None, cursor: str | None) -> dict[str, Any]:
    page = await leads.list_leads(session, principal.scope, limit=25, cursor=cursor, search=q or None,
                                  status=status or None, owner_id=owner or None, organization_id=org or None)
    return {"page": page, "filters": {"q": q or "", "status": status or "", "owner": owner or "", "org": org or ""}}


@pages_router.get("/")
async def leads_page(request: Request, principal: PagePrincipal, session: DbSession, q: str | None = None,
                     status: str | None = None, owner: str | None = None, org: str | None = None) -> Response:
    context = await _lead_page(request, session, principal, q=q, status=status, owner=owner, org=org, cursor=None)
    users = await tenancy.list_users(session, principal.tenant_scope)
    orgs = await tenancy.list_organizations(session, principal.scope)
    return render(request, "leads.html", principal, users=users, orgs=orgs, **context)


@pages_router.get("/leads/rows")
async def lead_rows(request: Request, principal: PagePrincipal, session: DbSession, q: str | None = None,
                    status: str | None = None, owner: str | None = None, org: str | None = None,
                    cursor: str | None = None) -> Response:
    context = await _lead_page(request, session, principal, q=q, status=status, owner=owner, org=org, cursor=cursor)
    return render(request, "_lead_rows.html", principal, **context)


@pages_router.post("/leads/import")
async def import_leads(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                       file: UploadFile) -> Response:
    principal.require(Permission.import_leads)
    content = await file.read(request.app.state.container.settings.max_csv_bytes + 1)
    report = await leads.import_csv(session, principal, content, now)
    return render(request, "_import_report.html", principal, report=report)


@pages_router.get("/leads/{lead_id}/panel")
async def lead_panel(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    lead = await leads.get_lead(session, principal.scope, lead_id)
    history = await calls_of(request).history(session, principal.scope, lead_id, limit=5, cursor=None)
    live = next((c for c in history.items if c.status.value in ("initiating", "ringing", "in_progress")), None)
    return render(request, "_lead_panel.html", principal, lead=lead, history=history, live=live)


@pages_router.get("/leads/{lead_id}/history")
async def lead_history(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                       cursor: str | None = None) -> Response:
    history = await calls_of(request).history(session, principal.scope, lead_id, limit=5, cursor=cursor)
    return render(request, "_history.html", principal, history=history, lead_id=lead_id, append=cursor is not None)


@pages_router.get("/leads/{lead_id}/picker")
async def picker(lead_id: str, request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    lead = await leads.get_lead(session, principal.scope, lead_id)
    agents = await voices_of(request).availability(session, tenant_id=principal.tenant_id,
                                                   organization_id=principal.organization_id, call_type=None)
    return render(request, "_picker.html", principal, lead=lead, agents=agents)


@pages_router.post("/leads/{lead_id}/call")
async def place_call(lead_id: str, request: Request, principal: PagePrincipal, agent_id: str = Form(""),
                     call_type: str = Form("prospecting"), idempotency_key: str = Form("")) -> Response:
    if not agent_id:
        raise Invalid(translate(language_of(request, principal), "picker.choose_first"))
    if call_type not in CALL_TYPES:
        raise Invalid(f"unknown call type '{call_type}'")
    placed = await calls_of(request).place_call(principal, lead_id=lead_id, agent_id=agent_id, call_type=call_type,
                                                idempotency_key=idempotency_key or None)
    response = render(request, "_call_card.html", principal, call=placed.call_log)
    response.headers["HX-Trigger"] = "leadcall:history"
    return response


@pages_router.get("/calls/{call_id}/card")
async def call_card(call_id: str, request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    call = await calls_of(request).get_call(session, principal.scope, call_id)
    return render(request, "_call_card.html", principal, call=to_wire(call))


@pages_router.post("/calls/{call_id}/cancel")
async def cancel_call(call_id: str, request: Request, principal: PagePrincipal) -> Response:
    result = await calls_of(request).cancel(principal, call_id)
    response = render(request, "_call_card.html", principal, call=result.call_log, notice=result.detail)
    response.headers["HX-Trigger"] = "leadcall:history"
    return response


@pages_router.post("/calls/{call_id}/outcome")
async def correct_outcome(call_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                          outcome: str = Form(""), notes: str = Form("")) -> Response:
    data = CallOutcomeUpdate.model_validate({"outcome": outcome or None, "notes": notes or None})
    call = await calls_of(request).correct(session, principal, call_id, data)
    return render(request, "_call_card.html", principal, call=to_wire(call), notice="call.saved")


# -- settings (admins) ------------------------------------------------------------------------


async def _settings_context(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    container = request.app.state.container
    accounts = [voice.account_view(a, container.secret_box, container.settings.public_base_url)
                for a in await voice.list_accounts(session, principal.tenant_scope)]
    agents = await voices_of(request).availability(session, tenant_id=principal.tenant_id,
                                                   organization_id=principal.organization_id, call_type=None,
                                                   include_unusable=True)
    billing: BillingService = request.app.state.billing
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    return {"accounts": accounts, "agents": agents, "currency": tenant.currency,
            "budgets": await billing.statuses(session, principal.tenant_scope),
            "users": await tenancy.list_users(session, principal.tenant_scope),
            "orgs": await tenancy.list_organizations(session, principal.tenant_scope),
            "roles": [r.value for r in Role]}


@pages_router.get("/settings")
async def settings_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return render(request, "settings.html", principal, **await _settings_context(request, session, principal))


async def _back_to_settings(request: Request, principal: Principal, session: DbSession,
                            message: str | None = None, kind: str = "ok") -> Response:
    context = await _settings_context(request, session, principal)
    return render(request, "_settings_body.html", principal, message=message, kind=kind, **context)


@pages_router.post("/settings/accounts")
async def add_account(request: Request, principal: AdminPage, session: DbSession, now: Now,
                      name: str = Form(""), api_key: str = Form(""), webhook_secret: str = Form(""),
                      base_url: str = Form(""), concurrency_limit: int = Form(4)) -> Response:
    data = AccountCreate.model_validate({"name": name, "api_key": api_key, "webhook_secret": webhook_secret or None,
                                         "base_url": base_url or None, "concurrency_limit": concurrency_limit})
    account = await voice.create_account(session, principal.tenant_scope, request.app.state.container.secret_box,
                                         data, now)
    return await _back_to_settings(request, principal, session, message=f"✓ {account.name}")


@pages_router.post("/settings/accounts/{account_id}")
async def edit_account(account_id: str, request: Request, principal: AdminPage, session: DbSession, now: Now,
                       name: str = Form(""), api_key: str = Form(""), webhook_secret: str = Form(""),
                       concurrency_limit: int = Form(4), usd_to_currency_rate: float = Form(1.0)) -> Response:
    changes: dict[str, object] = {"id": account_id, "name": name, "concurrency_limit": concurrency_limit,
                                  "usd_to_currency_rate": usd_to_currency_rate}
    if api_key:
        changes["api_key"] = api_key
    if webhook_secret:
        changes["webhook_secret"] = webhook_secret
    await voice.update_account(session, principal.tenant_scope, request.app.state.container.secret_box,
                               voices_of(request), AccountUpdate.model_validate(changes), now)
    return await _back_to_settings(request, principal, session, message=f"✓ {name}")


@pages_router.post("/settings/budget")
async def save_budget(request: Request, principal: AdminPage, session: DbSession, now: Now,
                      organization_id: str = Form(""), monthly_limit: float = Form(...),
                      thresholds: str = Form("50, 80, 100")) -> Response:
    try:
        levels = [int(x) for x in thresholds.replace(";", ",").split(",") if x.strip()]
    except ValueError as exc:
        raise Invalid("alert thresholds are whole percentages, e.g. 50, 80, 100") from exc
    if monthly_limit <= 0:
        raise Invalid("the budget must be more than zero")
    billing: BillingService = request.app.state.billing
    await billing.put_budget(session, principal.tenant_scope, organization_id=organization_id or None,
                             monthly_limit=monthly_limit, thresholds=levels, estimated_call_cost=None, now=now)
    return await _back_to_settings(request, principal, session, message="✓")


@pages_router.post("/settings/accounts/{account_id}/test")
async def test_account(account_id: str, request: Request, principal: AdminPage, session: DbSession,
                       now: Now) -> Response:
    result = await voice.test_connection(session, principal.tenant_scope, voices_of(request),
                                         ConnectionTest(config_id=account_id), now)
    return await _back_to_settings(request, principal, session, message=result.detail,
                                   kind="ok" if result.ok else "error")


@pages_router.post("/settings/accounts/{account_id}/toggle")
async def toggle_account(account_id: str, request: Request, principal: AdminPage, session: DbSession,
                         now: Now) -> Response:
    account = await voice.get_account(session, principal.tenant_scope, account_id)
    await voice.update_account(session, principal.tenant_scope, request.app.state.container.secret_box,
                               voices_of(request), AccountUpdate(id=account_id, is_active=not account.is_active), now)
    return await _back_to_settings(request, principal, session)


@pages_router.post("/settings/agents/{agent_ref_id}")
async def save_agent(agent_ref_id: str, request: Request, principal: AdminPage, session: DbSession, now: Now,
                     ) -> Response:
    form = await request.form()
    max_calls = str(form.get("max_concurrent_calls") or "").strip()
    data = AgentSettingsUpdate.model_validate({
        "is_enabled": form.get("is_enabled") == "on",
        "specialty": str(form.get("specialty") or "") or None,
        "tags": [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()],
        "allowed_organization_ids": [str(v) for v in form.getlist("allowed_organization_ids")],
        "allowed_call_types": [str(v) for v in form.getlist("allowed_call_types")],
        "max_concurrent_calls": int(max_calls) if max_calls.isdigit() else None})
    await voice.update_agent_settings(session, principal.tenant_scope, agent_ref_id, data, now)
    return await _back_to_settings(request, principal, session, message="✓")


@pages_router.post("/settings/users")
async def add_user(request: Request, principal: AdminPage, session: DbSession, now: Now, email: str = Form(""),
                   name: str = Form(""), password: str = Form(""), role: str = Form("member"),
                   organization_id: str = Form("")) -> Response:
    if len(password) < 8:
        raise Invalid("the password needs at least 8 characters")
    if role not in [r.value for r in Role]:
        raise Invalid(f"unknown role '{role}'")
    await tenancy.create_user(session, principal.tenant_scope, email=email, name=name, password=password,
                              role=Role(role), organization_id=organization_id, now=now)
    return await _back_to_settings(request, principal, session, message=f"✓ {email}")


@pages_router.post("/settings/users/{user_id}")
async def save_user(user_id: str, request: Request, principal: AdminPage, session: DbSession,
                    role: str = Form(""), is_active: str = Form("")) -> Response:
    if role not in [r.value for r in Role]:
        raise Invalid(f"unknown role '{role}'")
    await tenancy.update_user(session, principal, user_id, role=Role(role), is_active=is_active == "on")
    return await _back_to_settings(request, principal, session, message="✓")


# -- usage -------------------------------------------------------------------------------------


def _bars(lines: list[Any], start: date, end: date, width: int = 640, height: int = 160) -> list[dict[str, Any]]:
    """One bar per day of the range (days without calls are zero), scaled to the busiest day."""
    cost_by_day = {line.key: line.cost for line in lines}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    top = max(cost_by_day.values(), default=0) or 1
    step = width / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        cost = cost_by_day.get(day.isoformat(), 0.0)
        h = round(cost / top * (height - 20), 1)
        bars.append({"x": round(i * step + 1, 1), "w": round(max(step - 2, 1), 1), "h": h, "y": round(height - h, 1),
                     "label": day.isoformat(), "cost": cost})
    return bars


@pages_router.get("/usage")
async def usage_page(request: Request, principal: ReportsPage, session: DbSession, now: Now,
                     days: int = 30) -> Response:
    days = max(1, min(days, 366))
    end = now.date()
    start = end - timedelta(days=days - 1)
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    report = await usage_reports.usage_report(session, principal.scope, period="day", start=start, end=end,
                                              currency=tenant.currency)
    billing: BillingService = request.app.state.billing
    budgets = await billing.statuses(session, principal.scope)
    alerts = await billing.recent_alerts(session, principal.scope)
    return render(request, "usage.html", principal, report=report, bars=_bars(report.by_period, start, end), budgets=budgets,
                  alerts=alerts, days=days, start=start, end=end)
