from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import OrgOwned, TenantOwned

# PostgreSQL's trigram indexes of the leads search (migration 0017), one per searched expression; they are
# PostgreSQL's own (SQLite has no trigram index), so they are kept out of the models' metadata.
SEARCH_INDEXES = {"ix_leads_name_trgm": "lower(name)", "ix_leads_company_trgm": "lower(company)",
                  "ix_leads_email_trgm": "lower(email)", "ix_leads_phone_trgm": "phone"}
# SQLite's FTS5 trigram index of the same columns (migration 0019), a virtual table kept in step by triggers.
SEARCH_TABLE = "leads_search"


class LeadStatus(StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    unqualified = "unqualified"
    won = "won"
    lost = "lost"


class Lead(IdMixin, OrgOwned, Base):
    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_tenant_created", "tenant_id", "created_at", "id"),
                      UniqueConstraint("tenant_id", "external_id"))

    # The CRM's own id of the lead (PUT /api/leads/by-external-id/…): one lead per id in a tenant.
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
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


class DncSource(StrEnum):
    manual = "manual"
    import_ = "import"
    api = "api"
    opt_out = "opt_out"
    lead_flag = "lead_flag"


class DncEntry(IdMixin, TenantOwned, Base):
    """The tenant's do-not-call list: by E.164 number, not by lead, so every lead sharing a listed
    number is refused, including leads created after the number was listed."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    # The call during which the person opted out, when that is how the number got here.
    call_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime]


class DncChange(IdMixin, TenantOwned, Base):
    """The list's own audit trail: every number listed or removed, why, by whom and from where."""

    __tablename__ = "dnc_changes"
    __table_args__ = (Index("ix_dnc_changes_phone", "tenant_id", "phone", "at"),)

    phone: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))  # added | removed
    source: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime]


class LeadEvent(IdMixin, TenantOwned, Base):
    """The lead's own audit trail beside its calls' events: archived, restored, erased, placements the
    calling rules refused, do-not-call and consent changes (by whom, when). Outlives the lead's data."""

    __tablename__ = "lead_events"
    __table_args__ = (Index("ix_lead_events_lead", "lead_id", "at", "seq"),)

    lead_id: Mapped[str] = mapped_column(String(36), ForeignKey("leads.id"))
    at: Mapped[datetime]
    # Orders events of the same (simulated) instant: wall-clock nanoseconds.
    seq: Mapped[int] = mapped_column(BigInteger, default=time.time_ns)
    # archived | restored | erased | placement_refused | dnc_added | dnc_removed | consent_given | opted_out
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # Who, in words: the user's email at the time (kept if the user is removed later).
    actor: Mapped[str] = mapped_column(String(254))
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The stable code of what happened (a refusal's code, a do-not-call source) and its values.
    code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    params: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
