"""The voice-provider interface and its provider-neutral data types.

Everything here is vendor-free: frozen dataclasses holding tuples and read-only
mappings, so a value can be cached and shared between tasks without copying.
A provider is built per account (see `leadcall.voice.factory`) and raises only
the errors of `leadcall.voice.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

DynamicValue = str | int | float | bool
CallOutcome = Literal["success", "failure", "unknown"]
FailureReason = Literal["busy", "no-answer", "unknown"]
TranscriptRole = Literal["agent", "user"]


class PhoneKind(StrEnum):
    """How a phone number reaches the telephone network (the vendor's `provider`)."""

    TWILIO = "twilio"
    SIP_TRUNK = "sip_trunk"
    EXOTEL = "exotel"


class ConversationStatus(StrEnum):
    """The vendor's conversation lifecycle: initiated → in-progress → processing → done | failed.

    There is no "ringing" state: a conversation is `initiated` while the phone rings.
    """

    INITIATED = "initiated"
    IN_PROGRESS = "in-progress"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (ConversationStatus.DONE, ConversationStatus.FAILED)


class WebhookEventKind(StrEnum):
    TRANSCRIPTION = "post_call_transcription"
    AUDIO = "post_call_audio"
    INITIATION_FAILURE = "call_initiation_failure"


@dataclass(frozen=True)
class PhoneNumber:
    phone_number_id: str
    number: str
    label: str
    kind: PhoneKind
    assigned_agent_id: str | None = None


@dataclass(frozen=True)
class AgentSummary:
    agent_id: str
    name: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentInfo:
    """One agent's configuration as callers need it.

    `concurrency_limit` is the agent's own cap on live calls; None when unlimited
    (the vendor's -1). The account-wide plan limit is not part of it.
    """

    agent_id: str
    name: str
    language: str
    first_message: str
    prompt: str
    voice_id: str | None
    tags: tuple[str, ...] = ()
    concurrency_limit: int | None = None
    phone_numbers: tuple[PhoneNumber, ...] = ()


@dataclass(frozen=True)
class AgentUpdate:
    """A partial agent update: only the fields that are not None are sent."""

    name: str | None = None
    first_message: str | None = None
    prompt: str | None = None
    language: str | None = None
    voice_id: str | None = None
    tags: tuple[str, ...] | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (self.name, self.first_message, self.prompt, self.language, self.voice_id, self.tags)
        )


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    category: str
    labels: Mapping[str, str] = field(default_factory=dict)
    preview_url: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class CallRequest:
    """One outbound call. `to_number` is E.164 (`+` and 7 to 15 digits).

    `dynamic_variables` fill the agent's `{{placeholders}}`; names starting with
    `system__` are reserved by the vendor and refused.
    `reference` is the caller's own id for this call. It travels with the call and comes
    back in the vendor's conversation (`Conversation.reference`), so a call whose placing
    request got no clear answer can still be found (`VoiceProvider.find_conversation`).
    """

    agent_id: str
    phone_number: PhoneNumber
    to_number: str
    dynamic_variables: Mapping[str, DynamicValue] = field(default_factory=dict)
    ringing_timeout_secs: int | None = None
    reference: str | None = None


@dataclass(frozen=True)
class CallPlacement:
    """The vendor accepted the call. `call_sid` is set for Twilio, `sip_call_id` for SIP trunks."""

    conversation_id: str
    call_sid: str | None
    sip_call_id: str | None
    message: str


@dataclass(frozen=True)
class TranscriptTurn:
    role: TranscriptRole
    message: str
    time_in_call_secs: int


@dataclass(frozen=True)
class CriterionResult:
    """One evaluation criterion's verdict on a conversation, with the analysis' reasoning."""

    result: CallOutcome
    rationale: str = ""


@dataclass(frozen=True)
class ConversationAnalysis:
    """Post-call analysis. `data` maps each data-collection id to its extracted value, `rationales`
    to the analysis' reasoning for it; `criteria` maps each evaluation criterion id to its verdict."""

    call_successful: CallOutcome
    summary: str
    title: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)
    rationales: Mapping[str, str] = field(default_factory=dict)
    criteria: Mapping[str, CriterionResult] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisSetup:
    """What an agent's post-call analysis extracts and judges.

    `data_collection` maps each item id to the vendor's item object and `criteria` holds the vendor's
    criterion objects, both exactly as the vendor gave them, so items leadcall does not own can be sent
    back unchanged. `summary_language` is the language of summaries and rationales (None: the vendor's default).
    """

    data_collection: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    criteria: tuple[Mapping[str, Any], ...] = ()
    summary_language: str | None = None


@dataclass(frozen=True)
class Conversation:
    """One conversation (one call). Costs: `cost_credits` in vendor credits, `cost_usd` in US dollars."""

    conversation_id: str
    agent_id: str
    status: ConversationStatus
    start_time_unix: int | None = None
    accepted_time_unix: int | None = None
    duration_secs: int = 0
    cost_credits: int | None = None
    cost_usd: float | None = None
    termination_reason: str = ""
    error_reason: str | None = None
    transcript: tuple[TranscriptTurn, ...] = ()
    analysis: ConversationAnalysis | None = None
    has_audio: bool = False
    call_sid: str | None = None
    phone_kind: PhoneKind | None = None
    reference: str | None = None  # the `CallRequest.reference` the call was placed with


@dataclass(frozen=True)
class WebhookEvent:
    """A verified post-call webhook.

    `dedup_key` is the same for byte-identical redeliveries (kind, conversation and
    event timestamp), so a handler can store each event once.
    `conversation` is set for transcription events, `audio` for audio events and
    `failure_reason` for initiation failures.
    """

    kind: WebhookEventKind
    event_timestamp: int
    conversation_id: str
    agent_id: str
    conversation: Conversation | None = None
    failure_reason: FailureReason | None = None
    audio: bytes | None = field(default=None, repr=False)

    @property
    def dedup_key(self) -> str:
        return f"{self.kind.value}:{self.conversation_id}:{self.event_timestamp}"


@dataclass(frozen=True)
class WorkspaceWebhook:
    """One webhook of the workspace as the vendor lists it. `disabled`: turned off by a person;
    `auto_disabled`: turned off by the vendor after repeated failed deliveries. The last failure is the
    status code our side answered (None when no answer came) and when."""

    webhook_id: str
    name: str
    url: str
    disabled: bool
    auto_disabled: bool
    last_failure_code: int | None = None
    last_failure_unix: int | None = None


@dataclass(frozen=True)
class PostCallWebhook:
    """The workspace's post-call webhook setting: the webhook it names (`webhook_id`, None when none is set),
    that webhook (None when the id names none the vendor lists) and the events it sends."""

    webhook_id: str | None
    webhook: WorkspaceWebhook | None
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionCheck:
    """`code` (with `params`) says the result in a stable form pages word in their language; `detail` is the
    English sentence for the API and for codes a reader does not know."""

    ok: bool
    detail: str
    missing_permission: str | None = None
    code: str = "connection_failed"
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelResult:
    """`ended` is True only when the call was actually hung up; `detail` says what happened."""

    ended: bool
    detail: str


@dataclass(frozen=True)
class ElevenLabsSettings:
    """One ElevenLabs account, decrypted. Secrets never appear in repr/str.

    `base_url` may carry a path prefix (e.g. a local simulator at `http://127.0.0.1:8000/sim`).
    The Twilio credentials are optional and only used to hang up Twilio calls.
    """

    api_key: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    base_url: str = "https://api.elevenlabs.io"
    timeout_seconds: float = 10.0
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_base_url: str = "https://api.twilio.com"
    # Our id of the account (metrics count its provider requests under it); not sent to the provider.
    account_label: str | None = None


class VoiceProvider(Protocol):
    """One account at one voice vendor.

    Contract for every implementation:

    * Only `leadcall.voice.errors` exceptions escape; `detail` never holds secrets.
    * `start_call` is never retried, not even after a timeout or 5xx: the vendor may
      already be dialling. Such failures raise `ProviderRetriable(maybe_placed=True)`
      and the caller reconciles instead of re-dialling. Reads may retry once.
    * `verify_webhook` authenticates before it parses, fails closed when no secret is
      configured, and is synchronous (pure CPU work on the raw body). `parse_webhook`
      only parses, for raw bodies that were verified when they arrived and stored.
    * An instance belongs to one account; build a fresh one per account and close it
      with `aclose()`.
    """

    async def list_agents(self) -> tuple[AgentSummary, ...]:
        """All agents of the account (every page)."""
        ...

    async def get_agent(self, agent_id: str) -> AgentInfo: ...

    async def update_agent(self, agent_id: str, update: AgentUpdate) -> AgentInfo:
        """Apply the set fields of `update`; returns the agent as the vendor now has it."""
        ...

    async def get_analysis_setup(self, agent_id: str) -> AnalysisSetup:
        """The agent's post-call analysis configuration."""
        ...

    async def set_analysis_setup(self, agent_id: str, setup: AnalysisSetup) -> AnalysisSetup:
        """Replace the agent's data-collection items, evaluation criteria and summary language with `setup`
        (whole: send every item to keep); returns what the vendor now has."""
        ...

    async def list_voices(self) -> tuple[Voice, ...]: ...

    async def get_post_call_webhook(self) -> PostCallWebhook:
        """Where and whether the workspace sends its post-call webhooks (reads only)."""
        ...

    async def list_phone_numbers(self) -> tuple[PhoneNumber, ...]: ...

    async def test_connection(self) -> ConnectionCheck:
        """Check the credentials; never raises for a bad key, reports it in the result."""
        ...

    async def start_call(self, request: CallRequest) -> CallPlacement:
        """Place one outbound call with exactly one request (see the class contract)."""
        ...

    async def get_conversation(self, conversation_id: str) -> Conversation: ...

    async def find_conversation(self, agent_id: str, reference: str, started_after_unix: int,
                                started_before_unix: int | None = None) -> Conversation | None:
        """The conversation of `agent_id` placed with `reference` and started in the given window, or None
        when the vendor has none (yet). Only reads: it never places anything."""
        ...

    def stream_audio(self, conversation_id: str) -> AsyncIterator[bytes]:
        """The call recording (MP3) in chunks, as the vendor streams it."""
        ...

    async def delete_conversation(self, conversation_id: str) -> bool:
        """Delete the conversation at the vendor (transcript, recording, analysis, dynamic variables).

        True when it was deleted, False when the vendor no longer knows it (deleted before): either way
        it is gone. Sent once; whoever asked decides when to try again.
        """
        ...

    async def live_count(self, agent_id: str | None = None) -> int:
        """Conversations in progress now, for one agent or the whole account."""
        ...

    async def cancel_call(self, conversation_id: str, call_sid: str | None, phone_kind: PhoneKind) -> CancelResult:
        """Hang up a live call where the telephony side allows it; otherwise say honestly that it cannot."""
        ...

    def verify_webhook(self, raw_body: bytes, signature_header: str | None) -> WebhookEvent:
        """Authenticate a webhook delivery from its exact raw bytes, then parse it."""
        ...

    def parse_webhook(self, raw_body: bytes) -> WebhookEvent:
        """Parse a delivery that `verify_webhook` already authenticated (stored, processed later).

        It checks no signature: never call it on bytes that did not pass `verify_webhook`.
        """
        ...

    async def aclose(self) -> None: ...
