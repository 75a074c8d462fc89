"""Who is looking at a page. Unauthenticated browsers are sent to /login; forms need the CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from leadcall.core.db import transaction
from leadcall.core.deps import get_container
from leadcall.core.errors import LeadcallError
from leadcall.tenancy import service
from leadcall.tenancy.deps import require_csrf
from leadcall.tenancy.principal import Permission, Principal


class LoginRequired(LeadcallError):
    status_code = 401
    error = "unauthenticated"


async def page_principal(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    user_id = request.session.get("uid")
    if not user_id:
        raise LoginRequired("please sign in")
    async with transaction(get_container(request).read_sessionmaker) as session:
        try:
            principal = await service.principal_from_user_id(session, user_id)
        except LeadcallError as exc:
            request.session.clear()
            raise LoginRequired(exc.detail) from exc
    await require_csrf(request)
    request.state.principal = principal
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
