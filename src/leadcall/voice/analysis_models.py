"""Whether leadcall's analysis is set up on an agent (voice/analysis_setup.py sets it up)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import TenantOwned


class AnalysisState(StrEnum):
    ready = "ready"
    not_set_up = "not_set_up"
    opted_out = "opted_out"


class AgentAnalysisSetup(IdMixin, TenantOwned, Base):
    """The last attempt to set leadcall's analysis up on one agent, and the tenant's opt-out."""

    __tablename__ = "agent_analysis_setups"

    agent_ref_id: Mapped[str] = mapped_column(String(36), ForeignKey("voice_agents.id", ondelete="CASCADE"),
                                              unique=True)
    state: Mapped[str] = mapped_column(String(20), default=AnalysisState.not_set_up.value)
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language and call types it was set up for: a change of either sets it up again.
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    call_types: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[datetime]
