from __future__ import annotations

import time
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import OrgOwned, TenantOwned


class CallStatus(StrEnum):
    initiating = "initiating"
    ringing = "ringing"
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"
    canceled = "canceled"


TERMINAL = frozenset({CallStatus.completed, CallStatus.failed, CallStatus.canceled})
LIVE = frozenset({CallStatus.initiating, CallStatus.ringing, CallStatus.in_progress})


class CallType(StrEnum):
    prospecting = "prospecting"
    qualification = "qualification"
    follow_up = "follow_up"
    closing = "closing"


class PhoneResult(StrEnum):
    answered = "answered"
    no_answer = "no_answer"
    voicemail = "voicemail"
    busy = "busy"
    failed = "failed"


class SalesResult(StrEnum):
    interested = "interested"
    not_interested = "not_interested"
    callback_requested = "callback_requested"


class OutcomeSource(StrEnum):
    """Where a call's sales result came from, strongest first (a seller's correction wins over everything)."""

    seller = "seller"
    data_collection = "data_collection"  # ElevenLabs' data-collection results of leadcall's items
    evaluation = "evaluation"  # ElevenLabs' evaluation criteria
    rules = "rules"  # leadcall's keyword rules on the transcript (fallback)


class TranscriptionStatus(StrEnum):
    pending = "pending"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class CallLog(IdMixin, OrgOwned, Base):
    __tablename__ = "call_logs"
    __table_args__ = (
        Index("ix_call_logs_lead_history", "lead_id", "created_at", "id"),
        Index("ix_call_logs_due", "status", "next_check_at"),
        # A tenant's calls in a time range: the usage report, the calls list.
        Index("ix_call_logs_tenant_created", "tenant_id", "created_at", "id"),
        # Every column the usage report groups and sums (billing/usage.py): it reads this index, not the rows,
        # whose transcripts make a scan of a million calls slow.
        Index("ix_call_logs_usage", "tenant_id", "created_at", "organization_id", "agent_ref_id", "agent_name",
              "user_id", "phone_result", "sales_result", "status", "duration_seconds", "cost"),
        # Attempts per number (calling rules count dials to one E.164 number across leads).
        Index("ix_call_logs_number", "tenant_id", "to_number", "created_at"),
        UniqueConstraint("account_id", "conversation_id"),
        UniqueConstraint("tenant_id", "user_id", "idempotency_key"),
    )

    # No cascade: a call (its cost, hold and audit trail) outlives its lead, which is archived, never deleted.
    lead_id: Mapped[str] = mapped_column(String(36), ForeignKey("leads.id"))
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True, index=True)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("elevenlabs_accounts.id"), index=True)
    agent_ref_id: Mapped[str] = mapped_column(String(36), ForeignKey("voice_agents.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(100))
    agent_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    call_sid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phone_number_id: Mapped[str] = mapped_column(String(100))
    phone_kind: Mapped[str] = mapped_column(String(20))
    to_number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=CallStatus.initiating.value)
    call_type: Mapped[str] = mapped_column(String(20), default=CallType.prospecting.value)
    phone_result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sales_result: Mapped[str | None] = mapped_column(String(30), nullable=True)
    outcome_corrected: Mapped[bool] = mapped_column(default=False)
    # Where the outcome came from (OutcomeSource) and what it rests on: the data-collection values with
    # their rationale, the criterion's rationale, the words the rules matched, or who corrected it.
    outcome_source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome_evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The lead asked not to be called again during this call (follow-through puts the number on the do-not-call list).
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    start_time: Mapped[datetime | None] = mapped_column(nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(nullable=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    transcript: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    transcription_status: Mapped[str] = mapped_column(String(20), default=TranscriptionStatus.pending.value)
    transcription_confidence: Mapped[float | None] = mapped_column(Numeric(5, 4, asdecimal=False), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_action: Mapped[str | None] = mapped_column(String(500), nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(nullable=True)
    callback_text: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The callback the follow-through scheduled from this call's request (leadcall.scheduling).
    callback_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    has_audio: Mapped[bool] = mapped_column(default=False)
    failure_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The stable code of a placement the provider did not take (calls/placing.py), beside its sentence.
    failure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    termination_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    cost_credits: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost_usd: Mapped[float | None] = mapped_column(Numeric(12, 6, asdecimal=False), nullable=True)
    cost: Mapped[float | None] = mapped_column(Numeric(12, 4, asdecimal=False), nullable=True)
    cost_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    # Budget held for a live call (estimate), released when its real cost is known.
    reserved_cost: Mapped[float | None] = mapped_column(Numeric(12, 4, asdecimal=False), nullable=True)
    transcript_purged_at: Mapped[datetime | None] = mapped_column(nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # When the worker should next ask the provider (polling with backoff), and when the
    # call counts as overdue for reconciliation.
    next_check_at: Mapped[datetime | None] = mapped_column(nullable=True)
    checks_made: Mapped[int] = mapped_column(Integer, default=0)
    deadline_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Since when ElevenLabs has left the placing unconfirmed (no clear answer to the dial, or the server
    # stopped mid-dial): the call is being looked up by its id there (calls/confirm.py). Kept afterwards.
    confirming_since: Mapped[datetime | None] = mapped_column(nullable=True)


class UsageRollup(Base):
    """What a tenant's calls of one UTC day add up to, per organization, along one dimension of the usage
    report at a time (`dimension` agent, user or outcome; every call counts once in each). Derived from
    call_logs and kept exact by calls/rollups.py in the transaction of every change of a call; the usage
    report reads these rows instead of the calls.

    One row per value of one dimension, not per combination of them: the report only shows each dimension
    on its own (and the totals of any one), so a day holds agents + users + outcomes rows per organization
    rather than their product, which for a busy tenant is about one row per call."""

    __tablename__ = "usage_rollups"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day", "organization_id", "dimension", "key", "label"),)

    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # of the call's created_at, in UTC (the report's days)
    organization_id: Mapped[str] = mapped_column(String(36), ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 index=True)
    dimension: Mapped[str] = mapped_column(String(10))  # agent | user | outcome
    # agent: agent_ref_id; user: user_id ('' for none); outcome: sales result, else phone result, else status.
    key: Mapped[str] = mapped_column(String(36))
    label: Mapped[str] = mapped_column(String(200), default="")  # agent: the call's agent_name ('' for none)
    calls: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[int] = mapped_column(BigInteger)
    # Exact: call_logs.cost has four decimals, so the sum is kept in ten-thousandths of the currency.
    cost_units: Mapped[int] = mapped_column(BigInteger)


class CallEvent(IdMixin, TenantOwned, Base):
    """The audit trail: every status change, webhook, poll and reconciliation of a call."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_call", "call_id", "at", "seq"),)

    call_id: Mapped[str] = mapped_column(String(36), ForeignKey("call_logs.id"))  # no cascade: the trail stays
    at: Mapped[datetime]
    # Orders events recorded within the same (simulated) instant: wall-clock nanoseconds.
    seq: Mapped[int] = mapped_column(BigInteger, default=time.time_ns)
    source: Mapped[str] = mapped_column(String(20))  # api | poll | webhook | reconcile | user | worker
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class WebhookDelivery(IdMixin, Base):
    """A raw provider webhook, stored once under (account, dedup key) before it is processed."""

    # What `body` becomes once its content is removed (retention, an erasure): still JSON, its kind
    # and conversation stay in their columns.
    REMOVED_BODY: ClassVar[str] = '{"content_removed": true}'

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("account_id", "dedup_key"), Index("ix_webhooks_pending", "processed_at"))

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("elevenlabs_accounts.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(100), index=True)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    # No sweep takes the delivery before then: the job enqueued on its arrival has it until then (a lease),
    # a sweep's claim likewise, and a delivery kept for a call whose conversation id is not known yet is
    # looked at again from then on.
    retry_at: Mapped[datetime | None] = mapped_column(nullable=True)
