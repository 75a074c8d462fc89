"""Pydantic models of the ElevenLabs payloads this adapter reads or sends.

Response models are lenient like the official SDK: unknown fields are ignored and
optional fields have defaults, so a newer API (or the simulator) does not break us.
Field names and shapes follow the official OpenAPI document (schema names in the
docstrings). Request bodies are built with `exclude_none`, so unset fields are not sent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------


class ErrorDetail(_Read):
    """The dict form of `detail` (current: type/code/message; legacy: status/message)."""

    type: str | None = None
    code: str | None = None
    status: str | None = None
    message: str | None = None
    param: str | None = None
    request_id: str | None = None


class ValidationIssue(_Read):
    """One item of the 422 list form (`HTTPValidationError.detail[]`)."""

    loc: list[str | int] = Field(default_factory=list)
    msg: str = ""
    type: str = ""


# --- agents -----------------------------------------------------------------------------------


class AgentSummaryPayload(_Read):
    """`AgentSummaryResponseModel`."""

    agent_id: str
    name: str = ""
    tags: list[str] = Field(default_factory=list)


class AgentsPage(_Read):
    """`GetAgentsPageResponseModel`."""

    agents: list[AgentSummaryPayload] = Field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False


class PromptPayload(_Read):
    prompt: str = ""


class AgentSection(_Read):
    """`AgentConfigAPIModel-Output`."""

    first_message: str = ""
    language: str = "en"
    prompt: PromptPayload = Field(default_factory=PromptPayload)


class TtsSection(_Read):
    """`TTSConversationalConfig-Output`."""

    voice_id: str | None = None


class ConversationConfigPayload(_Read):
    """`ConversationalConfigAPIModel-Output` (the parts we read)."""

    agent: AgentSection = Field(default_factory=AgentSection)
    tts: TtsSection = Field(default_factory=TtsSection)


class CallLimits(_Read):
    """`AgentCallLimits`; -1 means no per-agent limit."""

    agent_concurrency_limit: int = -1


class PlatformSettings(_Read):
    call_limits: CallLimits = Field(default_factory=CallLimits)


class AssignedAgent(_Read):
    """`PhoneNumberAgentInfo`."""

    agent_id: str
    agent_name: str = ""


class PhoneNumberPayload(_Read):
    """`GetPhoneNumber{Twilio,SIPTrunk,Exotel}ResponseModel`, discriminated by `provider`."""

    phone_number_id: str
    phone_number: str
    label: str = ""
    provider: str = "twilio"
    assigned_agent: AssignedAgent | None = None


class AgentPayload(_Read):
    """`GetAgentResponseModel`."""

    agent_id: str
    name: str = ""
    conversation_config: ConversationConfigPayload = Field(default_factory=ConversationConfigPayload)
    platform_settings: PlatformSettings = Field(default_factory=PlatformSettings)
    phone_numbers: list[PhoneNumberPayload] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class PromptPatch(_Write):
    prompt: str | None = None


class AgentSectionPatch(_Write):
    first_message: str | None = None
    language: str | None = None
    prompt: PromptPatch | None = None


class TtsSectionPatch(_Write):
    voice_id: str | None = None


class ConversationConfigPatch(_Write):
    agent: AgentSectionPatch | None = None
    tts: TtsSectionPatch | None = None


class AnalysisPlatformSettings(_Read):
    """The analysis parts of `AgentPlatformSettingsResponseModel`, each item kept as the API gave it."""

    data_collection: dict[str, dict[str, Any]] = Field(default_factory=dict)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    summary_language: str | None = None


class AnalysisAgentPayload(_Read):
    """`GetAgentResponseModel`, read for its analysis settings."""

    agent_id: str
    platform_settings: AnalysisPlatformSettings = Field(default_factory=AnalysisPlatformSettings)


class EvaluationPatch(_Write):
    """`EvaluationSettings-Input`."""

    criteria: list[dict[str, Any]]


class AnalysisSettingsPatch(_Write):
    """The analysis parts of `AgentPlatformSettingsRequestModel`: `data_collection` (id →
    `AnalysisProperty`), `evaluation.criteria` (`PromptEvaluationCriteria`), `summary_language`."""

    data_collection: dict[str, dict[str, Any]]
    evaluation: EvaluationPatch
    summary_language: str | None = None


class AnalysisPatchBody(_Write):
    """`Body_Patches_an_Agent_settings_v1_convai_agents__agent_id__patch` with only `platform_settings`."""

    platform_settings: AnalysisSettingsPatch


class AgentPatchBody(_Write):
    """`Body_Patches_an_Agent_settings_v1_convai_agents__agent_id__patch` (the fields we change)."""

    name: str | None = None
    tags: list[str] | None = None
    conversation_config: ConversationConfigPatch | None = None


# --- workspace settings and webhooks ---------------------------------------------------------


class ConvAIWebhooksPayload(_Read):
    """`ConvAIWebhooks` (`send_audio` is deprecated in favour of `events`)."""

    post_call_webhook_id: str | None = None
    events: list[str] = Field(default_factory=list)


class ConvAISettingsPayload(_Read):
    """`GetConvAISettingsResponseModel`, read for its post-call webhook."""

    webhooks: ConvAIWebhooksPayload = Field(default_factory=ConvAIWebhooksPayload)


class WorkspaceWebhookPayload(_Read):
    """`WorkspaceWebhookResponseModel`."""

    webhook_id: str
    name: str = ""
    webhook_url: str = ""
    is_disabled: bool = False
    is_auto_disabled: bool = False
    most_recent_failure_error_code: int | None = None
    most_recent_failure_timestamp: int | None = None


class WorkspaceWebhooksPayload(_Read):
    """`WorkspaceWebhookListResponseModel`."""

    webhooks: list[WorkspaceWebhookPayload] = Field(default_factory=list)


# --- voices -----------------------------------------------------------------------------------


class VoicePayload(_Read):
    """`VoiceResponseModel`."""

    voice_id: str
    name: str = ""
    category: str = ""
    labels: dict[str, Any] | None = None
    preview_url: str | None = None
    description: str | None = None


class VoicesPage(_Read):
    """`GetVoicesResponseModel`."""

    voices: list[VoicePayload] = Field(default_factory=list)


# --- outbound calls ---------------------------------------------------------------------------


class TelephonyCallConfig(_Write):
    """`TelephonyCallConfig`."""

    ringing_timeout_secs: int | None = None


class ClientData(_Write):
    """`ConversationInitiationClientDataRequest-Input` (the parts we send)."""

    user_id: str | None = None
    dynamic_variables: dict[str, str | int | float | bool] | None = None


class OutboundCallBody(_Write):
    """`Body_Handle_an_outbound_call_via_{Twilio,SIP_trunk,Exotel}_…_post`."""

    agent_id: str
    agent_phone_number_id: str
    to_number: str
    conversation_initiation_client_data: ClientData | None = None
    telephony_call_config: TelephonyCallConfig | None = None


class OutboundCallResponse(_Read):
    """`TwilioOutboundCallResponse` / `ExotelOutboundCallResponse` (`callSid` camelCase) and
    `SIPTrunkOutboundCallResponse` (`sip_call_id`)."""

    success: bool
    message: str = ""
    conversation_id: str | None = None
    call_sid: str | None = Field(default=None, alias="callSid")
    sip_call_id: str | None = None


class LiveCount(_Read):
    """`GetLiveCountResponse`."""

    count: int


# --- conversations ----------------------------------------------------------------------------


class TranscriptItem(_Read):
    """`ConversationHistoryTranscriptResponseModel`."""

    role: str
    message: str | None = None
    time_in_call_secs: int = 0


class PhoneCallPayload(_Read):
    """`ConversationHistory{Twilio,SIPTrunking,Exotel}PhoneCallModel`, discriminated by `type`."""

    type: str | None = None
    call_sid: str | None = None
    call_id: str | None = None


class ConversationError(_Read):
    """`ConversationHistoryErrorCommonModel`."""

    code: int | None = None
    reason: str | None = None


class ConversationMetadata(_Read):
    """`ConversationHistoryMetadataCommonModel`."""

    start_time_unix_secs: int | None = None
    accepted_time_unix_secs: int | None = None
    call_duration_secs: int = 0
    cost: int | None = None
    cost_fiat: float | None = None
    termination_reason: str | None = ""
    error: ConversationError | None = None
    phone_call: PhoneCallPayload | None = None


class AnalysisPayload(_Read):
    """`ConversationHistoryAnalysisCommonModel`; `data_collection_results` maps id → result."""

    call_successful: str = "unknown"
    transcript_summary: str = ""
    call_summary_title: str | None = None
    data_collection_results: dict[str, Any] | None = None
    evaluation_criteria_results: dict[str, Any] | None = None


class ClientDataPayload(_Read):
    """`ConversationInitiationClientDataRequest-Output`: what the call was placed with (the parts we read)."""

    user_id: str | None = None
    dynamic_variables: dict[str, Any] | None = None


class ConversationPayload(_Read):
    """`GetConversationResponseModel`, also the `data` of `post_call_transcription`."""

    conversation_id: str
    agent_id: str = ""
    status: str
    user_id: str | None = None
    metadata: ConversationMetadata = Field(default_factory=ConversationMetadata)
    transcript: list[TranscriptItem] | None = None
    analysis: AnalysisPayload | None = None
    has_audio: bool = False
    conversation_initiation_client_data: ClientDataPayload | None = None


class ConversationSummaryPayload(_Read):
    """`ConversationSummaryResponseModel` (an item of the conversation list; it carries no user id)."""

    conversation_id: str
    agent_id: str = ""
    start_time_unix_secs: int = 0
    status: str = ""


class ConversationsPage(_Read):
    """`GetConversationsPageResponseModel`."""

    conversations: list[ConversationSummaryPayload] = Field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False


# --- webhooks ---------------------------------------------------------------------------------


class WebhookEnvelope(_Read):
    """Every post-call webhook: `{"type", "event_timestamp", "data"}`."""

    type: str
    event_timestamp: int
    data: dict[str, Any]


class AudioData(_Read):
    """`post_call_audio` data: base64 MP3 of the whole call."""

    agent_id: str = ""
    conversation_id: str
    full_audio: str


class InitiationFailureData(_Read):
    """`call_initiation_failure` data."""

    agent_id: str = ""
    conversation_id: str
    failure_reason: str | None = None
