from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import OrgOwned


class LeadStatus(StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    unqualified = "unqualified"
    won = "won"
    lost = "lost"


class Lead(IdMixin, OrgOwned, Base):
    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_tenant_created", "tenant_id", "created_at", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=LeadStatus.new.value)
    owner_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                 nullable=True, index=True)
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_call_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_called_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A lead is archived, never deleted: its calls hold money and history (see leadcall.retention,
    # whose lead_events say who archived, restored or erased it).
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When its personal data was erased on a privacy request (it stays archived).
    erased_at: Mapped[datetime | None] = mapped_column(nullable=True)
