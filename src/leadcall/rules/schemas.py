from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from leadcall.kit.schema import Schema, Trimmed
from leadcall.rules.hours import DAYS, clock_time

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class WindowIn(Schema):
    days: list[Day] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time HH:MM")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", description="Local time HH:MM after start; "
                                                                              "24:00 is the end of the day")

    @model_validator(mode="after")
    def _ordered(self) -> WindowIn:
        if clock_time(self.end) <= clock_time(self.start):
            raise ValueError(f"a window must end after it starts ({self.start}–{self.end}); "
                             "an evening-to-morning span is two windows")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day is named twice in one window")
        return self


class CallingRulesPut(Schema):
    organization_id: str | None = Field(default=None, description="Empty for the tenant default; an id for "
                                                                  "that organization's override.")
    windows: list[WindowIn] = Field(min_length=1, max_length=28)
    max_attempts_per_24h: int | None = Field(default=None, ge=1, le=100, alias="maxAttemptsPer24h")
    max_attempts_total: int | None = Field(default=None, ge=1, le=10_000)
    require_consent: bool = False
    region_rules: bool = True
    timezone: str | None = Field(default=None, max_length=64,
                                 description="The tenant's zone, for leads whose field and number name none "
                                             "(tenant default only).")

    @model_validator(mode="after")
    def _no_overlap(self) -> CallingRulesPut:
        for day in DAYS:
            spans = sorted((clock_time(w.start), clock_time(w.end))
                           for w in self.windows if day in w.days)
            for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
                if start < end:
                    raise ValueError(f"two windows overlap on {day}; join them into one")
        return self


class Window(Schema):
    days: list[str]
    start: str
    end: str


class RegionRule(Schema):
    id: str
    name: str
    source: str
    windows: list[Window]
    max_attempts_per_24h: int | None = Field(default=None, alias="maxAttemptsPer24h")


class CallingRules(Schema):
    organization_id: str | None
    inherited: bool = Field(description="True when an organization has no override and follows the tenant's "
                                        "rules, or when the tenant has never set its own (the defaults).")
    windows: list[Window]
    max_attempts_per_24h: int | None = Field(alias="maxAttemptsPer24h")
    max_attempts_total: int | None
    require_consent: bool
    region_rules: bool
    timezone: str
    regions: list[RegionRule]
    updated_at: datetime | None


class Refusal(Schema):
    code: str
    params: dict[str, Any]
    detail: str


class Eligibility(Schema):
    allowed: bool
    code: str | None
    params: dict[str, Any] | None
    refusals: list[Refusal]
    next_allowed_at: datetime | None
    local_time: datetime
    timezone: str
    timezones: list[str]
    timezone_source: Literal["lead", "phone", "tenant"]


class DncEntry(Schema):
    phone: str
    reason: str | None
    source: str
    call_id: str | None
    created_by: str | None
    created_by_name: str | None
    created_at: datetime


class DncPage(Schema):
    items: list[DncEntry]
    next_cursor: str | None


class DncCreate(Schema):
    phone: Trimmed = Field(min_length=1, max_length=40)
    reason: Trimmed | None = Field(default=None, max_length=300)


class DncRejected(Schema):
    row: int
    phone: str
    code: str


class DncImportReport(Schema):
    added: int
    already_listed: int
    rejected: list[DncRejected]


class ConsentCreate(Schema):
    source: Literal["form", "call", "import", "api", "verbal"]
    text: Trimmed | None = Field(default=None, max_length=2000)
    at: datetime | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its offset, e.g. 2026-12-01T10:00:00+01:00")
        return value


class Consent(Schema):
    id: str
    lead_id: str
    source: str
    text: str | None
    given_at: datetime
    recorded_by: str | None
    revoked_at: datetime | None
