from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from leadcall.calls.models import CallType
from leadcall.campaigns.models import AttemptState, CampaignState
from leadcall.kit.schema import Schema, Trimmed
from leadcall.leads.models import LeadStatus
from leadcall.leads.schemas import ImportReport
from leadcall.rules.schemas import CallingRulesPut, WindowIn

MAX_LEADS = 100_000
StopOn = Literal["interested", "callback_requested", "opted_out", "won", "reassigned"]
DEFAULT_STOP_ON: list[StopOn] = ["interested", "callback_requested", "opted_out", "won", "reassigned"]


class LeadFilter(Schema):
    q: Trimmed | None = Field(default=None, max_length=200)
    status: LeadStatus | None = None
    owner_id: str | None = Field(default=None, max_length=36)
    organization_id: str | None = Field(default=None, max_length=36)


class CampaignLeads(Schema):
    """Exactly one of: explicit lead ids, or a saved lead filter (read when the campaign starts)."""

    ids: list[Trimmed] | None = Field(default=None, min_length=1, max_length=MAX_LEADS)
    filter: LeadFilter | None = None

    @model_validator(mode="after")
    def _one(self) -> CampaignLeads:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give the leads either as ids or as a filter, not both and not neither")
        return self


class RetryRule(Schema):
    after_seconds: int = Field(ge=10, le=30 * 86_400, description="Wait before the next attempt (10 s at least).")
    max_attempts: int = Field(ge=1, le=10, description="At most this many attempts in all, the first included.")


def _rule(after: int, most: int) -> RetryRule:
    return RetryRule(after_seconds=after, max_attempts=most)


class RetryPolicy(Schema):
    """Per phone result; an answered call is never retried. Defaults: no answer again after 2 h (3 attempts),
    busy after 15 min (3), voicemail the next day (2), a failed call once more after 10 min (2)."""

    no_answer: RetryRule = Field(default_factory=lambda: _rule(7200, 3), alias="no_answer")
    busy: RetryRule = Field(default_factory=lambda: _rule(900, 3))
    voicemail: RetryRule = Field(default_factory=lambda: _rule(86_400, 2))
    failed: RetryRule = Field(default_factory=lambda: _rule(600, 2))


class CampaignFields(Schema):
    agent_ids: list[Trimmed] = Field(min_length=1, max_length=20, description="ElevenLabs agent ids, used in turn")
    call_type: CallType = CallType.prospecting
    start_at: datetime | None = None
    end_at: datetime | None = None
    windows: list[WindowIn] | None = Field(default=None, min_length=1, max_length=28,
                                           description="Narrows the calling rules (never widens them).")
    max_live_calls: int = Field(default=2, ge=1, le=200)
    calls_per_second: float = Field(default=1.0, gt=0, le=20, description="New calls per second per account")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    stop_on: list[StopOn] = Field(default_factory=lambda: list(DEFAULT_STOP_ON), max_length=5,
                                  description="won: the lead is marked won; reassigned: its owner changes after "
                                              "the campaign started.")
    spending_cap: float | None = Field(default=None, gt=0, le=10_000_000)


def _check_times(start: datetime | None, end: datetime | None) -> None:
    for name, value in (("startAt", start), ("endAt", end)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} needs its offset (Z or +01:00)")
    if start is not None and end is not None and end <= start:
        raise ValueError("endAt must come after startAt")


def _check_windows(windows: list[WindowIn] | None) -> None:
    if windows is not None:  # the calling rules' own checks (overlaps) on the same shape
        CallingRulesPut(windows=windows)


class CampaignSettings(CampaignFields):
    """A new campaign's settings without its leads (the CSV import's `campaign` part gives these)."""

    name: Trimmed = Field(min_length=1, max_length=200)
    organization_id: str | None = Field(default=None, max_length=36,
                                        description="Admins may choose; managers run campaigns for their own.")

    @model_validator(mode="after")
    def _valid(self) -> CampaignSettings:
        _check_times(self.start_at, self.end_at)
        _check_windows(self.windows)
        return self


class CampaignCreate(CampaignSettings):
    leads: CampaignLeads


class CampaignUpdate(Schema):
    """Any field of the campaign, while it is a draft or paused."""

    name: Trimmed | None = Field(default=None, min_length=1, max_length=200)
    leads: CampaignLeads | None = None
    agent_ids: list[Trimmed] | None = Field(default=None, min_length=1, max_length=20)
    call_type: CallType | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    windows: list[WindowIn] | None = Field(default=None, min_length=1, max_length=28)
    max_live_calls: int | None = Field(default=None, ge=1, le=200)
    calls_per_second: float | None = Field(default=None, gt=0, le=20)
    retry: RetryPolicy | None = None
    stop_on: list[StopOn] | None = Field(default=None, max_length=5)
    spending_cap: float | None = Field(default=None, gt=0, le=10_000_000)

    @model_validator(mode="after")
    def _valid(self) -> CampaignUpdate:
        _check_times(self.start_at, self.end_at)
        _check_windows(self.windows)
        return self


class Counts(Schema):
    """Leads by the state of their latest attempt."""

    total: int = 0
    pending: int = 0
    live: int = 0
    done: int = 0
    skipped: int = 0
    canceled: int = 0


class Campaign(Schema):
    id: str
    name: str
    state: CampaignState
    organization_id: str
    agent_ids: list[str]
    call_type: str
    leads: dict[str, Any]
    start_at: datetime | None
    end_at: datetime | None
    windows: list[dict[str, Any]] | None
    max_live_calls: int
    calls_per_second: float
    retry: dict[str, Any]
    stop_on: list[str]
    spending_cap: float | None
    counts: Counts
    by_outcome: dict[str, int]
    live_calls: int
    cost: float
    cost_currency: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_code: str | None


class CampaignPage(Schema):
    items: list[Campaign]
    next_cursor: str | None


class SkippedCount(Schema):
    code: str
    count: int


class SkippedLead(Schema):
    lead_id: str
    name: str
    code: str
    params: dict[str, Any]


class Preview(Schema):
    total: int
    will_call: int
    skipped: list[SkippedCount]
    skipped_leads: list[SkippedLead]
    next_cursor: str | None = Field(description="More skipped leads after these (pass it as `cursor`).")


class Attempt(Schema):
    id: str
    campaign_id: str
    lead_id: str
    lead_name: str | None = Field(default=None, description="The lead's name now (None once it is erased).")
    attempt: int
    state: Literal["pending", "due", "dialing", "done", "skipped", "canceled"]
    due_at: datetime
    call_id: str | None
    agent_id: str | None
    phone_result: str | None
    outcome: str | None
    code: str | None
    detail: str | None
    cost: float | None
    updated_at: datetime


class AttemptPage(Schema):
    items: list[Attempt]
    next_cursor: str | None


class Figures(Schema):
    dialled: int = 0
    reached: int = 0
    voicemail: int = 0
    connect_rate: float | None = Field(default=None, description="Reached / dialled, voicemail excluded from both")
    interested: int = 0
    callbacks: int = 0
    opt_outs: int = 0
    minutes: float = 0.0
    cost: float = 0.0
    cost_per_interested: float | None = None


class AgentFigures(Figures):
    agent_id: str


class HourFigures(Figures):
    hour: int = Field(description="Hour of the lead's local day the call was placed in (0-23)")


class Report(Schema):
    total: Figures
    by_agent: list[AgentFigures]
    by_local_hour: list[HourFigures]
    cost_currency: str


class CampaignImported(Schema):
    campaign: Campaign
    imported: ImportReport = Field(description="What the file did to the leads (created, updated, unchanged); "
                                               "its rows are the campaign's leads.")


class CancelBody(Schema):
    hang_up: bool = Field(default=False, description="Also hang up the campaign's live calls (Twilio numbers).")


class CancelResult(Schema):
    campaign: Campaign
    hung_up: int
    not_hung_up: list[dict[str, str]]


ATTEMPT_STATES = [s.value for s in AttemptState]
