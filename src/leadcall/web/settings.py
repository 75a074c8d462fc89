"""The settings pages (admins): one page per section, each at its own address, each form saving on its own.

A section's forms swap the section's body (`#settings-body`) with its fresh state and a message; the sections
are plain links, so an address can be shared and Back goes to the section before.

An ElevenLabs account is active only after a connection test passed: adding one runs the test and keeps it
inactive, with the test's reason, when the test fails; switching one on runs the test first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from leadcall.billing.schemas import BudgetPut
from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.kit.password_rules import password_problem
from leadcall.retention import service as retention
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import Role
from leadcall.tenancy.principal import Permission, Principal
from leadcall.voice import analysis_setup
from leadcall.voice import service as voice
from leadcall.voice.models import ElevenLabsAccount
from leadcall.voice.schemas import AccountCreate, AccountUpdate, AgentSettingsUpdate, ConnectionResult, ConnectionTest
from leadcall.web.auth import AdminPage, page_principal
from leadcall.web.forms import PageRoute, field_problem
from leadcall.web.i18n import has_message, translate
from leadcall.web.rendering import language_of, render
from leadcall.web.router import billing_of, voices_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)


@dataclass(frozen=True)
class Section:
    slug: str  # its address: /settings/<slug>
    title: str  # its name's catalog key

    @property
    def template(self) -> str:
        return f"_settings_{self.slug}.html"


SECTIONS = (Section("accounts", "settings.accounts"), Section("agents", "settings.agents"),
            Section("team", "settings.users"), Section("budgets", "settings.budget"),
            Section("calling", "settings.calling"), Section("integrations", "webhooks.title"))
BY_SLUG = {s.slug: s for s in SECTIONS}
Context = Callable[[Request, DbSession, Principal], Awaitable[dict[str, Any]]]


def connection_words(lang: str, code: str | None, params: dict[str, Any] | None, detail: str | None) -> str:
    """A connection test's result in the page's language; its English text for codes the catalog does not word."""
    key = f"connection.{code}"
    if code and has_message(key):
        return translate(lang, key, **(params or {}))
    return detail or "—"


async def _accounts(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    container = request.app.state.container
    lang = language_of(request, principal)
    accounts = [voice.account_view(a, container.secret_box, container.settings.public_base_url)
                for a in await voice.list_accounts(session, principal.tenant_scope)]
    checks = {a.id: connection_words(lang, a.last_check_code, a.last_check_params, a.last_check_detail)
              for a in accounts}
    return {"accounts": accounts, "checks": checks}


async def _agents(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    agents = await voices_of(request).availability(session, tenant_id=principal.tenant_id,
                                                   organization_id=principal.organization_id, call_type=None,
                                                   include_unusable=True)
    analyses = await analysis_setup.statuses(session, principal.tenant_scope, [a.ref.id for a in agents])
    return {"agents": agents, "analyses": analyses,
            "orgs": await tenancy.list_organizations(session, principal.tenant_scope)}


async def _team(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    return {"users": await tenancy.list_users(session, principal.tenant_scope),
            "orgs": await tenancy.list_organizations(session, principal.tenant_scope)}


async def _budgets(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    tenant = await tenancy.get_tenant(session, principal.tenant_scope)
    return {"currency": tenant.currency, "budgets": await billing_of(request).statuses(session, principal.tenant_scope),
            "orgs": await tenancy.list_organizations(session, principal.tenant_scope)}


async def _calling(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    return {"retention": await retention.get_policy(session, principal.tenant_id)}


async def _integrations(request: Request, session: DbSession, principal: Principal) -> dict[str, Any]:
    return {}  # the webhooks section loads itself (web/webhooks.py)


CONTEXTS: dict[str, Context] = {"accounts": _accounts, "agents": _agents, "team": _team, "budgets": _budgets,
                                "calling": _calling, "integrations": _integrations}


async def section_body(request: Request, principal: Principal, session: DbSession, slug: str, message: str,
                       kind: str = "ok") -> Response:
    """A section's body after one of its forms: its fresh state with what happened."""
    context = await CONTEXTS[slug](request, session, principal)
    return render(request, BY_SLUG[slug].template, principal, message=message, kind=kind, **context)


def saved(request: Request, principal: Principal, name: str | None = None) -> str:
    lang = language_of(request, principal)
    return translate(lang, "notice.saved_named", name=name) if name else translate(lang, "notice.saved")


@router.get("/settings")
async def settings_home(principal: AdminPage) -> Response:
    return RedirectResponse(f"/settings/{SECTIONS[0].slug}", status_code=303)


async def _page(request: Request, principal: Principal, session: DbSession, slug: str) -> Response:
    context = await CONTEXTS[slug](request, session, principal)
    return render(request, "settings.html", principal, sections=SECTIONS, section=BY_SLUG[slug], **context)


@router.get("/settings/accounts")
async def accounts_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return await _page(request, principal, session, "accounts")


@router.get("/settings/agents")
async def agents_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return await _page(request, principal, session, "agents")


@router.get("/settings/team")
async def team_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return await _page(request, principal, session, "team")


@router.get("/settings/budgets")
async def budgets_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return await _page(request, principal, session, "budgets")


@router.get("/settings/calling")
async def calling_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    return await _page(request, principal, session, "calling")


@router.get("/settings/integrations")
async def integrations_page(request: Request, principal: AdminPage, session: DbSession) -> Response:
    principal.require(Permission.manage_webhooks)
    return await _page(request, principal, session, "integrations")


# -- ElevenLabs accounts ------------------------------------------------------------------------------------------


async def _test(request: Request, principal: Principal, session: DbSession, account: ElevenLabsAccount,
                now: Any) -> tuple[ConnectionResult, str]:
    result = await voice.test_connection(session, principal.tenant_scope, voices_of(request),
                                         ConnectionTest(config_id=account.id), now)
    return result, connection_words(language_of(request, principal), result.code, result.params, result.detail)


@router.post("/settings/accounts")
async def add_account(request: Request, principal: AdminPage, session: DbSession, now: Now,
                      name: str = Form(""), api_key: str = Form(""), webhook_secret: str = Form(""),
                      base_url: str = Form(""), concurrency_limit: int = Form(4)) -> Response:
    """Saved inactive, then switched on only if its connection test passes (else it keeps the test's reason)."""
    data = AccountCreate.model_validate({"name": name, "api_key": api_key, "webhook_secret": webhook_secret or None,
                                         "base_url": base_url or None, "concurrency_limit": concurrency_limit,
                                         "is_active": False})
    account = await voice.create_account(session, principal.tenant_scope, request.app.state.container.secret_box,
                                         data, now, targets=voices_of(request).targets)
    result, words = await _test(request, principal, session, account, now)
    lang = language_of(request, principal)
    if not result.ok:
        return await section_body(request, principal, session, "accounts",
                                  translate(lang, "settings.saved_inactive", name=account.name, detail=words),
                                  "error")
    account.is_active = True
    await analysis_setup.set_up_account(session, voices_of(request), account, now=now,
                                        language=await analysis_setup.tenant_language(session, principal.tenant_id))
    return await section_body(request, principal, session, "accounts", saved(request, principal, account.name))


@router.post("/settings/accounts/{account_id}")
async def edit_account(account_id: str, request: Request, principal: AdminPage, session: DbSession, now: Now,
                       name: str = Form(""), api_key: str = Form(""), webhook_secret: str = Form(""),
                       concurrency_limit: int = Form(4), usd_to_currency_rate: float = Form(1.0)) -> Response:
    changes: dict[str, object] = {"id": account_id, "name": name, "concurrency_limit": concurrency_limit,
                                  "usd_to_currency_rate": usd_to_currency_rate}
    # Secrets are write-only: a blank field keeps the stored one.
    if api_key:
        changes["api_key"] = api_key
    if webhook_secret:
        changes["webhook_secret"] = webhook_secret
    await voice.update_account(session, principal.tenant_scope, request.app.state.container.secret_box,
                               voices_of(request), AccountUpdate.model_validate(changes), now)
    return await section_body(request, principal, session, "accounts", saved(request, principal, name))


@router.post("/settings/accounts/{account_id}/test")
async def test_account(account_id: str, request: Request, principal: AdminPage, session: DbSession,
                       now: Now) -> Response:
    account = await voice.get_account(session, principal.tenant_scope, account_id)
    result, words = await _test(request, principal, session, account, now)
    key = "settings.test_ok" if result.ok else "settings.test_failed"
    message = translate(language_of(request, principal), key, detail=words)
    return await section_body(request, principal, session, "accounts", message, "ok" if result.ok else "error")


@router.post("/settings/accounts/{account_id}/toggle")
async def toggle_account(account_id: str, request: Request, principal: AdminPage, session: DbSession,
                         now: Now) -> Response:
    """Switching off is immediate; switching on needs a passing connection test first."""
    account = await voice.get_account(session, principal.tenant_scope, account_id)
    if not account.is_active:
        result, words = await _test(request, principal, session, account, now)
        if not result.ok:
            message = translate(language_of(request, principal), "settings.activation_refused", name=account.name,
                                detail=words)
            return await section_body(request, principal, session, "accounts", message, "error")
    await voice.update_account(session, principal.tenant_scope, request.app.state.container.secret_box,
                               voices_of(request), AccountUpdate(id=account_id, is_active=not account.is_active), now)
    return await section_body(request, principal, session, "accounts", saved(request, principal, account.name))


# -- budgets, agents, team ------------------------------------------------------------------------------------------


@router.post("/settings/budget")
async def save_budget(request: Request, principal: AdminPage, session: DbSession, now: Now,
                      organization_id: str = Form(""), monthly_limit: str = Form(""),
                      thresholds: str = Form("50, 80, 100")) -> Response:
    """The API's own model bounds the form (a finite amount, at most the API's maximum)."""
    problems: list[Any] = []
    levels: list[str] | None = [x.strip() for x in thresholds.replace(";", ",").split(",") if x.strip()]
    if levels and not all(x.isdigit() for x in levels):
        levels = None
        problems.append(field_problem("thresholds", "percentages", "alert thresholds are whole percentages, "
                                                                   "e.g. 50, 80, 100"))
    try:
        data = BudgetPut.model_validate({"organization_id": organization_id or None, "thresholds": levels,
                                         "monthly_limit": monthly_limit.strip()})
    except ValidationError as exc:
        problems.extend(exc.errors())
    if problems:
        raise RequestValidationError(problems)
    await billing_of(request).put_budget(session, principal.tenant_scope, organization_id=data.organization_id,
                                         monthly_limit=data.monthly_limit, thresholds=data.thresholds,
                                         estimated_call_cost=None, now=now)
    return await section_body(request, principal, session, "budgets", saved(request, principal))


@router.post("/settings/agents/{agent_ref_id}")
async def save_agent(agent_ref_id: str, request: Request, principal: AdminPage, session: DbSession,
                     now: Now) -> Response:
    form = await request.form()
    max_calls = str(form.get("max_concurrent_calls") or "").strip()
    if max_calls and not max_calls.isdigit():
        raise RequestValidationError([field_problem("max_concurrent_calls", "int_parsing", "max calls at once must "
                                                    "be a whole number (or blank for no limit of ours)")])
    data = AgentSettingsUpdate.model_validate({
        "is_enabled": form.get("is_enabled") == "on",
        "specialty": str(form.get("specialty") or "").strip() or None,
        "tags": [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()],
        "allowed_organization_ids": [str(v) for v in form.getlist("allowed_organization_ids")],
        "allowed_call_types": [str(v) for v in form.getlist("allowed_call_types")],
        "max_concurrent_calls": int(max_calls) if max_calls else None})
    await voice.update_agent_settings(session, principal.tenant_scope, agent_ref_id, data, now)
    await analysis_setup.follow_agent_change(session, voices_of(request), principal.tenant_scope, agent_ref_id, now)
    return await section_body(request, principal, session, "agents", saved(request, principal))


def _role(value: str) -> Role:
    if value not in {r.value for r in Role}:
        raise RequestValidationError([field_problem(
            "role", "enum", f"unknown role '{value}'; use one of {', '.join(r.value for r in Role)}")])
    return Role(value)


@router.post("/settings/users")
async def add_user(request: Request, principal: AdminPage, session: DbSession, now: Now, email: str = Form(""),
                   name: str = Form(""), password: str = Form(""), role: str = Form("member"),
                   organization_id: str = Form("")) -> Response:
    principal.require(Permission.manage_users)
    problems = []
    if not name.strip():
        problems.append(field_problem("name", "missing", "a new user needs a name"))
    if not email.strip():
        problems.append(field_problem("email", "missing", "a new user needs an email address"))
    elif "@" not in email:
        problems.append(field_problem("email", "email", "this is not an email address"))
    weak = password_problem(password)
    if weak is not None:
        problems.append(field_problem("password", weak.code, weak.message, **weak.params))
    if problems:
        raise RequestValidationError(problems)
    user = await tenancy.create_user(session, principal.tenant_scope, email=email, name=name, password=password,
                                     role=_role(role), organization_id=organization_id, now=now)
    return await section_body(request, principal, session, "team", saved(request, principal, user.email))


@router.post("/settings/users/{user_id}")
async def save_user(user_id: str, request: Request, principal: AdminPage, session: DbSession,
                    role: str = Form(""), is_active: str = Form("")) -> Response:
    principal.require(Permission.manage_users)
    user = await tenancy.update_user(session, principal, user_id, role=_role(role), is_active=is_active == "on")
    return await section_body(request, principal, session, "team", saved(request, principal, user.email))
