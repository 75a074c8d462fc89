"""Tenants, organizations, users, logins and API tokens. Services never commit."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Conflict, Invalid, NotFound, RateLimited, Unauthenticated
from leadcall.core.ratelimit import Limit, RateLimiter
from leadcall.core.scoping import Scope
from leadcall.kit.passwords import hash_password, hash_token, new_api_token, spend_a_verification, verify_and_update
from leadcall.tenancy import repository as repo
from leadcall.tenancy.models import ApiToken, Organization, Role, Tenant, User
from leadcall.tenancy.passwords import require_acceptable_password
from leadcall.tenancy.principal import Principal, principal_from_row


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "tenant"


async def create_tenant(session: AsyncSession, *, name: str, now: datetime, slug: str | None = None,
                        language: str = "es", country: str = "US", currency: str = "USD") -> Tenant:
    if not name.strip():
        raise Invalid("a tenant needs a name")
    slug = slug or _slugify(name)
    if await repo.unscoped_find_tenant_by_slug(session, slug) is not None:
        raise Conflict(f"a tenant with the slug '{slug}' already exists")
    tenant = Tenant(name=name.strip(), slug=slug, default_language=language, default_country=country.upper(),
                    currency=currency.upper(), created_at=now)
    session.add(tenant)
    await session.flush()
    return tenant


async def create_organization(session: AsyncSession, scope: Scope, *, name: str, now: datetime) -> Organization:
    org = Organization(tenant_id=scope.tenant_id, name=name.strip(), created_at=now)
    repo.OrganizationRepository(session, scope).add(org)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"an organization named '{name}' already exists", code="team_name_taken",
                       params={"name": name}) from exc
    return org


async def list_organizations(session: AsyncSession, scope: Scope) -> list[Organization]:
    return await repo.OrganizationRepository(session, scope).list()


async def create_user(session: AsyncSession, scope: Scope, *, email: str, name: str, password: str | None,
                      role: Role, organization_id: str, now: datetime, language: str | None = None) -> User:
    # The organization must be one of this tenant's: another tenant's id is "not found".
    await repo.OrganizationRepository(session, Scope(scope.tenant_id)).get(organization_id)
    email = email.strip().lower()
    if await repo.unscoped_find_user_by_email(session, email) is not None:
        raise Conflict(f"a user with the email {email} already exists", code="email_taken", params={"email": email})
    if password is not None:
        require_acceptable_password(password)
    user = User(tenant_id=scope.tenant_id, organization_id=organization_id, email=email, name=name.strip(),
                password_hash=await asyncio.to_thread(hash_password, password) if password else None,
                role=role.value, language=language, created_at=now)
    repo.UserRepository(session, scope).add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, principal: Principal, user_id: str, *, name: str | None = None,
                      role: Role | None = None, organization_id: str | None = None, language: str | None = None,
                      is_active: bool | None = None, password: str | None = None) -> User:
    user = await repo.UserRepository(session, principal.tenant_scope).get(user_id)
    if password is not None:
        raise Invalid("a password is not changed by editing the user: each user changes their own with "
                      "POST /api/me/password, and an admin issues a reset link with "
                      "POST /api/users/{id}/password-reset", code="password_not_changed_here")
    if user.id == principal.user_id and (role not in (None, Role.admin) or is_active is False):
        raise Conflict("you cannot remove your own admin role or deactivate yourself", code="own_admin_role")
    if organization_id is not None:
        await repo.OrganizationRepository(session, principal.tenant_scope).get(organization_id)
        user.organization_id = organization_id
    if name is not None:
        user.name = name.strip()
    if role is not None:
        user.role = role.value
    if language is not None:
        user.language = language
    if is_active is not None:
        user.is_active = is_active
        if not is_active:  # a deactivated user is signed out everywhere
            await repo.SessionRepository(session, principal.tenant_scope).delete_for_user(user.id)
    await session.flush()
    return user


async def get_user(session: AsyncSession, scope: Scope, user_id: str) -> User:
    return await repo.UserRepository(session, scope).get(user_id)


async def list_users(session: AsyncSession, scope: Scope) -> list[User]:
    return await repo.UserRepository(session, scope).list()


async def guard_login(limiter: RateLimiter, email: str, client: str | None, per_minute: int) -> None:
    """Slows password guessing: a limited number of attempts per email each minute, and ten times as many
    per client address (an office behind one address signs in many people)."""
    refused = await limiter.hit(Limit(f"login:email:{email.strip().lower()}", per_minute, 60.0),
                                Limit(f"login:client:{client or '-'}", per_minute * 10, 60.0))
    if refused is not None:
        wait = int(refused.wait_seconds)
        raise RateLimited(f"too many sign-in attempts; try again in {wait} s", retry_after_seconds=wait,
                          code="too_many_sign_ins")


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The user these credentials name. Every refusal costs one password verification, so an unknown
    email answers as slowly as a wrong password. A hash of an older scheme or cost is replaced."""
    user = await repo.unscoped_find_user_by_email(session, email)
    if user is None or not user.is_active or not user.password_hash:
        await asyncio.to_thread(spend_a_verification, password)
        raise Unauthenticated("wrong email or password", code="wrong_credentials")
    matches, upgraded = await asyncio.to_thread(verify_and_update, password, user.password_hash)
    if not matches:
        raise Unauthenticated("wrong email or password", code="wrong_credentials")
    if upgraded is not None:
        user.password_hash = upgraded
    return user


async def create_token(session: AsyncSession, principal_scope: Scope, *, user_id: str, name: str,
                       now: datetime) -> tuple[ApiToken, str]:
    """Returns the row and the token itself; only the token's hash is stored."""
    await repo.UserRepository(session, principal_scope).get(user_id)
    token = new_api_token()
    row = ApiToken(tenant_id=principal_scope.tenant_id, user_id=user_id, name=name.strip(),
                   token_hash=hash_token(token), prefix=token[:10], created_at=now)
    repo.TokenRepository(session, principal_scope).add(row)
    await session.flush()
    return row, token


async def list_tokens(session: AsyncSession, principal: Principal) -> list[ApiToken]:
    return await repo.TokenRepository(session, principal.tenant_scope).list_for_user(principal.user_id)


async def revoke_token(session: AsyncSession, principal: Principal, token_id: str, now: datetime) -> ApiToken:
    tokens = repo.TokenRepository(session, principal.tenant_scope)
    # An admin may revoke any token of the tenant; anyone else only their own, and a colleague's id
    # answers exactly as an unknown one.
    row = await (tokens.get(token_id) if principal.role is Role.admin
                 else tokens.get_of_user(token_id, principal.user_id))
    if row.revoked_at is None:
        row.revoked_at = now
    await session.flush()
    return row


def principal_for(user: User, tenant: Tenant, via: str) -> Principal:
    return Principal(tenant_id=user.tenant_id, organization_id=user.organization_id, user_id=user.id,
                     role=Role(user.role), email=user.email, name=user.name,
                     language=user.language or tenant.default_language,
                     via="token" if via == "token" else "session")


async def principal_from_token(session: AsyncSession, token: str, now: datetime) -> tuple[Principal, str | None]:
    """The token's principal, and the token's id when its last use is worth recording (read-only here)."""
    row = await repo.unscoped_principal_row_by_token(session, hash_token(token))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("the API token is not valid (unknown or revoked)")
    if not row.is_active:
        raise Unauthenticated("the API token's user is not active")
    # Recorded at minute precision, so busy integrations do not write on every request.
    stale = row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60
    return principal_from_row(row, "token"), row.token_id if stale else None


async def touch_token(session: AsyncSession, token_id: str, now: datetime) -> None:
    row = await session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = now


async def get_tenant(session: AsyncSession, scope: Scope) -> Tenant:
    tenant = await repo.unscoped_get_tenant(session, scope.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
