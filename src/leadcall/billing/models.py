from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import TenantOwned

DEFAULT_THRESHOLDS = [50, 80, 100]


class Budget(IdMixin, TenantOwned, Base):
    """A monthly spending limit for the whole tenant (organization_id NULL) or one organization."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("tenant_id", "scope_key"),)

    organization_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("organizations.id", ondelete="CASCADE"),
                                                        nullable=True)
    # "tenant" or the organization id: unique per tenant even where NULLs are distinct.
    scope_key: Mapped[str] = mapped_column(String(36))
    monthly_limit: Mapped[float] = mapped_column(Numeric(14, 4, asdecimal=False))
    thresholds: Mapped[list[Any]] = mapped_column(JSON, default=lambda: list(DEFAULT_THRESHOLDS))
    # What one call is assumed to cost until its real cost is known (held while it is live).
    estimated_call_cost: Mapped[float] = mapped_column(Numeric(12, 4, asdecimal=False), default=0.5)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BudgetAlert(IdMixin, TenantOwned, Base):
    """One threshold crossed in one month: raised once, however many calls cross it."""

    __tablename__ = "budget_alerts"
    __table_args__ = (UniqueConstraint("budget_id", "period", "threshold"),)

    budget_id: Mapped[str] = mapped_column(String(36), ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    threshold: Mapped[int]
    spent: Mapped[float] = mapped_column(Numeric(14, 4, asdecimal=False))
    monthly_limit: Mapped[float] = mapped_column(Numeric(14, 4, asdecimal=False))
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None] = mapped_column(nullable=True)
