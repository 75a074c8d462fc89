from __future__ import annotations

from fastapi import APIRouter, Request, Response

from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.tenancy import schemas, service
from leadcall.tenancy.deps import CurrentAdmin, CurrentPrincipal
from leadcall.tenancy.principal import ROLE_PERMISSIONS

router = APIRouter(tags=["tenancy"])
public_router = APIRouter(tags=["auth"])


@public_router.post("/api/auth/login", response_model=schemas.LoginResult)
async def login(body: schemas.LoginRequest, request: Request, session: DbSession,
                container: ContainerDep) -> schemas.LoginResult:
    await service.guard_login(request.app.state.limiter, body.email, request.client.host if request.client else None,
                              container.settings.login_attempts_per_minute)
    user = await service.authenticate(session, body.email, body.password)
    csrf = service.new_csrf_token()
    request.session.clear()
    request.session.update({"uid": user.id, "csrf": csrf})
    return schemas.LoginResult(user=schemas.User.model_validate(user), csrf_token=csrf)


@public_router.post("/api/auth/logout", status_code=204)
async def logout(request: Request) -> Response:
    request.session.clear()
    return Response(status_code=204)


@router.get("/api/me", response_model=schemas.Me)
async def me(principal: CurrentPrincipal, session: DbSession) -> schemas.Me:
    tenant = await service.get_tenant(session, principal.tenant_scope)
    user = await service.get_user(session, principal.tenant_scope, principal.user_id)
    return schemas.Me(user=schemas.User.model_validate(user), tenant_id=tenant.id, tenant_name=tenant.name,
                      currency=tenant.currency, permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]))


@router.get("/api/organizations", response_model=list[schemas.Organization])
async def list_organizations(principal: CurrentPrincipal, session: DbSession) -> list[schemas.Organization]:
    orgs = await service.list_organizations(session, principal.scope)
    return [schemas.Organization.model_validate(o) for o in orgs]


@router.post("/api/organizations", response_model=schemas.Organization, status_code=201)
async def create_organization(body: schemas.OrganizationCreate, principal: CurrentAdmin, session: DbSession,
                              now: Now) -> schemas.Organization:
    org = await service.create_organization(session, principal.tenant_scope, name=body.name, now=now)
    return schemas.Organization.model_validate(org)


@router.get("/api/users", response_model=list[schemas.User])
async def list_users(principal: CurrentAdmin, session: DbSession) -> list[schemas.User]:
    return [schemas.User.model_validate(u) for u in await service.list_users(session, principal.tenant_scope)]


@router.post("/api/users", response_model=schemas.User, status_code=201)
async def create_user(body: schemas.UserCreate, principal: CurrentAdmin, session: DbSession,
                      now: Now) -> schemas.User:
    user = await service.create_user(session, principal.tenant_scope, email=body.email, name=body.name,
                                     password=body.password, role=body.role,
                                     organization_id=body.organization_id, language=body.language, now=now)
    return schemas.User.model_validate(user)


@router.patch("/api/users/{user_id}", response_model=schemas.User)
async def update_user(user_id: str, body: schemas.UserUpdate, principal: CurrentAdmin,
                      session: DbSession) -> schemas.User:
    user = await service.update_user(session, principal, user_id, name=body.name, role=body.role,
                                     organization_id=body.organization_id, language=body.language,
                                     is_active=body.is_active)
    return schemas.User.model_validate(user)


@router.get("/api/tokens", response_model=list[schemas.ApiToken])
async def list_tokens(principal: CurrentPrincipal, session: DbSession) -> list[schemas.ApiToken]:
    return [schemas.ApiToken.model_validate(t) for t in await service.list_tokens(session, principal)]


@router.post("/api/tokens", response_model=schemas.ApiTokenCreated, status_code=201)
async def create_token(body: schemas.ApiTokenCreate, principal: CurrentPrincipal, session: DbSession,
                       now: Now) -> schemas.ApiTokenCreated:
    row, token = await service.create_token(session, principal.tenant_scope, user_id=principal.user_id,
                                            name=body.name, now=now)
    return schemas.ApiTokenCreated.model_validate({**schemas.ApiToken.model_validate(row).model_dump(),
                                                  "token": token})


@router.delete("/api/tokens/{token_id}", response_model=schemas.ApiToken)
async def revoke_token(token_id: str, principal: CurrentPrincipal, session: DbSession,
                       now: Now) -> schemas.ApiToken:
    return schemas.ApiToken.model_validate(await service.revoke_token(session, principal, token_id, now))
