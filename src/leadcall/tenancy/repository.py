from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import NotFound
from leadcall.core.scoping import ScopedRepository
from leadcall.tenancy.models import ApiToken, Organization, PasswordReset, Tenant, User, UserSession

T = TypeVar("T")


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

    async def get_of_user(self, token_id: str, user_id: str) -> ApiToken:
        """One of the user's own tokens; a colleague's answers exactly like an unknown id."""
        stmt = self.scoped_select().where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        return _found((await self.session.execute(stmt)).scalar_one_or_none(), self.label)

    async def revoke_all_of_user(self, user_id: str, now: datetime) -> int:
        stmt = (update(ApiToken).where(ApiToken.tenant_id == self.scope.tenant_id, ApiToken.user_id == user_id,
                                       ApiToken.revoked_at.is_(None)).values(revoked_at=now))
        return _count(await self.session.execute(stmt))


class SessionRepository(ScopedRepository[UserSession]):
    model = UserSession
    label = "session"

    async def list_for_user(self, user_id: str, now: datetime) -> list[UserSession]:
        stmt = (self.scoped_select().where(UserSession.user_id == user_id, UserSession.expires_at > now)
                .order_by(UserSession.last_used_at.desc(), UserSession.created_at.desc()))
        return list((await self.session.execute(stmt)).scalars())

    async def delete_one_of_user(self, session_id: str, user_id: str) -> None:
        """Ends one of the user's sessions; anyone else's (or an unknown, or an already ended) id is not found."""
        stmt = delete(UserSession).where(UserSession.tenant_id == self.scope.tenant_id, UserSession.id == session_id,
                                         UserSession.user_id == user_id)
        if _count(await self.session.execute(stmt)) == 0:
            raise _not_found(self.label)

    async def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        """Ends every session of the user but `keep`; returns how many rows went."""
        stmt = delete(UserSession).where(UserSession.tenant_id == self.scope.tenant_id, UserSession.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(UserSession.id != keep)
        return _count(await self.session.execute(stmt))

    async def delete_expired_for_user(self, user_id: str, now: datetime) -> None:
        await self.session.execute(delete(UserSession).where(
            UserSession.tenant_id == self.scope.tenant_id, UserSession.user_id == user_id,
            UserSession.expires_at <= now))


class PasswordResetRepository(ScopedRepository[PasswordReset]):
    model = PasswordReset
    label = "password reset"

    async def void_unused_for_user(self, user_id: str, now: datetime) -> None:
        """Earlier links of the user stop working once a new one is issued (or one is used)."""
        await self.session.execute(update(PasswordReset).where(
            PasswordReset.tenant_id == self.scope.tenant_id, PasswordReset.user_id == user_id,
            PasswordReset.used_at.is_(None)).values(used_at=now))

    async def claim(self, reset_id: str, now: datetime) -> bool:
        """Marks the link used; False when another request used it first (single use under races)."""
        stmt = (update(PasswordReset).where(PasswordReset.tenant_id == self.scope.tenant_id,
                                            PasswordReset.id == reset_id, PasswordReset.used_at.is_(None))
                .values(used_at=now))
        return _count(await self.session.execute(stmt)) == 1


def _not_found(label: str) -> NotFound:
    """The repositories' own "not found" (ScopedRepository.get), so every way of missing answers alike."""
    return NotFound(f"{label} not found", code="not_found", params={"what": label})


def _found(row: T | None, label: str) -> T:
    if row is None:
        raise _not_found(label)
    return row


def _count(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


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


async def unscoped_principal_row_by_session(session: AsyncSession, secret_hash: str) -> Any:
    """The session (id, expires_at, last_used_at, address) with its user and tenant; the cookie's secret names
    the session, which names its tenant."""
    stmt = (select(UserSession.id.label("session_id"), UserSession.expires_at, UserSession.last_used_at,
                   UserSession.address, *_PRINCIPAL_COLUMNS)
            .join(User, (User.id == UserSession.user_id) & (User.tenant_id == UserSession.tenant_id))
            .join(Tenant, Tenant.id == UserSession.tenant_id)
            .where(UserSession.secret_hash == secret_hash))
    return (await session.execute(stmt)).first()


async def unscoped_delete_session(session: AsyncSession, secret_hash: str) -> None:
    """Sign-out names its session by the cookie's secret alone."""
    await session.execute(delete(UserSession).where(UserSession.secret_hash == secret_hash))


async def unscoped_touch_session(session: AsyncSession, session_id: str, now: datetime, address: str) -> None:
    """One UPDATE, which finds nothing (and fails nothing) when the session ended meanwhile."""
    await session.execute(update(UserSession).where(UserSession.id == session_id)
                          .values(last_used_at=now, address=address))


async def unscoped_find_reset(session: AsyncSession, secret_hash: str) -> PasswordReset | None:
    """A reset link is opened by someone not signed in: its secret names the tenant."""
    stmt = select(PasswordReset).where(PasswordReset.secret_hash == secret_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def unscoped_get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def unscoped_get_tenant(session: AsyncSession, tenant_id: str) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def unscoped_find_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
