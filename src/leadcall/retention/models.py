from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import TenantOwned


class ConversationDeletion(IdMixin, TenantOwned, Base):
    """A conversation to delete at ElevenLabs (transcript, recording, the lead's dynamic variables),
    asked for by an erasure or by the tenant's retention. The sweep sends it until it is done."""

    __tablename__ = "conversation_deletions"
    __table_args__ = (Index("ix_conversation_deletions_pending", "deleted_at", "attempts"),)

    call_id: Mapped[str] = mapped_column(String(36), ForeignKey("call_logs.id"), unique=True)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("elevenlabs_accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(20))  # erasure | retention
    requested_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)

