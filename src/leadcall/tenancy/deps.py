"""The current-principal dependency and its role-bound aliases.

Every API route hangs under a router that depends on `current_principal`, so a route
is authenticated unless it is declared in `leadcall.public`. Bearer tokens are for
integrations; the browser uses the signed session cookie, and then every unsafe
method must carry the session's CSRF token (header `X-CSRF-Token` or form field
`csrf_token`). The cookie (signed by Starlette's session middleware) carries the secret of a server-side
session (`tenancy.sessions`), the CSRF token and the language chosen before sign-in;
who is signed in is only ever read from the session's record.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import authenticating_route
from leadcall.core.db import transaction
from leadcall.core.deps import Now, get_container
from leadcall.core.errors import Forbidden, Unauthenticated
from leadcall.kit.clock import utc_datetime
from leadcall.tenancy import service, sessions
from leadcall.tenancy.models import User
from leadcall.tenancy.principal import Permission, Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The cookie's key for the session's secret.
SESSION_KEY = "sid"


def device_of(request: Request) -> sessions.Device:
    return sessions.Device(user_agent=request.headers.get("user-agent", ""),
                           address=request.client.host if request.client else "")


def has_cookie_session(request: Request) -> bool:
    return "session" in request.scope and bool(request.session.get(SESSION_KEY))


async def sign_in(request: Request, session: AsyncSession, user: User, now: datetime) -> str:
    """Starts a server-side session for `user` in a fresh cookie and returns its CSRF token. Nothing of the
    cookie from before survives but the language it chose (no session fixation)."""
    settings = get_container(request).settings
    previous = request.session.get(SESSION_KEY)
    if previous:  # signing in again in the same browser replaces its session rather than leaving it live
        await sessions.end_session_by_secret(session, str(previous))
    secret = await sessions.start_session(session, user, device_of(request), now, settings.session_max_age_seconds)
    lang = request.session.get("lang")
    csrf = service.new_csrf_token()
    request.session.clear()
    request.session.update({SESSION_KEY: secret, "csrf": csrf})
    if lang:
        request.session["lang"] = lang
    return csrf


async def sign_out(request: Request, session: AsyncSession) -> None:
    """Ends this cookie's server-side session, so a copy of the cookie stops working too."""
    secret = request.session.get(SESSION_KEY) if "session" in request.scope else None
    if secret:
        await sessions.end_session_by_secret(session, str(secret))
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


async def cookie_principal(request: Request, now: datetime) -> Principal | None:
    """The principal of this browser's session, None when the cookie names none; raises Unauthenticated
    (`session_ended`) when it names one that has ended. Its own short units of work: the route's transaction
    (if any) must not be held open by authentication, nor authentication wait for the route's."""
    secret = request.session.get(SESSION_KEY) if "session" in request.scope else None
    if not secret:
        return None
    container = get_container(request)
    async with transaction(container.read_sessionmaker) as session:
        principal, stale = await sessions.principal_from_session(session, str(secret), now)
    if stale is not None:
        async with transaction(container.sessionmaker) as session:
            await sessions.touch_session(session, stale, now, device_of(request).address)
    return principal


async def _csrf_token_from(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def require_csrf(request: Request) -> None:
    """Unsafe methods of a cookie session must carry the session's CSRF token (pages and API alike)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf", "")
    given = await _csrf_token_from(request)
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form has expired or its security token is missing; reload the page", code="form_expired")


async def current_principal(request: Request, now: Now) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    authorization = request.headers.get("authorization", "")
    if authorization:
        principal = await _token_principal(request, authorization, now)
    else:
        found = await cookie_principal(request, now)
        if found is None:
            raise Unauthenticated("sign in or send an API token")
        await require_csrf(request)
        principal = found
    request.state.principal = principal
    return principal


async def _token_principal(request: Request, authorization: str, now: datetime) -> Principal:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use 'Authorization: Bearer <token>'")
    container = get_container(request)
    async with transaction(container.read_sessionmaker) as session:
        principal, token_id = await service.principal_from_token(session, token.strip(), now)
    if token_id is not None:
        async with transaction(container.sessionmaker) as session:
            await service.touch_token(session, token_id, now)
    return principal


async def still_authenticated(request: Request, now: datetime) -> bool:
    """Whether the credentials this request came with still hold: a long-lived answer (the event stream)
    asks between events, so signing out, ending the session or revoking the token also ends it."""
    try:
        authorization = request.headers.get("authorization", "")
        if authorization:
            await _token_principal(request, authorization, now)
            return True
        return await cookie_principal(request, now) is not None
    except Unauthenticated:
        return False


def requires(permission: Permission):  # type: ignore[no-untyped-def]
    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        principal.require(permission)
        return principal

    return dependency


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentMember = CurrentPrincipal
CanViewLeads = Annotated[Principal, Depends(requires(Permission.view_leads))]
CanEditLeads = Annotated[Principal, Depends(requires(Permission.edit_leads))]
CanImportLeads = Annotated[Principal, Depends(requires(Permission.import_leads))]
CanArchiveLeads = Annotated[Principal, Depends(requires(Permission.archive_leads))]
CanEraseLeads = Annotated[Principal, Depends(requires(Permission.erase_leads))]
CanPlaceCalls = Annotated[Principal, Depends(requires(Permission.place_calls))]
CanViewReports = Annotated[Principal, Depends(requires(Permission.view_reports))]
CurrentAdmin = Annotated[Principal, Depends(requires(Permission.manage_users))]
CanManageAccounts = Annotated[Principal, Depends(requires(Permission.manage_accounts))]
CanManageAgents = Annotated[Principal, Depends(requires(Permission.manage_agents))]
CanManageBudgets = Annotated[Principal, Depends(requires(Permission.manage_budgets))]
CanManageRetention = Annotated[Principal, Depends(requires(Permission.manage_retention))]
CanManageDnc = Annotated[Principal, Depends(requires(Permission.manage_dnc))]
CanManageCallingRules = Annotated[Principal, Depends(requires(Permission.manage_calling_rules))]
CanManageWebhooks = Annotated[Principal, Depends(requires(Permission.manage_webhooks))]
CanRunCampaigns = Annotated[Principal, Depends(requires(Permission.run_campaigns))]


async def _authenticate(request: Request) -> None:
    await current_principal(request, utc_datetime(get_container(request).clock))


# The route class of every authenticated API router: the caller is known before the body is read.
ApiRoute = authenticating_route(_authenticate)
