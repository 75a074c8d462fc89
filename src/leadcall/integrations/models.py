"""Outgoing webhooks: endpoints, the outbox of events, one delivery per (endpoint, event) and its attempts.

The outbox is `outbox_events` plus `outbox_deliveries`: both are written in the transaction of the change
they report (`outbox.record`), so a change that rolls back leaves nothing to send and a change that commits
cannot be lost by a crash. Delivery rows are the queue: a worker claims due ones with a lease
(`lease_until`), sends them and records each attempt.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import TenantOwned


class DeliveryState(StrEnum):
    pending = "pending"  # waiting for its next attempt (or for its first one)
    succeeded = "succeeded"  # the endpoint answered 2xx
    failed = "failed"  # every scheduled attempt failed (a manual retry may try again)


class WebhookEndpoint(IdMixin, TenantOwned, Base):
    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The event types it receives; None: every type there is (including ones added later).
    event_types: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # `whsec_…`, encrypted with the secret box; the previous one signs too until `previous_secret_until`.
    secret_encrypted: Mapped[str] = mapped_column(String(500))
    previous_secret_encrypted: Mapped[str | None] = mapped_column(String(500), nullable=True)
    previous_secret_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # Failing since the first failed attempt after the last success; consecutive failed attempts.
    failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Set when leadcall turned it off after repeated failure (an admin's own switch-off leaves it None).
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxEvent(IdMixin, TenantOwned, Base):
    """One event as it is sent: `payload` is the exact JSON body (signed as stored, so every attempt of
    every endpoint sends the same bytes)."""

    __tablename__ = "outbox_events"

    organization_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    type: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(60))  # "call:<id>", "lead:<id>", "budget:<id>"
    sequence: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]


class OutboxSequence(TenantOwned, Base):
    """The last `sequence` given to a subject's events: increased under the row's lock, so one subject's
    sequences follow the order its changes committed in."""

    __tablename__ = "outbox_sequences"

    subject: Mapped[str] = mapped_column(String(60), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
    # A call's `call.completed` was written (it is sent once, when the call first ends).
    completed: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxDelivery(IdMixin, TenantOwned, Base):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "event_id"),
                      Index("ix_outbox_deliveries_due", "state", "next_attempt_at"),
                      Index("ix_outbox_deliveries_endpoint", "endpoint_id", "created_at"))

    endpoint_id: Mapped[str] = mapped_column(String(36), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36), ForeignKey("outbox_events.id", ondelete="CASCADE"),
                                          index=True)
    state: Mapped[str] = mapped_column(String(12), default=DeliveryState.pending.value)
    # A test send: one attempt, never retried on its own, never counted towards disabling the endpoint.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Scheduled attempts made (the backoff schedule's position; a manual retry does not move it).
    scheduled_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxAttempt(IdMixin, TenantOwned, Base):
    """The delivery log: one row per attempt."""

    __tablename__ = "outbox_attempts"

    delivery_id: Mapped[str] = mapped_column(String(36), ForeignKey("outbox_deliveries.id", ondelete="CASCADE"),
                                             index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    # A short, safe reason (our words: never the endpoint's body) and its stable code.
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
