"""ElevenLabs as a `VoiceProvider`: vendor payloads in, neutral types out.

Webhook signature scheme (ElevenLabs' own, checked exactly):
header `ElevenLabs-Signature: t=<unix seconds>,v0=<hex>` where
`hex = HMAC_SHA256(key=webhook_secret, msg=f"{t}.".encode() + raw_body)`.
The delivery is refused when the secret is not configured (fail closed), when the
header is missing or malformed, when no `v0` matches (constant-time comparison),
when `t` is more than 30 minutes old, or more than 5 minutes in the future (the
official SDK does not check the future; a forged far-future stamp would otherwise
stay replayable forever). Time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from leadcall.kit.clock import Clock, SystemClock
from leadcall.voice.errors import (
    ProviderError,
    ProviderMisconfigured,
    ProviderRejected,
    ProviderRetriable,
    UnhandledWebhookType,
    WebhookSignatureError,
)
from leadcall.voice.providers.elevenlabs.client import (
    ElevenLabsClient,
    Sleep,
    TwilioCallsClient,
    path_segment,
)
from leadcall.voice.providers.elevenlabs.payloads import (
    AgentPatchBody,
    AgentPayload,
    AgentSectionPatch,
    AgentsPage,
    AnalysisAgentPayload,
    AnalysisPatchBody,
    AnalysisSettingsPatch,
    AudioData,
    ClientData,
    ConvAISettingsPayload,
    ConversationConfigPatch,
    ConversationPayload,
    ConversationsPage,
    EvaluationPatch,
    InitiationFailureData,
    LiveCount,
    OutboundCallBody,
    OutboundCallResponse,
    PhoneNumberPayload,
    PromptPatch,
    TelephonyCallConfig,
    TtsSectionPatch,
    VoicesPage,
    WebhookEnvelope,
    WorkspaceWebhooksPayload,
)
from leadcall.voice.types import (
    AgentInfo,
    AgentSummary,
    AgentUpdate,
    AnalysisSetup,
    CallOutcome,
    CallPlacement,
    CallRequest,
    CancelResult,
    ConnectionCheck,
    Conversation,
    ConversationAnalysis,
    ConversationStatus,
    CriterionResult,
    ElevenLabsSettings,
    FailureReason,
    PhoneKind,
    PhoneNumber,
    PostCallWebhook,
    TranscriptRole,
    TranscriptTurn,
    Voice,
    WebhookEvent,
    WebhookEventKind,
    WorkspaceWebhook,
)

SIGNATURE_HEADER = "ElevenLabs-Signature"
SIGNATURE_TOLERANCE_SECS = 30 * 60
SIGNATURE_FUTURE_SKEW_SECS = 5 * 60

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_OUTBOUND_PATHS: Mapping[PhoneKind, str] = {
    PhoneKind.TWILIO: "/v1/convai/twilio/outbound-call",
    PhoneKind.SIP_TRUNK: "/v1/convai/sip-trunk/outbound-call",
    PhoneKind.EXOTEL: "/v1/convai/exotel/outbound-call",
}
_PHONE_CALL_KINDS: Mapping[str, PhoneKind] = {
    "twilio": PhoneKind.TWILIO,
    "sip_trunking": PhoneKind.SIP_TRUNK,
    "sip_trunk": PhoneKind.SIP_TRUNK,
    "exotel": PhoneKind.EXOTEL,
}
_OUTCOMES: Mapping[str, CallOutcome] = {"success": "success", "failure": "failure", "unknown": "unknown"}
_FAILURES: Mapping[str, FailureReason] = {"busy": "busy", "no-answer": "no-answer", "no_answer": "no-answer"}
_ROLES: Mapping[str, TranscriptRole] = {"agent": "agent", "user": "user"}
_AGENT_PAGE_SIZE = 100
_MAX_AGENT_PAGES = 100
# Our id of a call travels twice: as the conversation's `user_id` (which the conversation list can filter
# by) and as this dynamic variable (which the conversation and its webhook carry back in
# `conversation_initiation_client_data`). Either one, read back, names the call.
REFERENCE_VARIABLE = "leadcall_call_id"
# Conversations one search reads in full at most: a reference is dialled once, so one hit is the rule; the
# margin covers a service that would not filter by user id (the start-time window still narrows the list).
_MAX_FOUND = 20

_Model = TypeVar("_Model", bound=BaseModel)


def _parse(model: type[_Model], data: Any, what: str) -> _Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else None
        where = ".".join(str(p) for p in first["loc"]) if first else "?"
        raise ProviderRejected(
            f"ElevenLabs sent {what} in an unexpected shape ({where}: {first['msg'] if first else 'invalid'}).",
            code="unexpected_response",
        ) from None


def _phone_number(payload: PhoneNumberPayload) -> PhoneNumber | None:
    try:
        kind = PhoneKind(payload.provider)
    except ValueError:
        return None
    return PhoneNumber(
        phone_number_id=payload.phone_number_id,
        number=payload.phone_number,
        label=payload.label,
        kind=kind,
        assigned_agent_id=payload.assigned_agent.agent_id if payload.assigned_agent else None,
    )


def _agent_info(payload: AgentPayload) -> AgentInfo:
    agent = payload.conversation_config.agent
    limit = payload.platform_settings.call_limits.agent_concurrency_limit
    numbers = tuple(n for n in (_phone_number(p) for p in payload.phone_numbers) if n is not None)
    return AgentInfo(
        agent_id=payload.agent_id,
        name=payload.name,
        language=agent.language,
        first_message=agent.first_message,
        prompt=agent.prompt.prompt,
        voice_id=payload.conversation_config.tts.voice_id,
        tags=tuple(payload.tags),
        concurrency_limit=None if limit < 0 else limit,
        phone_numbers=numbers,
    )


def _conversation(payload: ConversationPayload) -> Conversation:
    try:
        status = ConversationStatus(payload.status)
    except ValueError:
        raise ProviderRejected(
            f"ElevenLabs reported an unknown conversation status {payload.status!r}.", code="unexpected_response"
        ) from None
    meta = payload.metadata
    analysis = None
    if payload.analysis is not None:
        results = payload.analysis.data_collection_results or {}
        verdicts = payload.analysis.evaluation_criteria_results or {}
        analysis = ConversationAnalysis(
            call_successful=_OUTCOMES.get(payload.analysis.call_successful, "unknown"),
            summary=payload.analysis.transcript_summary,
            title=payload.analysis.call_summary_title,
            data=MappingProxyType(
                {key: (r.get("value") if isinstance(r, dict) else r) for key, r in results.items()}
            ),
            rationales=MappingProxyType({key: str(r.get("rationale") or "") for key, r in results.items()
                                         if isinstance(r, dict)}),
            criteria=MappingProxyType({key: CriterionResult(_OUTCOMES.get(str(v.get("result")), "unknown"),
                                                            str(v.get("rationale") or ""))
                                       for key, v in verdicts.items() if isinstance(v, dict)}),
        )
    error_reason = None
    if meta.error is not None:
        error_reason = meta.error.reason or (f"error code {meta.error.code}" if meta.error.code is not None else None)
    phone = meta.phone_call
    client_data = payload.conversation_initiation_client_data
    variables = (client_data.dynamic_variables or {}) if client_data else {}
    reference = variables.get(REFERENCE_VARIABLE)
    if not isinstance(reference, str) or not reference:
        reference = payload.user_id or (client_data.user_id if client_data else None)
    turns = tuple(
        TranscriptTurn(role=_ROLES[t.role], message=t.message or "", time_in_call_secs=t.time_in_call_secs)
        for t in payload.transcript or ()
        if t.role in _ROLES
    )
    return Conversation(
        conversation_id=payload.conversation_id,
        agent_id=payload.agent_id,
        status=status,
        start_time_unix=meta.start_time_unix_secs,
        accepted_time_unix=meta.accepted_time_unix_secs,
        duration_secs=meta.call_duration_secs,
        cost_credits=meta.cost,
        cost_usd=meta.cost_fiat,
        termination_reason=meta.termination_reason or "",
        error_reason=error_reason,
        transcript=turns,
        analysis=analysis,
        has_audio=payload.has_audio,
        call_sid=phone.call_sid if phone else None,
        phone_kind=_PHONE_CALL_KINDS.get(phone.type or "") if phone else None,
        reference=reference,
    )


def _analysis_setup(payload: AnalysisAgentPayload) -> AnalysisSetup:
    settings = payload.platform_settings
    criteria = settings.evaluation.get("criteria")
    return AnalysisSetup(
        data_collection=MappingProxyType(dict(settings.data_collection)),
        criteria=tuple(c for c in criteria if isinstance(c, dict)) if isinstance(criteria, list) else (),
        summary_language=settings.summary_language)


def analysis_patch_body(setup: AnalysisSetup) -> dict[str, Any]:
    """The agent PATCH body that sets `setup` (`platform_settings` only)."""
    body = AnalysisPatchBody(platform_settings=AnalysisSettingsPatch(
        data_collection={key: dict(item) for key, item in setup.data_collection.items()},
        evaluation=EvaluationPatch(criteria=[dict(c) for c in setup.criteria]),
        summary_language=setup.summary_language))
    return body.model_dump(exclude_none=True)


def _patch_body(update: AgentUpdate) -> dict[str, Any]:
    agent = None
    if update.first_message is not None or update.language is not None or update.prompt is not None:
        agent = AgentSectionPatch(
            first_message=update.first_message,
            language=update.language,
            prompt=PromptPatch(prompt=update.prompt) if update.prompt is not None else None,
        )
    tts = TtsSectionPatch(voice_id=update.voice_id) if update.voice_id is not None else None
    body = AgentPatchBody(
        name=update.name,
        tags=list(update.tags) if update.tags is not None else None,
        conversation_config=ConversationConfigPatch(agent=agent, tts=tts) if agent or tts else None,
    )
    return body.model_dump(exclude_none=True)


UNREACHABLE = "Could not connect to an ElevenLabs API at this URL; check the URL and try again."


def connection_problem(exc: ProviderError) -> ConnectionCheck:
    """What a failed connection check says: by the kind of failure and the HTTP status only."""
    status = exc.status_code
    if isinstance(exc, ProviderMisconfigured) and exc.code == "missing_permissions":
        permission = exc.missing_permission
        what = f"the permission {permission}" if permission else "a permission this check needs"
        return ConnectionCheck(ok=False, detail=f"The API key is valid but lacks {what}; enable it on the key.",
                               missing_permission=permission, code="missing_permission",
                               params={"permission": permission or "convai_read"})
    if status is None:
        return ConnectionCheck(ok=False, detail=UNREACHABLE, code="unreachable")
    if status == 401:
        detail, code = "ElevenLabs says the API key is invalid (invalid API key).", "invalid_key"
    elif isinstance(exc, ProviderMisconfigured) and status == 402:
        detail = "The ElevenLabs account has insufficient credits (HTTP 402); top up or upgrade the plan."
        code = "no_credits"
    elif status == 429:
        detail, code = "ElevenLabs is busy or rate limiting (HTTP 429); try again shortly.", "rate_limited"
    elif status >= 500:
        detail, code = f"ElevenLabs answered with a server error (HTTP {status}); try again later.", "server_error"
    elif exc.code == "unexpected_response":
        detail = f"This URL answered (HTTP {status}), but not as the ElevenLabs API does; check the URL."
        code = "not_elevenlabs"
    else:
        detail, code = f"ElevenLabs refused the check (HTTP {status}); check the URL and the API key.", "refused"
    return ConnectionCheck(ok=False, detail=detail, code=code, params={"status": status})


class ElevenLabsProvider:
    """`VoiceProvider` for one ElevenLabs account. Build one per account; do not share.

    `http` lets the caller supply (and own) the `httpx.AsyncClient`; otherwise the
    provider creates one and closes it in `aclose()`.
    """

    kind: ClassVar[str] = "elevenlabs"
    settings_type: ClassVar[type[ElevenLabsSettings]] = ElevenLabsSettings

    def __init__(
        self,
        settings: ElevenLabsSettings,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._client = ElevenLabsClient(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout_seconds=settings.timeout_seconds,
            http=http,
            sleep=sleep,
            label=settings.account_label,
        )
        self._twilio: TwilioCallsClient | None = None
        if settings.twilio_account_sid and settings.twilio_auth_token:
            self._twilio = TwilioCallsClient(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                base_url=settings.twilio_base_url,
                timeout_seconds=settings.timeout_seconds,
                http=self._client.http,
            )

    def __repr__(self) -> str:
        return f"ElevenLabsProvider(base_url={self._settings.base_url!r})"

    # --- agents, voices, numbers ------------------------------------------------------------

    async def list_agents(self) -> tuple[AgentSummary, ...]:
        agents: list[AgentSummary] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_AGENT_PAGES):
            params: dict[str, str | int] = {"page_size": _AGENT_PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            page = _parse(AgentsPage, await self._client.get_json("/v1/convai/agents", "listing agents", params),
                          "the agent list")
            agents.extend(AgentSummary(agent_id=a.agent_id, name=a.name, tags=tuple(a.tags)) for a in page.agents)
            if not page.has_more or not page.next_cursor or page.next_cursor in seen:
                break
            seen.add(page.next_cursor)
            cursor = page.next_cursor
        return tuple(agents)

    async def get_agent(self, agent_id: str) -> AgentInfo:
        data = await self._client.get_json(f"/v1/convai/agents/{path_segment(agent_id)}", f"reading agent {agent_id}")
        return _agent_info(_parse(AgentPayload, data, "the agent"))

    async def update_agent(self, agent_id: str, update: AgentUpdate) -> AgentInfo:
        """PATCH only the set fields, nested under `conversation_config` as the API expects.

        An empty update sends nothing and returns the current agent.
        """
        if update.is_empty:
            return await self.get_agent(agent_id)
        data = await self._client.patch_json(
            f"/v1/convai/agents/{path_segment(agent_id)}", f"updating agent {agent_id}", _patch_body(update)
        )
        return _agent_info(_parse(AgentPayload, data, "the updated agent"))

    async def get_analysis_setup(self, agent_id: str) -> AnalysisSetup:
        data = await self._client.get_json(f"/v1/convai/agents/{path_segment(agent_id)}", f"reading agent {agent_id}")
        return _analysis_setup(_parse(AnalysisAgentPayload, data, "the agent"))

    async def set_analysis_setup(self, agent_id: str, setup: AnalysisSetup) -> AnalysisSetup:
        """One PATCH of `platform_settings` carrying every data-collection item and criterion to keep
        (the API may replace `data_collection` whole, so the agent's other items travel back unchanged)."""
        data = await self._client.patch_json(
            f"/v1/convai/agents/{path_segment(agent_id)}", f"setting up the analysis of agent {agent_id}",
            analysis_patch_body(setup))
        return _analysis_setup(_parse(AnalysisAgentPayload, data, "the updated agent"))

    async def list_voices(self) -> tuple[Voice, ...]:
        page = _parse(VoicesPage, await self._client.get_json("/v1/voices", "listing voices"), "the voice list")
        return tuple(
            Voice(
                voice_id=v.voice_id,
                name=v.name,
                category=v.category,
                labels=MappingProxyType({str(k): str(val) for k, val in (v.labels or {}).items() if val is not None}),
                preview_url=v.preview_url,
                description=v.description,
            )
            for v in page.voices
        )

    async def get_post_call_webhook(self) -> PostCallWebhook:
        """`GET /v1/convai/settings` names the post-call webhook (`webhooks.post_call_webhook_id`, `events`);
        `GET /v1/workspace/webhooks` says where it points and whether it is disabled (the second request only
        when an id is set)."""
        settings = _parse(ConvAISettingsPayload,
                          await self._client.get_json("/v1/convai/settings", "reading the workspace's agent settings"),
                          "the workspace's agent settings")
        hook_id, events = settings.webhooks.post_call_webhook_id, tuple(settings.webhooks.events)
        if not hook_id:
            return PostCallWebhook(webhook_id=None, webhook=None, events=events)
        listing = _parse(WorkspaceWebhooksPayload,
                         await self._client.get_json("/v1/workspace/webhooks", "listing the workspace's webhooks"),
                         "the workspace's webhooks")
        found = next((w for w in listing.webhooks if w.webhook_id == hook_id), None)
        webhook = None if found is None else WorkspaceWebhook(
            webhook_id=found.webhook_id, name=found.name, url=found.webhook_url, disabled=found.is_disabled,
            auto_disabled=found.is_auto_disabled, last_failure_code=found.most_recent_failure_error_code,
            last_failure_unix=found.most_recent_failure_timestamp)
        return PostCallWebhook(webhook_id=hook_id, webhook=webhook, events=events)

    async def list_phone_numbers(self) -> tuple[PhoneNumber, ...]:
        data = await self._client.get_json("/v1/convai/phone-numbers", "listing phone numbers")
        if not isinstance(data, list):
            raise ProviderRejected("ElevenLabs sent the phone-number list in an unexpected shape.",
                                   code="unexpected_response")
        numbers = (_phone_number(_parse(PhoneNumberPayload, item, "a phone number")) for item in data)
        return tuple(n for n in numbers if n is not None)

    async def test_connection(self) -> ConnectionCheck:
        """Probe `GET /v1/convai/agents?page_size=1` (needs `convai_read`, unlike `/v1/user`).

        The answer is ours, never the upstream's text: its status and a sentence of our own. Every way of
        not getting an HTTP answer (nothing listens, not HTTP, a timeout, an address the outbound guard
        refuses) reads the same, so the probe tells nothing about what runs at an address."""
        try:
            body = await self._client.get_json("/v1/convai/agents", "checking the connection", {"page_size": 1})
        except ProviderError as exc:
            return connection_problem(exc)
        if not isinstance(body, dict) or not isinstance(body.get("agents"), list):
            return connection_problem(ProviderRetriable("not an agents listing", code="unexpected_response",
                                                        status_code=200))
        return ConnectionCheck(ok=True, detail="Connected to ElevenLabs; the API key can read agents.", code="connected")

    # --- calls ------------------------------------------------------------------------------

    async def start_call(self, request: CallRequest) -> CallPlacement:
        """Place one outbound call. Sent exactly once, never retried (see `ElevenLabsClient.post_call`)."""
        if not _E164.match(request.to_number):
            raise ProviderRejected(
                f"{request.to_number!r} is not a phone number in E.164 form (like +14155550123).",
                code="invalid_to_number",
            )
        reserved = sorted(k for k in request.dynamic_variables if k.startswith("system__"))
        if reserved:
            raise ProviderRejected(
                f"Dynamic variables may not use the reserved prefix system__ ({', '.join(reserved)}).",
                code="reserved_dynamic_variable",
            )
        timeout = request.ringing_timeout_secs
        if timeout is not None and not 1 <= timeout <= 999:
            raise ProviderRejected("The ringing timeout must be between 1 and 999 seconds.",
                                   code="invalid_ringing_timeout")
        variables = dict(request.dynamic_variables)
        if request.reference:
            variables[REFERENCE_VARIABLE] = request.reference
        client_data = None
        if variables or request.reference:
            client_data = ClientData(user_id=request.reference, dynamic_variables=variables or None)
        body = OutboundCallBody(
            agent_id=request.agent_id,
            agent_phone_number_id=request.phone_number.phone_number_id,
            to_number=request.to_number,
            conversation_initiation_client_data=client_data,
            telephony_call_config=TelephonyCallConfig(ringing_timeout_secs=timeout) if timeout is not None else None,
        )
        path = _OUTBOUND_PATHS[request.phone_number.kind]
        data = await self._client.post_call(path, f"placing a call to {request.to_number}",
                                            body.model_dump(exclude_none=True))
        try:
            answer = OutboundCallResponse.model_validate(data)
        except ValidationError:
            raise ProviderRetriable(
                "ElevenLabs answered the call request in an unexpected shape; the call may or may not have been "
                "placed. Check the conversation before dialling again.",
                code="unexpected_response",
                maybe_placed=True,
            ) from None
        if not answer.success:
            raise ProviderRejected(
                f"ElevenLabs did not place the call: {answer.message or 'no reason given'}", code="call_not_placed"
            )
        if not answer.conversation_id:
            raise ProviderRetriable(
                "ElevenLabs accepted the call but returned no conversation id; the call may have been placed.",
                code="unexpected_response",
                maybe_placed=True,
            )
        return CallPlacement(
            conversation_id=answer.conversation_id,
            call_sid=answer.call_sid,
            sip_call_id=answer.sip_call_id,
            message=answer.message,
        )

    async def get_conversation(self, conversation_id: str) -> Conversation:
        data = await self._client.get_json(
            f"/v1/convai/conversations/{path_segment(conversation_id)}", f"reading conversation {conversation_id}"
        )
        return _conversation(_parse(ConversationPayload, data, "the conversation"))

    async def find_conversation(self, agent_id: str, reference: str, started_after_unix: int,
                                started_before_unix: int | None = None) -> Conversation | None:
        """`GET /v1/convai/conversations?agent_id=…&user_id=<reference>&call_start_after_unix=…`, then each
        hit read in full (the list's items carry no user id nor client data) and kept only if it carries the
        reference back, so a filter the service applied loosely can only cost reads, never a wrong match.
        The oldest match wins: a reference is dialled once."""
        params: dict[str, str | int] = {"agent_id": agent_id, "user_id": reference,
                                        "call_start_after_unix": started_after_unix, "page_size": _MAX_FOUND,
                                        "sort_direction": "asc"}
        if started_before_unix is not None:
            params["call_start_before_unix"] = started_before_unix
        page = _parse(ConversationsPage,
                      await self._client.get_json("/v1/convai/conversations", f"looking for the call {reference}",
                                                  params),
                      "the conversation list")
        for item in page.conversations:
            conversation = await self.get_conversation(item.conversation_id)
            if conversation.reference == reference and conversation.agent_id in (agent_id, ""):
                return conversation
        return None

    def stream_audio(self, conversation_id: str) -> AsyncIterator[bytes]:
        """The recording as the API serves it (`audio/mpeg`; only its errors are JSON)."""
        return self._client.stream(
            f"/v1/convai/conversations/{path_segment(conversation_id)}/audio",
            f"downloading the recording of {conversation_id}",
            accept="audio/mpeg",
        )

    async def delete_conversation(self, conversation_id: str) -> bool:
        """`DELETE /v1/convai/conversations/{conversation_id}` (200 with an empty JSON schema); 404: already gone."""
        try:
            await self._client.delete(
                f"/v1/convai/conversations/{path_segment(conversation_id)}", f"deleting conversation {conversation_id}"
            )
        except ProviderRejected as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

    async def live_count(self, agent_id: str | None = None) -> int:
        params = {"agent_id": agent_id} if agent_id else None
        data = await self._client.get_json("/v1/convai/analytics/live-count", "counting live calls", params)
        return _parse(LiveCount, data, "the live call count").count

    async def cancel_call(self, conversation_id: str, call_sid: str | None, phone_kind: PhoneKind) -> CancelResult:
        """End a live call through the telephony side.

        ElevenLabs has no REST call to hang up. A Twilio call is ended with Twilio's API
        (`Status=completed`) when the account's Twilio credentials are configured;
        anything else gets an honest `ended=False`.
        """
        if phone_kind is PhoneKind.TWILIO:
            if self._twilio is None:
                return CancelResult(
                    ended=False,
                    detail="ElevenLabs has no API to hang up a call, and no Twilio credentials are configured for "
                    "this account. The call ends when either side hangs up or the agent's time limit is reached.",
                )
            if not call_sid:
                return CancelResult(ended=False, detail="The Twilio call id (CallSid) of this call is unknown, so "
                                    "it cannot be hung up through Twilio.")
            status = await self._twilio.complete_call(call_sid)
            if status is None:
                return CancelResult(ended=False, detail=f"Twilio does not know call {call_sid}.")
            return CancelResult(ended=True, detail=f"Hung up through Twilio (call status {status}).")
        if phone_kind is PhoneKind.SIP_TRUNK:
            return CancelResult(
                ended=False,
                detail="ElevenLabs has no API to hang up a call; a SIP trunk call must be ended at the SIP provider.",
            )
        return CancelResult(
            ended=False,
            detail=f"ElevenLabs has no API to hang up a call; a {phone_kind.value} call must be ended at the "
            "telephony provider.",
        )

    # --- webhooks ---------------------------------------------------------------------------

    def verify_webhook(self, raw_body: bytes, signature_header: str | None) -> WebhookEvent:
        """Verify `ElevenLabs-Signature` over the exact raw bytes, then parse (scheme in the module doc)."""
        self._check_signature(raw_body, signature_header)
        return self.parse_webhook(raw_body)

    def parse_webhook(self, raw_body: bytes) -> WebhookEvent:
        """Parse a delivery whose signature `verify_webhook` already checked (e.g. stored, processed later).

        Performs no authentication: never call it on bytes that did not pass `verify_webhook`.
        """
        try:
            envelope = WebhookEnvelope.model_validate(json.loads(raw_body))
        except (ValueError, ValidationError):
            raise ProviderRejected("The webhook body is not an ElevenLabs event.", code="invalid_webhook") from None
        try:
            kind = WebhookEventKind(envelope.type)
        except ValueError:
            raise UnhandledWebhookType(f"Unsupported ElevenLabs webhook type {envelope.type!r}.",
                                       event_type=envelope.type) from None
        what = f"the {kind.value} webhook"
        if kind is WebhookEventKind.TRANSCRIPTION:
            conversation = _conversation(_parse(ConversationPayload, envelope.data, what))
            return WebhookEvent(kind=kind, event_timestamp=envelope.event_timestamp,
                                conversation_id=conversation.conversation_id, agent_id=conversation.agent_id,
                                conversation=conversation)
        if kind is WebhookEventKind.AUDIO:
            audio = _parse(AudioData, envelope.data, what)
            try:
                decoded = base64.b64decode(audio.full_audio, validate=True)
            except (binascii.Error, ValueError):
                raise ProviderRejected("The audio webhook carries audio that is not valid base64.",
                                       code="invalid_webhook") from None
            return WebhookEvent(kind=kind, event_timestamp=envelope.event_timestamp,
                                conversation_id=audio.conversation_id, agent_id=audio.agent_id, audio=decoded)
        failure = _parse(InitiationFailureData, envelope.data, what)
        return WebhookEvent(kind=kind, event_timestamp=envelope.event_timestamp,
                            conversation_id=failure.conversation_id, agent_id=failure.agent_id,
                            failure_reason=_FAILURES.get(failure.failure_reason or "", "unknown"))

    def _check_signature(self, raw_body: bytes, header: str | None) -> None:
        secret = self._settings.webhook_secret
        if not secret:
            raise ProviderMisconfigured(
                "No webhook secret is configured for this ElevenLabs account, so webhooks are refused. "
                "Copy the secret from the ElevenLabs webhook settings.",
                code="webhook_secret_missing",
            )
        if not header or not header.strip():
            raise WebhookSignatureError(f"The {SIGNATURE_HEADER} header is missing.", code="missing_signature")
        timestamp: str | None = None
        candidates: list[str] = []
        for part in header.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep:
                continue
            if name == "t":
                timestamp = value
            elif name == "v0":
                candidates.append(value)
        if timestamp is None or not timestamp.isascii() or not timestamp.isdigit() or not candidates:
            raise WebhookSignatureError(f"The {SIGNATURE_HEADER} header is malformed (expected t=…,v0=…).",
                                        code="malformed_signature")
        now = self._clock.now()
        sent_at = int(timestamp)
        if sent_at < now - SIGNATURE_TOLERANCE_SECS:
            raise WebhookSignatureError("The webhook signature is too old (more than 30 minutes).",
                                        code="stale_signature")
        if sent_at > now + SIGNATURE_FUTURE_SKEW_SECS:
            raise WebhookSignatureError("The webhook signature is dated in the future.", code="future_signature")
        expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw_body,
                            hashlib.sha256).hexdigest().encode("ascii")
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
        if not matched:
            raise WebhookSignatureError("The webhook signature does not match the body.", code="bad_signature")

    async def aclose(self) -> None:
        await self._client.aclose()
