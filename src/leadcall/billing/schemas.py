from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from leadcall.kit.schema import Schema


class UsageLine(Schema):
    key: str
    label: str
    calls: int
    answered: int
    minutes: float
    cost: float


class Usage(Schema):
    currency: str
    period: str
    start: date
    end: date
    total: UsageLine
    by_period: list[UsageLine]
    by_organization: list[UsageLine]
    by_agent: list[UsageLine]
    by_user: list[UsageLine]
    by_outcome: list[UsageLine]


class BudgetPut(Schema):
    organization_id: str | None = Field(default=None, description="Empty for the whole tenant.")
    monthly_limit: float = Field(gt=0, le=10_000_000)
    thresholds: list[int] | None = Field(default=None, max_length=10, description="Alert percentages, default 50/80/100.")
    estimated_call_cost: float | None = Field(default=None, gt=0, le=100_000)


class Budget(Schema):
    id: str
    organization_id: str | None
    monthly_limit: float
    thresholds: list[int]
    estimated_call_cost: float
    currency: str
    spent: float
    reserved: float
    used_percent: float
    forecast_month_end: float
    period_start: datetime
    period_end: datetime


class Alert(Schema):
    id: str
    budget_id: str
    organization_id: str | None
    period: str
    threshold: int
    spent: float
    monthly_limit: float
    created_at: datetime
    acknowledged_at: datetime | None
