"""Scheduled dials. One row per callback is the truth: its due time, its state and, once placed, its call."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import OrgOwned


class CallbackMode(StrEnum):
    auto = "auto"  # placed by the worker at its time, with the same agent
    manual = "manual"  # shown to the lead's owner as due, one click from the call


class CallbackStatus(StrEnum):
    scheduled = "scheduled"
    due = "due"
    placed = "placed"
    canceled = "canceled"
    missed = "missed"


OPEN = (CallbackStatus.scheduled.value, CallbackStatus.due.value)


class Callback(IdMixin, OrgOwned, Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_due", "status", "due_at"), Index("ix_callbacks_lead", "lead_id", "status"))

    lead_id: Mapped[str] = mapped_column(String(36), ForeignKey("leads.id"))
    # The call in which the lead asked for it (one callback per such call), and the call that placed it.
    source_call_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    call_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    due_at: Mapped[datetime]
    # The time the lead (or the seller) asked for, before it was moved into the calling hours.
    requested_at: Mapped[datetime | None] = mapped_column(nullable=True)
    requested_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lead_timezone: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=CallbackStatus.scheduled.value)
    # Why the due time differs from the requested one (a refusal's code and values), and why it ended.
    moved_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    moved_params: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    call_type: Mapped[str] = mapped_column(String(40), default="follow_up")
    # Who it is placed as: the seller of the call that asked for it, or who scheduled it.
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # A worker placing it holds it until then (a killed worker's claim lapses and another one takes over).
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
