"""The user's own page (password, signed-in sessions) and the page a password reset link opens.

Forms post and redirect back (plain HTML, no script needed); a refused form shows the page again with
the problem in the page's language. Another user's session id answers 404 like an unknown one.
"""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from leadcall.core.deps import DbSession, Now
from leadcall.core.errors import Invalid, LeadcallError, NotFound, RateLimited
from leadcall.tenancy import passwords, sessions
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.deps import require_csrf, sign_out
from leadcall.tenancy.principal import Permission, Principal
from leadcall.web.auth import AdminPage, PagePrincipal, page_principal, session_principal
from leadcall.web.forms import PageRoute
from leadcall.web.i18n import translate_problem
from leadcall.web.rendering import language_of, render

account_pages = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal)], route_class=PageRoute)
account_public = APIRouter(include_in_schema=False, route_class=PageRoute)

# Browser and system names a user recognises, looked for in the order a user agent string needs
# (Edge and Opera also say Chrome; Chrome also says Safari).
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"), ("python-httpx/", "httpx"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_name(user_agent: str) -> str:
    """"Firefox · Windows" rather than a whole user agent string; the string itself when nothing is recognised."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser is None and system is None:
        return re.sub(r"\s+", " ", user_agent).strip()[:80]
    return " · ".join(part for part in (browser, system) if part)


async def _account_page(request: Request, principal: Principal, session: DbSession, now: datetime,
                        status_code: int = 200, error: str | None = None) -> Response:
    user = await tenancy.get_user(session, principal.tenant_scope, principal.user_id)
    rows = await sessions.list_sessions(session, principal, now)
    notice = request.session.pop("notice", None)
    return render(request, "account.html", principal, status_code=status_code, user=user, error=error,
                  notice=notice if isinstance(notice, dict) else None, device_name=device_name,
                  sessions=rows)


@account_pages.get("/account")
async def account_page(request: Request, principal: PagePrincipal, session: DbSession, now: Now) -> Response:
    return await _account_page(request, principal, session, now)


def _problem(request: Request, principal: Principal | None, exc: LeadcallError) -> str:
    return translate_problem(language_of(request, principal), exc.code or "", exc.detail, exc.params)


@account_pages.post("/account/password")
async def change_password(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                          current_password: str = Form(""), new_password: str = Form(""),
                          new_password_again: str = Form(""), revoke_tokens: str = Form("")) -> Response:
    settings = request.app.state.container.settings
    try:
        if new_password != new_password_again:
            raise Invalid("the two new passwords differ", code="password_mismatch")
        changed = await passwords.change_own_password(
            session, request.app.state.limiter, principal, current_password=current_password,
            new_password=new_password, now=now, revoke_tokens=revoke_tokens == "on",
            attempts_per_minute=settings.login_attempts_per_minute)
    except (Invalid, RateLimited) as exc:
        status = exc.status_code
        return await _account_page(request, principal, session, now, status_code=status,
                                   error=_problem(request, principal, exc))
    request.session["notice"] = {"key": "account.password_changed",
                                 "values": {"sessions": changed.ended_sessions, "tokens": changed.revoked_tokens}}
    return RedirectResponse("/account", status_code=303)


@account_pages.post("/account/sessions/{session_id}/end")
async def end_session(session_id: str, request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    await sessions.end_session(session, principal, session_id)
    if session_id == principal.session_id:  # this browser signed itself out
        await sign_out(request, session)
        return RedirectResponse("/login", status_code=303)
    request.session["notice"] = {"key": "account.session_ended", "values": {}}
    return RedirectResponse("/account", status_code=303)


@account_pages.post("/account/sessions/end-all")
async def end_all_sessions(request: Request, principal: PagePrincipal, session: DbSession, now: Now) -> Response:
    """Sign out everywhere, this browser included."""
    await sessions.end_sessions_of(session, principal.tenant_scope, principal.user_id, now)
    await sign_out(request, session)
    return RedirectResponse("/login", status_code=303)


@account_pages.post("/settings/users/{user_id}/reset-link")
async def issue_reset_link(user_id: str, request: Request, principal: AdminPage, session: DbSession,
                           now: Now) -> Response:
    """A reset link for a user of the tenant, shown to the admin to hand over (no mail is sent)."""
    principal.require(Permission.manage_users)
    settings = request.app.state.container.settings
    row, secret = await passwords.issue_reset(session, principal.tenant_scope, user_id=user_id,
                                              issued_by=principal.user_id, now=now,
                                              valid_seconds=settings.password_reset_valid_seconds)
    return render(request, "_reset_link.html", principal, url=passwords.reset_url(settings.public_base_url, secret),
                  expires_at=row.expires_at, user_id=user_id)


async def _reset_page(request: Request, session: DbSession, secret: str, now: datetime, *, status_code: int = 200,
                      error: str | None = None) -> Response:
    principal = await session_principal(request)
    try:
        _row, user = await passwords.reset_target(session, secret, now)
    except NotFound as exc:
        return render(request, "password_reset.html", principal, status_code=404, state="invalid",
                      error=_problem(request, principal, exc), email=None)
    return render(request, "password_reset.html", principal, status_code=status_code, state="form", error=error,
                  email=user.email)


@account_public.get(passwords.RESET_PATH + "/{secret}")
async def reset_page(secret: str, request: Request, session: DbSession, now: Now) -> Response:
    return await _reset_page(request, session, secret, now)


@account_public.post(passwords.RESET_PATH + "/{secret}")
async def reset_password(secret: str, request: Request, session: DbSession, now: Now, new_password: str = Form(""),
                         new_password_again: str = Form("")) -> Response:
    await require_csrf(request)  # the form carries the token of the browser that showed it
    principal = await session_principal(request)
    try:
        if new_password != new_password_again:
            raise Invalid("the two new passwords differ", code="password_mismatch")
        await passwords.reset_password(session, secret, new_password, now)
    except Invalid as exc:
        return await _reset_page(request, session, secret, now, status_code=422, error=_problem(request, principal, exc))
    except NotFound as exc:
        return render(request, "password_reset.html", principal, status_code=404, state="invalid",
                      error=_problem(request, principal, exc), email=None)
    # Whoever set it signs in with it now (this browser's own session, if it was theirs, has ended).
    return render(request, "password_reset.html", None, state="done", error=None, email=None)
