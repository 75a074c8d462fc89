"""Campaigns: a set of leads called with an agent (or a pool) over days. One row per lead attempt is the
truth of the dispatcher (`campaign_attempts`): its state, due time, attempt number, call and reason."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import OrgOwned


class CampaignState(StrEnum):
    draft = "draft"
    scheduled = "scheduled"  # started, its start time not reached yet
    running = "running"
    paused = "paused"
    completed = "completed"
    canceled = "canceled"


ENDED = (CampaignState.completed.value, CampaignState.canceled.value)
EDITABLE = (CampaignState.draft.value, CampaignState.paused.value)


class AttemptState(StrEnum):
    pending = "pending"  # waiting for its due time (shown `due` once it has come)
    dialing = "dialing"  # its call is reserved and live
    done = "done"  # its call ended
    skipped = "skipped"  # never dialled: the rules refuse the lead (code says which)
    canceled = "canceled"  # the campaign was canceled or ended, or a stop condition ended the lead's attempts


class Campaign(IdMixin, OrgOwned, Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_dispatch", "state", "last_dispatch_at"),)

    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(12), default=CampaignState.draft.value)
    agent_ids: Mapped[list[str]] = mapped_column(JSON)  # ElevenLabs agent ids, tried in turn
    call_type: Mapped[str] = mapped_column(String(40))
    lead_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    lead_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    start_at: Mapped[datetime | None] = mapped_column(nullable=True)
    end_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Narrows the tenant's calling rules (calling-rules shape); None: the rules alone.
    windows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    max_live_calls: Mapped[int] = mapped_column(Integer)
    calls_per_second: Mapped[float] = mapped_column(Numeric(8, 3, asdecimal=False))
    retry: Mapped[dict[str, Any]] = mapped_column(JSON)
    stop_on: Mapped[list[str]] = mapped_column(JSON)
    spending_cap: Mapped[float | None] = mapped_column(Numeric(12, 4, asdecimal=False), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    end_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # The dispatcher's own state, written under the campaign's row lock: when it last dialled (round robin
    # across campaigns), the next dial allowed per ElevenLabs account (pacing), whose turn it is in the pool.
    last_dispatch_at: Mapped[datetime | None] = mapped_column(nullable=True)
    pace: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    agent_turn: Mapped[int] = mapped_column(Integer, default=0)


class CampaignAttempt(IdMixin, OrgOwned, Base):
    __tablename__ = "campaign_attempts"
    __table_args__ = (UniqueConstraint("campaign_id", "lead_id", "attempt"),
                      # Claim order (due time, then id) read straight from the index; claims on their way found
                      # among the few claimed rows (the dispatcher's capacity counts).
                      Index("ix_campaign_attempts_due", "campaign_id", "state", "due_at", "id"),
                      Index("ix_campaign_attempts_claimed", "state", "claimed_until"))

    campaign_id: Mapped[str] = mapped_column(String(36), ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[str] = mapped_column(String(36), ForeignKey("leads.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    call_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    agent_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phone_result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    cost: Mapped[float | None] = mapped_column(Numeric(12, 4, asdecimal=False), nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lead_local_hour: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The lead's owner when the campaign started (no foreign key: a user removed since is still "another
    # owner" than the lead's current one); stop condition `reassigned` compares it with the lead's owner.
    lead_owner_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
