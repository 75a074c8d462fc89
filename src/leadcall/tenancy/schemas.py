from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, Field

from leadcall.kit.schema import Schema, Trimmed
from leadcall.tenancy.models import Role


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
    password: str = Field(min_length=8, max_length=200)
    role: Role = Role.member
    organization_id: str
    language: str | None = Field(default=None, pattern="^(es|en)$")


class UserUpdate(Schema):
    name: Trimmed | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    organization_id: str | None = None
    language: str | None = Field(default=None, pattern="^(es|en)$")
    is_active: bool | None = None


class Me(Schema):
    user: User
    tenant_id: str
    tenant_name: str
    currency: str
    permissions: list[str]


class LoginRequest(Schema):
    email: str
    password: str


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
