"""Who is looking at a page.

Pages are authenticated by the signed session cookie only (no API tokens): an unauthenticated
browser is sent to /login (`LoginRequired` is a 401, which the error handlers turn into a redirect,
or an `HX-Redirect` for htmx requests). Every unsafe method must carry the session's CSRF token,
as header `X-CSRF-Token` (htmx sends it on every request) or form field `csrf_token` (plain forms),
checked by the API's own `tenancy.deps.require_csrf`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request

from leadcall.core.deps import get_container
from leadcall.core.errors import LeadcallError
from leadcall.kit.clock import utc_datetime
from leadcall.tenancy.deps import SESSION_KEY, cookie_principal, require_csrf
from leadcall.tenancy.principal import Permission, Principal

# The session's note for the sign-in page of why this browser was signed out (read once there).
SIGNED_OUT_KEY = "signed_out"


class LoginRequired(LeadcallError):
    status_code = 401
    error = "unauthenticated"


def local_path(target: str | None) -> str | None:
    """`target` when it is a path of this site, else None: where a browser may be sent after a form or a
    sign-in without an open redirect. Refused: absolute and scheme-relative addresses (`https://x`, `//x`),
    backslashes (`/\\x`, which browsers read as `//x`) and any space or control character (a browser drops
    tabs and newlines, so `/\t/x` would become `//x`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def login_url(request: Request) -> str:
    """The sign-in page, with the page this browser was on as `next`: the address of a page it asked for,
    or for htmx (a fragment, a form) the page it shows (`HX-Current-URL`); unsafe requests of a plain form
    are not repeated, so they come back to their page only when htmx names it."""
    if request.headers.get("hx-request"):
        shown = urlsplit(request.headers.get("hx-current-url", ""))
        back = shown.path + (f"?{shown.query}" if shown.query else "")
    elif request.method in ("GET", "HEAD"):
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        back = ""
    target = local_path(back)
    if target is None or target == "/" or target.startswith("/login"):
        return "/login"
    return "/login?" + urlencode({"next": target})


async def session_principal(request: Request) -> Principal | None:
    """The signed-in user of this browser, or None (a cookie whose session has ended, or whose user was
    deactivated, forgets it)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    try:
        principal = await cookie_principal(request, utc_datetime(get_container(request).clock))
    except LeadcallError:  # the session ended (expired, signed out elsewhere, revoked): the sign-in page says so
        request.session.pop(SESSION_KEY, None)
        request.session[SIGNED_OUT_KEY] = "session_ended"
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
