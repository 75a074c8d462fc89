from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import TenantOwned


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    member = "member"


class Tenant(IdMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    default_language: Mapped[str] = mapped_column(String(5), default="es")
    # Region used to read phone numbers written without a country code.
    default_country: Mapped[str] = mapped_column(String(2), default="US")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # IANA zone for leads whose own field and phone number name none (calling hours); None: the country's.
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Transcripts and recordings older than this are removed; None keeps them (see leadcall.retention).
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # ... and the conversations are deleted at ElevenLabs too.
    retention_delete_at_provider: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Callbacks the leads ask for: placed by the worker at their time ("auto") or shown as due ("manual").
    callback_mode: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")
    created_at: Mapped[datetime]


class Organization(IdMixin, TenantOwned, Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class User(IdMixin, TenantOwned, Base):
    __tablename__ = "users"

    organization_id: Mapped[str] = mapped_column(String(36), ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.member.value)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ApiToken(IdMixin, TenantOwned, Base):
    __tablename__ = "api_tokens"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a person can tell tokens apart; never enough to use.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class UserSession(IdMixin, TenantOwned, Base):
    """A signed-in browser (or API client that signed in with a password). The cookie carries a random
    secret; only its hash is stored, so the table cannot be replayed. Ending a session deletes its row,
    which is what makes a copied cookie stop working."""

    __tablename__ = "user_sessions"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # The device, as its browser names itself, and the address it was last used from.
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class PasswordReset(IdMixin, TenantOwned, Base):
    """A link an admin issued for a user to set a new password: time-limited, single use, stored hashed."""

    __tablename__ = "password_resets"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
