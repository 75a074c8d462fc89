from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from leadcall.calls.models import CallStatus, CallType, OutcomeSource, PhoneResult, SalesResult, TranscriptionStatus
from leadcall.kit.schema import Schema


class TranscriptTurn(Schema):
    role: str
    message: str
    time_in_call_secs: int


class CrmDispositions(Schema):
    """The call's outcome as each CRM logs it (README: "CRM dispositions", with the sources)."""

    hubspot: str | None = Field(description="HubSpot's default call outcome GUID (`hs_call_disposition`).")
    pipedrive: str | None = Field(description="Pipedrive's call log `outcome`.")
    close: str | None = Field(description="Close's call `disposition`.")
    salesforce: str | None = Field(description="A label for Salesforce's Task.CallDisposition (free text).")


class CallLog(Schema):
    """The call log on the wire (the CRM's contract; `next_action` keeps its snake_case)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    lead_id: str
    tenant_id: str
    organization_id: str
    eleven_labs_config_id: str = Field(alias="elevenLabsConfigId")
    eleven_labs_job_id: str | None = Field(default=None, alias="elevenLabsJobId")
    agent_id: str
    agent_name: str | None
    status: CallStatus
    call_type: CallType
    outcome: str | None
    phone_result: PhoneResult | None
    sales_result: SalesResult | None
    timestamp: datetime
    start_time: datetime | None
    end_time: datetime | None
    duration_minutes: float | None
    duration_seconds: int | None
    audio_url: str | None
    transcription: list[TranscriptTurn] | None
    transcription_confidence: float | None
    transcription_status: TranscriptionStatus
    summary: str | None
    notes: str | None
    next_action: str | None = Field(alias="next_action")
    callback_at: datetime | None
    callback_text: str | None
    callback_id: str | None = Field(default=None, description="The callback scheduled from this call's request "
                                                              "(GET /api/callbacks?leadId=…).")
    outcome_source: OutcomeSource | None = Field(
        default=None, description="Where the outcome came from: `seller` (a person's correction, wins), "
                                  "`data_collection` (ElevenLabs' data collection), `evaluation` (ElevenLabs' "
                                  "evaluation criteria), `rules` (leadcall's keyword rules, the fallback).")
    outcome_evidence: dict[str, Any] | None = Field(
        default=None, description="What the outcome rests on: `detail` (a sentence), and `items` "
                                  "(`{id, value, rationale}` from ElevenLabs), `matched` (the words the rules "
                                  "matched) or `by`/`before` (who corrected it, and what it was).")
    opted_out: bool = Field(default=False, description="The lead asked not to be called again during this call.")
    cost: float | None
    cost_currency: str | None
    cost_credits: int | None
    cost_usd: float | None
    failure_reason: str | None
    failure_code: str | None = None
    termination_reason: str | None
    to_number: str
    user_id: str | None
    updated_at: datetime
    placement_state: Literal["dialing", "confirming", "placed", "not_placed"] = Field(
        description="Whether ElevenLabs has the call: `confirming` while leadcall looks up a dial that got no clear "
                    "answer (the lead may be ringing; it cannot be called again meanwhile).")
    confirming: bool = Field(description="True while the placing is being confirmed with ElevenLabs.")
    crm_dispositions: CrmDispositions | None = Field(
        default=None, description="The outcome as HubSpot, Pipedrive, Close and Salesforce log it; null while "
                                  "the call has no outcome.")


class CallCreate(Schema):
    agent_id: str = Field(min_length=1, max_length=100, description="Our agent reference id or the ElevenLabs agent id.")
    call_type: CallType = CallType.prospecting
    override_calling_hours: str | None = Field(
        default=None, min_length=3, max_length=300,
        description="Admins only: place this one call outside the calling hours, for this reason (kept in the "
                    "lead's audit trail). It overrides no other rule.")


class CallInitiate(CallCreate):
    lead_id: str


class CallPlaced(Schema):
    success: bool
    call_log: CallLog
    job_id: str | None
    error: str | None = None
    # With `error`: the stable code of why the call was not placed (calls/placing.py) and its values.
    code: str | None = None
    params: dict[str, Any] | None = None


class CallPage(Schema):
    items: list[CallLog]
    next_cursor: str | None


class CallOutcomeUpdate(Schema):
    """A person's correction of what the call achieved; it wins over the automatic reading."""

    outcome: PhoneResult | SalesResult | None = None
    notes: str | None = Field(default=None, max_length=10_000)
    next_action: str | None = Field(default=None, max_length=500, alias="next_action")
    callback_at: datetime | None = None


class CallEventView(Schema):
    at: datetime
    source: str
    kind: str
    from_status: str | None
    to_status: str | None
    detail: str | None


class CancelResult(Schema):
    canceled: bool
    detail: str
    call_log: CallLog
