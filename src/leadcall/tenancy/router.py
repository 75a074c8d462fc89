from __future__ import annotations

from fastapi import APIRouter, Request, Response

from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.tenancy import passwords, schemas, service, sessions
from leadcall.tenancy.deps import ApiRoute, CurrentAdmin, CurrentPrincipal, sign_in, sign_out
from leadcall.tenancy.principal import ROLE_PERMISSIONS

router = APIRouter(tags=["tenancy"], route_class=ApiRoute)
public_router = APIRouter(tags=["auth"])


@public_router.post("/api/auth/login", response_model=schemas.LoginResult)
async def login(body: schemas.LoginRequest, request: Request, session: DbSession, container: ContainerDep,
                now: Now) -> schemas.LoginResult:
    """Signs in with a session cookie (for browsers and front ends; integrations use API tokens)."""
    await service.guard_login(request.app.state.limiter, body.email, request.client.host if request.client else None,
                              container.settings.login_attempts_per_minute)
    user = await service.authenticate(session, body.email, body.password)
    csrf = await sign_in(request, session, user, now)
    return schemas.LoginResult(user=schemas.User.model_validate(user), csrf_token=csrf)


@public_router.post("/api/auth/logout", status_code=204)
async def logout(request: Request, session: DbSession) -> Response:
    """Ends this cookie's session on the server: a copy of the cookie no longer works either."""
    await sign_out(request, session)
    return Response(status_code=204)


@public_router.post("/api/auth/password-reset", status_code=204)
async def reset_password(body: schemas.PasswordResetRequest, session: DbSession, now: Now) -> Response:
    """Sets a new password through an admin-issued reset link (once); every session of the user ends."""
    await passwords.reset_password(session, body.token, body.new_password, now)
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
                                     is_active=body.is_active, password=body.password)
    return schemas.User.model_validate(user)


@router.post("/api/users/{user_id}/password-reset", response_model=schemas.PasswordResetLink, status_code=201)
async def issue_password_reset(user_id: str, principal: CurrentAdmin, session: DbSession, container: ContainerDep,
                               now: Now) -> schemas.PasswordResetLink:
    """A link for the user to set a new password: hand it over yourself (no mail is sent). It works once,
    for a limited time; issuing another voids it."""
    row, secret = await passwords.issue_reset(session, principal.tenant_scope, user_id=user_id,
                                              issued_by=principal.user_id, now=now,
                                              valid_seconds=container.settings.password_reset_valid_seconds)
    return schemas.PasswordResetLink(url=passwords.reset_url(container.settings.public_base_url, secret),
                                     expires_at=row.expires_at)


@router.post("/api/me/password", response_model=schemas.PasswordChanged)
async def change_password(body: schemas.PasswordChange, request: Request, principal: CurrentPrincipal,
                          session: DbSession, container: ContainerDep, now: Now) -> schemas.PasswordChanged:
    """Changes the caller's password (the current one is required). Every other session of the user ends;
    API tokens stay valid unless `revokeTokens` is true."""
    changed = await passwords.change_own_password(
        session, request.app.state.limiter, principal, current_password=body.current_password,
        new_password=body.new_password, now=now, revoke_tokens=body.revoke_tokens,
        attempts_per_minute=container.settings.login_attempts_per_minute)
    return schemas.PasswordChanged(ended_sessions=changed.ended_sessions, revoked_tokens=changed.revoked_tokens)


@router.get("/api/me/sessions", response_model=list[schemas.Session])
async def list_sessions(principal: CurrentPrincipal, session: DbSession, now: Now) -> list[schemas.Session]:
    """The caller's signed-in sessions, most recently used first."""
    return [schemas.Session(id=s.id, created_at=s.created_at, last_used_at=s.last_used_at, expires_at=s.expires_at,
                            user_agent=s.user_agent, address=s.address, current=s.id == principal.session_id)
            for s in await sessions.list_sessions(session, principal, now)]


@router.delete("/api/me/sessions", status_code=204)
async def end_all_sessions(principal: CurrentPrincipal, session: DbSession, now: Now) -> Response:
    """Signs the caller out everywhere, this session included (API tokens stay valid)."""
    await sessions.end_sessions_of(session, principal.tenant_scope, principal.user_id, now)
    return Response(status_code=204)


@router.delete("/api/me/sessions/{session_id}", status_code=204)
async def end_session(session_id: str, principal: CurrentPrincipal, session: DbSession) -> Response:
    """Ends one of the caller's sessions (another user's id answers 404)."""
    await sessions.end_session(session, principal, session_id)
    return Response(status_code=204)


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
