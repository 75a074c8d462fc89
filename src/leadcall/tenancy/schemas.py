from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field
from pydantic_core import PydanticCustomError

from leadcall.kit.password_rules import MAX_LENGTH, MIN_LENGTH, password_problem
from leadcall.kit.schema import Schema, Trimmed
from leadcall.tenancy.models import Role


def _acceptable(password: str) -> str:
    problem = password_problem(password)
    if problem is not None:
        raise PydanticCustomError(problem.code, problem.message, problem.params)
    return password


# A password someone chooses: at least 10 characters and not one of the most common passwords.
NewPassword = Annotated[str, AfterValidator(_acceptable), Field(
    description=f"{MIN_LENGTH} to {MAX_LENGTH} characters, not one of the most common passwords "
                "(refused with password_too_short, password_too_long or password_too_common)")]


class Organization(Schema):
    id: str
    name: str


class OrganizationCreate(Schema):
    name: Trimmed = Field(min_length=1, max_length=200)


class User(Schema):
    id: str
    email: str
    name: str
    role: Role
    organization_id: str
    language: str | None
    is_active: bool


class UserCreate(Schema):
    email: EmailStr
    name: Trimmed = Field(min_length=1, max_length=200)
    password: NewPassword
    role: Role = Role.member
    organization_id: str
    language: str | None = Field(default=None, pattern="^(es|en)$")


class UserUpdate(Schema):
    name: Trimmed | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    organization_id: str | None = None
    language: str | None = Field(default=None, pattern="^(es|en)$")
    is_active: bool | None = None
    password: str | None = Field(default=None, description=(
        "Not changed here: answers 422 password_not_changed_here. A user changes their own password with "
        "POST /api/me/password; an admin issues a reset link with POST /api/users/{id}/password-reset."))


class Me(Schema):
    user: User
    tenant_id: str
    tenant_name: str
    currency: str
    permissions: list[str]


class LoginRequest(Schema):
    email: str = Field(max_length=254)
    # Longer than any password we accept now, so a password set before the current rules still signs in.
    password: str = Field(max_length=1024)


class LoginResult(Schema):
    user: User
    csrf_token: str


class ApiToken(Schema):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreate(Schema):
    name: Trimmed = Field(min_length=1, max_length=100)


class ApiTokenCreated(ApiToken):
    token: str = Field(description="Shown once; only its hash is stored.")


class Session(Schema):
    """A signed-in browser (or client) of the caller."""

    id: str
    created_at: datetime
    last_used_at: datetime = Field(description="Recorded to the minute.")
    expires_at: datetime
    user_agent: str = Field(description="The device, as its browser names itself.")
    address: str = Field(description="The client address it was last used from.")
    current: bool = Field(description="Whether this is the session of the request that asks.")


class PasswordChange(Schema):
    current_password: str = Field(max_length=MAX_LENGTH)
    new_password: NewPassword
    revoke_tokens: bool = Field(default=False, description="Also revoke every API token of the user.")


class PasswordChanged(Schema):
    ended_sessions: int = Field(description="Other sessions that were ended (this one stays signed in).")
    revoked_tokens: int


class PasswordResetLink(Schema):
    url: str = Field(description="Hand it to the user: it works once, until expiresAt. Shown only now.")
    expires_at: datetime


class PasswordResetRequest(Schema):
    token: str = Field(min_length=1, max_length=100, description="The last part of the reset link.")
    new_password: NewPassword
