from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, HttpUrl

from leadcall.kit.schema import Credential, Schema, Trimmed

CALL_TYPES = ("prospecting", "qualification", "follow_up", "closing")
CallTypeName = str


class Account(Schema):
    """An ElevenLabs account as shown to people: secrets only masked."""

    id: str
    name: str
    api_key_masked: str
    has_webhook_secret: bool
    base_url: str
    is_active: bool
    concurrency_limit: int
    default_phone_number_id: str | None
    usd_to_currency_rate: float
    price_per_1000_credits: float
    twilio_account_sid: str | None
    has_twilio_auth_token: bool
    webhook_url: str = Field(description="Set this URL as the post-call webhook of the ElevenLabs workspace.")
    created_at: datetime
    updated_at: datetime
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_detail: str | None
    last_check_code: str | None = Field(default=None, description="The last connection test's result as a stable "
                                        "code (as ConnectionResult.code); absent before the first test")
    last_check_params: dict[str, str | int] = Field(default_factory=dict)
    health: AccountHealthView | None = Field(default=None, description="In the GET listing of accounts")


class HealthWarningView(Schema):
    code: str = Field(description="webhooks_stopped (calls end but no webhook arrives: polling follows them "
                                  "meanwhile), webhook_not_set, webhook_missing, webhook_elsewhere, "
                                  "webhook_disabled, webhook_auto_disabled, webhook_no_transcripts (what "
                                  "ElevenLabs reports of the workspace's post-call webhook) or webhooks_refused "
                                  "(deliveries refused here: signature)")
    params: dict[str, object] = Field(default_factory=dict)


class ProviderProblemView(Schema):
    code: str
    detail: str
    at: datetime
    where: Literal["call", "listing"] = Field(description="call: a dial ElevenLabs refused or did not answer; "
                                                          "listing: reading the account's agents or numbers")


class WorkspaceWebhookView(Schema):
    """The workspace's post-call webhook as ElevenLabs reported it at `checkedAt` (null: not checked yet)."""

    state: Literal["ok", "not_set", "missing", "elsewhere", "disabled", "auto_disabled", "no_transcripts",
                   "unreadable"] | None = Field(description="unreadable: the key may not read the workspace's "
                                                            "settings (or ElevenLabs did not answer); the rest "
                                                            "is ElevenLabs' own report")
    detail: str | None
    url: str | None = Field(description="Where it points, without its query")
    checked_at: datetime | None
    last_failure_code: int | None = Field(description="ElevenLabs' most recent failed delivery: the status "
                                                      "code it got (null: no answer)")
    last_failure_at: datetime | None


class AccountHealthView(Schema):
    """How the account's webhooks and calls went (figures over the last `windowHours`)."""

    status: Literal["ok", "warning"]
    warnings: list[HealthWarningView]
    last_webhook_at: datetime | None
    last_webhook_age_seconds: int | None
    webhooks_refused: int = Field(description="deliveries refused here (bad or missing signature), ever")
    last_refused_at: datetime | None
    last_refused_detail: str | None
    unapplied_webhooks: int = Field(description="stored deliveries that could not be applied to a call")
    workspace_webhook: WorkspaceWebhookView
    window_hours: int
    calls_ended: int
    polling_only_calls: int = Field(description="completed calls no webhook came for (followed by polling)")
    last_provider_error: ProviderProblemView | None
    live_calls: int
    concurrency_limit: int
    remaining_concurrency: int


class AgentCheckView(Schema):
    agent_id: str
    name: str
    enabled: bool | None = Field(description="null: leadcall has not listed it yet")
    analysis_state: str
    would_add: list[str] = Field(description="leadcall's items and criteria set-up would add or update")
    keeps: list[str] = Field(description="the agent's own items, sent back unchanged")
    problem: str | None


class AccountCheck(Schema):
    """`POST …/check`: the read-only doctor of one account."""

    config_id: str
    connection_ok: bool
    connection_detail: str
    webhook_url: str = Field(description="Where the workspace's post-call webhook must point")
    has_webhook_secret: bool
    workspace_webhook: WorkspaceWebhookView | None = Field(description="null: the key could not be used")
    live_now_at_provider: int | None = Field(default=None, description="Conversations ElevenLabs counts live now in "
                                           "the workspace, placed by leadcall or not (GET "
                                           "/v1/convai/analytics/live-count)")
    numbers: list[str]
    agents: list[AgentCheckView]
    problems: list[str]


class AccountCreate(Schema):
    name: Trimmed = Field(min_length=1, max_length=120)
    api_key: Credential = Field(min_length=8, max_length=400)
    webhook_secret: Credential | None = Field(default=None, max_length=400)
    base_url: HttpUrl | None = None
    is_active: bool = True
    concurrency_limit: int = Field(default=4, ge=1, le=1000)
    default_phone_number_id: str | None = Field(default=None, max_length=100)
    usd_to_currency_rate: float = Field(default=1.0, gt=0, le=100_000)
    price_per_1000_credits: float = Field(default=0.25, ge=0, le=100_000)
    twilio_account_sid: Credential | None = Field(default=None, max_length=64)
    twilio_auth_token: Credential | None = Field(default=None, max_length=200)
    twilio_base_url: HttpUrl | None = None


class AccountUpdate(Schema):
    """PUT body: `id` names the account; absent fields stay as they are; secrets are replaced only
    when given (send an empty string to remove the webhook secret or Twilio token)."""

    id: str
    name: Trimmed | None = Field(default=None, min_length=1, max_length=120)
    api_key: Credential | None = Field(default=None, min_length=8, max_length=400)
    webhook_secret: Credential | None = Field(default=None, max_length=400)
    base_url: HttpUrl | None = None
    is_active: bool | None = None
    concurrency_limit: int | None = Field(default=None, ge=1, le=1000)
    default_phone_number_id: str | None = Field(default=None, max_length=100)
    usd_to_currency_rate: float | None = Field(default=None, gt=0, le=100_000)
    price_per_1000_credits: float | None = Field(default=None, ge=0, le=100_000)
    twilio_account_sid: Credential | None = Field(default=None, max_length=64)
    twilio_auth_token: Credential | None = Field(default=None, max_length=200)
    twilio_base_url: HttpUrl | None = None


class ConnectionTest(Schema):
    """Either an existing account (`configId`) or a key to try before saving it."""

    config_id: str | None = None
    api_key: Credential | None = Field(default=None, min_length=8, max_length=400)
    base_url: HttpUrl | None = None


class ConnectionResult(Schema):
    ok: bool
    detail: str
    code: str = Field(default="connection_failed", description="The result as a stable code: connected, "
                      "missing_permission, unreachable, invalid_key, no_credits, rate_limited, server_error, "
                      "not_elevenlabs, refused, connection_failed.")
    params: dict[str, str | int] = Field(default_factory=dict)
    missing_permission: str | None = None
    agents_found: int | None = None


class PhoneNumber(Schema):
    phone_number_id: str
    number: str
    label: str
    kind: str
    assigned_agent_id: str | None


class AgentDetails(Schema):
    config_id: str
    agent_id: str
    name: str
    language: str
    first_message: str
    prompt: str
    voice_id: str | None
    tags: list[str]
    concurrency_limit: int | None
    phone_numbers: list[PhoneNumber]


class AgentUpdateRequest(Schema):
    config_id: str
    agent_id: str = Field(min_length=1, max_length=100)
    name: Trimmed | None = Field(default=None, min_length=1, max_length=200)
    first_message: str | None = Field(default=None, max_length=2_000)
    prompt: str | None = Field(default=None, max_length=50_000)
    language: str | None = Field(default=None, min_length=2, max_length=10)
    voice_id: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = None


class Voice(Schema):
    voice_id: str
    name: str
    category: str
    labels: dict[str, str]
    preview_url: str | None
    description: str | None


class AgentAnalysis(Schema):
    """Whether leadcall's post-call analysis is set up on the agent (`ready`), could not be (`not_set_up`:
    `detail` says why; its calls are read by the keyword rules) or the tenant opted the agent out."""

    state: Literal["ready", "not_set_up", "opted_out"]
    detail: str | None = None


class AgentAnalysisOptOut(Schema):
    opted_out: bool = Field(description="True: leadcall takes its analysis items off this agent and reads its "
                                        "calls with the keyword rules; false: sets them up again.")


class AgentStatsView(Schema):
    """How the agent's calls went over a period (`since` ≤ placed < `until`), of `callType` or all types."""

    since: datetime
    until: datetime
    call_type: str | None
    calls: int
    answered: int
    connect_rate: float | None = Field(description="answered / calls with a phone result, voicemail excluded")
    interested: int
    interested_rate: float | None = Field(description="interested / answered")
    callbacks: int
    opt_outs: int
    avg_duration_seconds: float | None = Field(description="of answered calls")
    cost_total: float
    cost_per_call: float | None
    cost_per_interested_lead: float | None
    currency: str | None


class AvailableAgent(Schema):
    id: str = Field(description="Our agent reference id.")
    agent_id: str = Field(description="The ElevenLabs agent id; pass it as `agentId` to place a call.")
    name: str
    config_id: str
    account_name: str
    language: str
    voice_id: str | None
    voice_name: str | None
    voice_preview_url: str | None
    tags: list[str]
    specialty: str | None
    available: bool
    unavailable_reason: str | None
    unavailable_code: str | None = Field(None, description="agent_disabled, team_not_allowed, "
                                         "call_type_not_allowed, agent_busy, account_at_limit, no_phone_number, "
                                         "account_unreachable or account_misconfigured")
    unavailable_values: dict[str, str | int] = Field(default_factory=dict,
                                                     description="the values the reason names (live, limit, …)")
    live_calls: int
    max_concurrent_calls: int | None
    analysis: AgentAnalysis | None = None
    stats: AgentStatsView | None = None


class AccountListingState(Schema):
    """Whether an account's agents are all in the listing beside it."""

    id: str = Field(description="The account's id (`configId`).")
    name: str
    ok: bool = Field(description="false: ElevenLabs could not list this account's agents just now; the "
                                 "agents shown for it (if any) are its last listed ones, and cannot be called")
    code: str | None = Field(None, description="provider_unavailable (not answering), provider_misconfigured "
                                               "(an admin must check its key) or listing_pending (first listing "
                                               "under way)")
    detail: str | None = Field(None, description="What went wrong, in English")
    listed_at: datetime | None = Field(None, description="When the agents shown for it were listed")


class AvailableAgents(Schema):
    """`GET /api/voice/agents/available?include=accounts`: the same list, with each account's state."""

    agents: list[AvailableAgent]
    accounts: list[AccountListingState]


class AgentSettings(Schema):
    """Local rules of one agent reference (admins)."""

    id: str
    agent_id: str
    config_id: str
    name: str | None
    is_enabled: bool
    specialty: str | None
    tags: list[str]
    allowed_organization_ids: list[str]
    allowed_call_types: list[str]
    max_concurrent_calls: int | None
    calls_placed: int
    last_called_at: datetime | None
    analysis: AgentAnalysis | None = None


class AgentSettingsUpdate(Schema):
    is_enabled: bool | None = None
    specialty: str | None = Field(default=None, max_length=120)
    tags: list[str] | None = Field(default=None, max_length=30)
    allowed_organization_ids: list[str] | None = None
    allowed_call_types: list[str] | None = None
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=1000)
