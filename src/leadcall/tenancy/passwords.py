"""Choosing, changing and resetting passwords. Services never commit.

A new password must pass `kit.password_rules` (at least 10 characters, not a common password). Changing
one's password ends every other session of the user (the one that changed it stays signed in); API tokens
stay valid unless the change asks to revoke them too. A reset link is issued by an admin (there is no mail
server: the admin hands it over), is valid for a limited time, works once, and is stored only hashed;
setting a password through it ends all of the user's sessions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Invalid, NotFound, RateLimited
from leadcall.core.ratelimit import Limit, RateLimiter
from leadcall.core.scoping import Scope
from leadcall.kit.password_rules import password_problem
from leadcall.kit.passwords import hash_password, hash_token, new_secret, spend_a_verification, verify_and_update
from leadcall.tenancy import repository as repo
from leadcall.tenancy import sessions
from leadcall.tenancy.models import PasswordReset, User
from leadcall.tenancy.principal import Principal


def require_acceptable_password(password: str) -> None:
    """Refuses a password the rules do not accept (422 with its code: too short, too long, too common)."""
    problem = password_problem(password)
    if problem is not None:
        raise Invalid(problem.message, code=problem.code, params=problem.params)


@dataclass(frozen=True)
class PasswordChanged:
    ended_sessions: int
    revoked_tokens: int


async def _set_password(session: AsyncSession, user: User, new_password: str, now: datetime, *,
                        keep_session: str | None, revoke_tokens: bool) -> PasswordChanged:
    require_acceptable_password(new_password)
    user.password_hash = await asyncio.to_thread(hash_password, new_password)
    scope = Scope(user.tenant_id)
    ended = await sessions.end_sessions_of(session, scope, user.id, now, keep=keep_session)
    revoked = await repo.TokenRepository(session, scope).revoke_all_of_user(user.id, now) if revoke_tokens else 0
    await repo.PasswordResetRepository(session, scope).void_unused_for_user(user.id, now)
    await session.flush()
    return PasswordChanged(ended_sessions=ended, revoked_tokens=revoked)


async def change_own_password(session: AsyncSession, limiter: RateLimiter, principal: Principal, *,
                              current_password: str, new_password: str, now: datetime, revoke_tokens: bool,
                              attempts_per_minute: int) -> PasswordChanged:
    """The caller changes their own password, proving they know the current one (attempts are limited
    as sign-ins are). Their other sessions end; this one stays signed in."""
    refused = await limiter.hit(Limit(f"password:user:{principal.user_id}", attempts_per_minute, 60.0))
    if refused is not None:
        wait = int(refused.wait_seconds)
        raise RateLimited(f"too many password attempts; try again in {wait} s", retry_after_seconds=wait,
                          code="too_many_password_attempts")
    user = await repo.UserRepository(session, principal.tenant_scope).get(principal.user_id)
    matches = False
    if user.password_hash:
        matches, _upgraded = await asyncio.to_thread(verify_and_update, current_password, user.password_hash)
    else:  # a user created without a password (by the CLI) sets one through a reset link
        await asyncio.to_thread(spend_a_verification, current_password)
    if not matches:
        raise Invalid("the current password is not right", code="current_password_wrong")
    if new_password == current_password:
        raise Invalid("the new password is the current one; choose another", code="password_unchanged")
    return await _set_password(session, user, new_password, now, keep_session=principal.session_id,
                               revoke_tokens=revoke_tokens)


async def set_password_by_email(session: AsyncSession, email: str, new_password: str, now: datetime, *,
                                revoke_tokens: bool) -> PasswordChanged:
    """An operator sets a user's password (the CLI): every session of the user ends."""
    user = await repo.unscoped_find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user with the email {email}", code="not_found", params={"what": "user"})
    return await _set_password(session, user, new_password, now, keep_session=None, revoke_tokens=revoke_tokens)


async def issue_reset(session: AsyncSession, scope: Scope, *, user_id: str, issued_by: str | None, now: datetime,
                      valid_seconds: int) -> tuple[PasswordReset, str]:
    """A new reset link's record and its secret (for the link; stored only hashed). The user's earlier
    unused links stop working."""
    user = await repo.UserRepository(session, Scope(scope.tenant_id)).get(user_id)
    resets = repo.PasswordResetRepository(session, Scope(scope.tenant_id))
    await resets.void_unused_for_user(user.id, now)
    secret = new_secret()
    row = resets.add(PasswordReset(tenant_id=user.tenant_id, user_id=user.id, secret_hash=hash_token(secret),
                                   created_by=issued_by, created_at=now,
                                   expires_at=now + timedelta(seconds=valid_seconds)))
    await session.flush()
    return row, secret


async def issue_reset_by_email(session: AsyncSession, email: str, now: datetime,
                               valid_seconds: int) -> tuple[PasswordReset, str]:
    user = await repo.unscoped_find_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user with the email {email}", code="not_found", params={"what": "user"})
    return await issue_reset(session, Scope(user.tenant_id), user_id=user.id, issued_by=None, now=now,
                             valid_seconds=valid_seconds)


# The page a reset link opens (leadcall.web serves it).
RESET_PATH = "/password-reset"


def reset_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}{RESET_PATH}/{secret}"


def _invalid_link() -> NotFound:
    return NotFound("this password reset link is unknown, already used or expired; ask an admin for a new one",
                    code="reset_link_invalid")


async def reset_target(session: AsyncSession, secret: str, now: datetime) -> tuple[PasswordReset, User]:
    """The live reset link `secret` names, with its user (an active one)."""
    row = await repo.unscoped_find_reset(session, hash_token(secret))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise _invalid_link()
    user = await repo.UserRepository(session, Scope(row.tenant_id)).find(row.user_id)
    if user is None or not user.is_active:
        raise _invalid_link()
    return row, user


async def reset_password(session: AsyncSession, secret: str, new_password: str, now: datetime) -> User:
    """Sets the password through a reset link, once: the link is used up and every session of the user ends."""
    row, user = await reset_target(session, secret, now)
    require_acceptable_password(new_password)  # before the link is used up, so a refused password can be retried
    if not await repo.PasswordResetRepository(session, Scope(row.tenant_id)).claim(row.id, now):
        raise _invalid_link()
    await _set_password(session, user, new_password, now, keep_session=None, revoke_tokens=False)
    return user
