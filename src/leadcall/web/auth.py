"""Who is looking at a page.

Pages are authenticated by the signed session cookie only (no API tokens): an unauthenticated
browser is sent to /login (`LoginRequired` is a 401, which the error handlers turn into a redirect,
or an `HX-Redirect` for htmx requests). Every unsafe method must carry the session's CSRF token,
as header `X-CSRF-Token` (htmx sends it on every request) or form field `csrf_token` (plain forms),
checked by the API's own `tenancy.deps.require_csrf`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from leadcall.core.deps import get_container
from leadcall.core.errors import LeadcallError
from leadcall.kit.clock import utc_datetime
from leadcall.tenancy.deps import SESSION_KEY, cookie_principal, require_csrf
from leadcall.tenancy.principal import Permission, Principal


class LoginRequired(LeadcallError):
    status_code = 401
    error = "unauthenticated"


async def session_principal(request: Request) -> Principal | None:
    """The signed-in user of this browser, or None (a cookie whose session has ended, or whose user was
    deactivated, forgets it)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    try:
        principal = await cookie_principal(request, utc_datetime(get_container(request).clock))
    except LeadcallError:
        request.session.pop(SESSION_KEY, None)
        return None
    if principal is not None:
        request.state.principal = principal
    return principal


async def page_principal(request: Request) -> Principal:
    principal = await session_principal(request)
    if principal is None:
        raise LoginRequired("please sign in")
    await require_csrf(request)  # the API's check: one rule for every cookie session
    return principal


async def admin_page(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
    principal.require(Permission.manage_accounts)
    return principal


async def reports_page(principal: Annotated[Principal, Depends(page_principal)]) -> Principal:
    principal.require(Permission.view_reports)
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]
AdminPage = Annotated[Principal, Depends(admin_page)]
ReportsPage = Annotated[Principal, Depends(reports_page)]
