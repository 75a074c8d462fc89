"""The current-principal dependency and its role-bound aliases.

Every API route hangs under a router that depends on `current_principal`, so a route
is authenticated unless it is declared in `leadcall.public`. Bearer tokens are for
integrations; the browser uses the signed session cookie, and then every unsafe
method must carry the session's CSRF token (header `X-CSRF-Token` or form field
`csrf_token`).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.db import transaction
from leadcall.core.deps import Now, get_container
from leadcall.core.errors import Forbidden, Unauthenticated
from leadcall.tenancy import service
from leadcall.tenancy.principal import Permission, Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    # Its own short unit of work: the route's transaction (if any) must not be held open
    # by authentication, nor authentication wait for the route's.
    container = get_container(request)
    async with transaction(container.read_sessionmaker) as session:
        principal, token_id = await _resolve(request, session, now)
    if token_id is not None:
        async with transaction(container.sessionmaker) as session:
            await service.touch_token(session, token_id, now)
    request.state.principal = principal
    return principal


async def _resolve(request: Request, session: AsyncSession, now: datetime) -> tuple[Principal, str | None]:
    """The principal, and the id of a token whose last use should be recorded."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use 'Authorization: Bearer <token>'")
        principal, stale_token = await service.principal_from_token(session, token.strip(), now)
        return principal, stale_token
    else:
        user_id = request.session.get("uid") if "session" in request.scope else None
        if not user_id:
            raise Unauthenticated("sign in or send an API token")
        principal = await service.principal_from_user_id(session, user_id)
        await require_csrf(request)
    return principal, None


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
