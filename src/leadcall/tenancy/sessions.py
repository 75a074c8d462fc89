"""Server-side sign-in sessions. Services never commit.

The browser's cookie carries only a random secret; the session's record (who, since when, last use,
device, address) lives in the database, where the sign-in's tenant already is: resolving the cookie is
the same single joined read per request that resolving a user was, in both shapes (no Redis round trip
to add, nothing to lose when Redis restarts), and listing or ending a user's sessions is a plain query.
Ending a session deletes its row, so a copied cookie stops working at once, on every web process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Unauthenticated
from leadcall.core.scoping import Scope
from leadcall.kit.passwords import hash_token, new_secret
from leadcall.tenancy import repository as repo
from leadcall.tenancy.models import User, UserSession
from leadcall.tenancy.principal import Principal, principal_from_row

# Last use is recorded at minute precision, so a busy page does not write on every request.
TOUCH_AFTER_SECONDS = 60


@dataclass(frozen=True)
class Device:
    """Where a request comes from: the browser's own name for itself, and the client address."""

    user_agent: str
    address: str


async def start_session(session: AsyncSession, user: User, device: Device, now: datetime,
                        lifetime_seconds: int) -> str:
    """Records a new session of `user` and returns the secret its cookie carries (stored only hashed)."""
    sessions = repo.SessionRepository(session, Scope(user.tenant_id))
    await sessions.delete_expired_for_user(user.id, now)
    secret = new_secret()
    sessions.add(UserSession(tenant_id=user.tenant_id, user_id=user.id, secret_hash=hash_token(secret),
                             created_at=now, last_used_at=now, expires_at=now + timedelta(seconds=lifetime_seconds),
                             user_agent=device.user_agent[:300], address=device.address[:64]))
    await session.flush()
    return secret


async def principal_from_session(session: AsyncSession, secret: str, now: datetime) -> tuple[Principal, str | None]:
    """The principal of a live session, and the session's id when its last use is worth recording
    (read-only here). An ended, expired or unknown session, or one of a deactivated user, is refused."""
    row = await repo.unscoped_principal_row_by_session(session, hash_token(secret))
    if row is None or row.expires_at <= now or not row.is_active:
        raise Unauthenticated("your session has ended; please sign in again", code="session_ended")
    stale = (now - row.last_used_at).total_seconds() > TOUCH_AFTER_SECONDS
    return principal_from_row(row, "session", session_id=row.session_id), row.session_id if stale else None


async def touch_session(session: AsyncSession, session_id: str, now: datetime, address: str) -> None:
    await repo.unscoped_touch_session(session, session_id, now, address[:64])


async def end_session_by_secret(session: AsyncSession, secret: str) -> None:
    """Sign-out: the cookie's own session ends (nothing happens for one already ended)."""
    await repo.unscoped_delete_session(session, hash_token(secret))


async def list_sessions(session: AsyncSession, principal: Principal, now: datetime) -> list[UserSession]:
    """The caller's own live sessions, most recently used first."""
    return await repo.SessionRepository(session, principal.tenant_scope).list_for_user(principal.user_id, now)


async def end_session(session: AsyncSession, principal: Principal, session_id: str) -> None:
    """Ends one of the caller's own sessions; anyone else's id answers as an unknown one (404)."""
    await repo.SessionRepository(session, principal.tenant_scope).delete_one_of_user(session_id, principal.user_id)


async def end_sessions_of(session: AsyncSession, scope: Scope, user_id: str, now: datetime, *,
                          keep: str | None = None) -> int:
    """Ends every session of the user but `keep`; returns how many live ones ended."""
    sessions = repo.SessionRepository(session, Scope(scope.tenant_id))
    await sessions.delete_expired_for_user(user_id, now)
    return await sessions.delete_for_user(user_id, keep=keep)
