from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import OrgOwned, TenantOwned

TENANT_SCOPE_KEY = "tenant"


class CallingRules(IdMixin, TenantOwned, Base):
    """The tenant's default rules (scope_key 'tenant') or one organization's override (scope_key = its id).
    An override replaces the tenant's windows and caps for that organization's leads; regional rules
    then narrow whichever applies."""

    __tablename__ = "calling_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "scope_key"),)

    scope_key: Mapped[str] = mapped_column(String(36))
    organization_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=True)
    # [{"days": ["mon", ...], "start": "09:00", "end": "20:00"}], in the lead's local time.
    windows: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    max_attempts_per_24h: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_attempts_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    require_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    region_rules: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(36), nullable=True)


class LeadConsent(IdMixin, OrgOwned, Base):
    """Consent to be called, as given (source, wording, time) and who recorded it; an opt-out revokes it."""

    __tablename__ = "lead_consents"
    __table_args__ = (Index("ix_lead_consents_lead", "lead_id", "given_at"),)

    lead_id: Mapped[str] = mapped_column(String(36), ForeignKey("leads.id"))
    source: Mapped[str] = mapped_column(String(20))  # form | call | import | api | verbal
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    given_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
