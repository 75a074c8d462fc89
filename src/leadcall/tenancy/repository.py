from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.scoping import ScopedRepository
from leadcall.tenancy.models import ApiToken, Organization, Tenant, User


class OrganizationRepository(ScopedRepository[Organization]):
    model = Organization
    label = "organization"

    def scoped_select(self) -> Select[Organization]:
        # An organization is in scope when it is the caller's own (or any, tenant-wide).
        stmt = select(Organization).where(Organization.tenant_id == self.scope.tenant_id)
        if self.scope.organization_id is not None:
            stmt = stmt.where(Organization.id == self.scope.organization_id)
        return stmt

    async def list(self) -> list[Organization]:
        return list((await self.session.execute(self.scoped_select().order_by(Organization.name))).scalars())


class UserRepository(ScopedRepository[User]):
    model = User
    label = "user"

    async def list(self) -> list[User]:
        return list((await self.session.execute(self.scoped_select().order_by(User.name))).scalars())


class TokenRepository(ScopedRepository[ApiToken]):
    model = ApiToken
    label = "token"

    async def list_for_user(self, user_id: str) -> list[ApiToken]:
        stmt = self.scoped_select().where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
        return list((await self.session.execute(stmt)).scalars())


async def unscoped_find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """Login happens before we know the tenant, so this read is deliberately cross-tenant."""
    return (await session.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()


async def unscoped_find_token(session: AsyncSession, token_hash: str) -> ApiToken | None:
    """Bearer tokens identify their tenant, so the lookup precedes any scope."""
    return (await session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash))).scalar_one_or_none()


# What authentication needs of a user and its tenant, read in one joined statement per request.
_PRINCIPAL_COLUMNS = (User.id, User.tenant_id, User.organization_id, User.role, User.email, User.name, User.language,
                      User.is_active, Tenant.default_language)


async def unscoped_principal_row_by_token(session: AsyncSession, token_hash: str) -> Any:
    """The token (id, revoked_at, last_used_at) with its user and tenant; the token names its tenant."""
    stmt = (select(ApiToken.id.label("token_id"), ApiToken.revoked_at, ApiToken.last_used_at, *_PRINCIPAL_COLUMNS)
            .join(User, (User.id == ApiToken.user_id) & (User.tenant_id == ApiToken.tenant_id))
            .join(Tenant, Tenant.id == ApiToken.tenant_id)
            .where(ApiToken.token_hash == token_hash))
    return (await session.execute(stmt)).first()


async def unscoped_principal_row_by_user(session: AsyncSession, user_id: str) -> Any:
    """A signed-in user with its tenant (the session cookie names the user)."""
    stmt = select(*_PRINCIPAL_COLUMNS).join(Tenant, Tenant.id == User.tenant_id).where(User.id == user_id)
    return (await session.execute(stmt)).first()


async def unscoped_get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def unscoped_get_tenant(session: AsyncSession, tenant_id: str) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def unscoped_find_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
