"""The simulator's HTTP surface: the ElevenLabs agents API subset leadcall uses, with the
real paths, `xi-api-key` auth, request and response shapes and error envelopes, plus a
stand-in for Twilio's "modify call" (hang-up) and public voice previews.

Choices where ElevenLabs' behaviour is not documented (elevenlabs-api.md, UNCONFIRMED):
- error bodies carry both the new `type`/`code` and the legacy `status` field;
- a number the carrier refuses (+12025550106) answers 400 `invalid_request` /
  `call_initiation_failed`, and no conversation is created;
- a phone number of the other provider answers 400 `invalid_request` /
  `invalid_phone_number_provider`; a `to_number` that is not E.164 answers 400
  `validation_error` / `invalid_phone_number`;
- over the workspace's (or the agent's) live-call limit answers 429 `rate_limit_error` /
  `concurrent_limit_exceeded` (legacy status `too_many_concurrent_requests`), no Retry-After;
- audio of a conversation without audio answers 404 `not_found` / `conversation_audio_not_found`;
- PATCH agent deep-merges `conversation_config` and `platform_settings`, except that
  `platform_settings.data_collection` and `platform_settings.evaluation.criteria` are replaced
  whole (the stricter reading: a client must send back every item it keeps); their items are
  validated as `AnalysisProperty` / `PromptEvaluationCriteria` (422 otherwise); a key marked
  read-only answers 401 `missing_permissions` (convai_write);
- injected faults apply to the ElevenLabs routes only, not to the Twilio stand-in or
  the preview files;
- the conversation list's `user_id` filter matches the `user_id` the call was placed with
  (`conversation_initiation_client_data.user_id`), the one GET conversation answers;
  `call_start_after_unix` / `call_start_before_unix` are inclusive;
- a key marked `workspace_hidden` answers 401 `missing_permissions` to the workspace settings and webhooks
  (the permission's name, `workspace_read`, is a guess); a delivery the receiver does not answer 200 becomes
  the post-call webhook's `most_recent_failure_*` (the code is null when no answer came); the simulator never
  auto-disables a webhook by itself (tests set `auto_disabled`).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from leadcall.simulator import wire
from leadcall.simulator.audio import silent_mp3
from leadcall.simulator.scenarios import Kind, scenario_for
from leadcall.simulator.state import SimulatorState
from leadcall.simulator.world import SimAccount, SimAgent, SimConversation

PREVIEW_PATH = "/sim-assets/voices/{voice_id}/preview.mp3"


class SimError(Exception):
    """An ElevenLabs-shaped error: `{"detail": {type, code, status, message, request_id}}`."""

    def __init__(self, status: int, type_: str, code: str, message: str, *, legacy: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"detail": {"type": type_, "code": code, "status": legacy or code, "message": message,
                                "request_id": uuid.uuid4().hex}}


def not_found(code: str, message: str) -> SimError:
    return SimError(404, "not_found", code, message)


class ConnectionCut(Exception):
    """Raised by an answer after its first bytes: the server then drops the connection (injected)."""


class CutAnswer(Response):
    """Sends the head and half of the body, then fails: the client sees the connection end mid-answer."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[:len(self.body) // 2], "more_body": True})
        raise ConnectionCut("connection cut after placing the call (injected)")


async def _state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


State = Annotated[SimulatorState, Depends(_state)]


async def _faults(state: State) -> None:
    """Injected misbehaviour, before authentication, as an overloaded front door would answer."""
    faults = state.faults
    if faults.slow_seconds > 0:
        await asyncio.sleep(faults.slow_seconds)
    if faults.timeout_next > 0:
        faults.timeout_next -= 1
        await asyncio.sleep(faults.timeout_seconds)
    if faults.fail_next > 0:
        faults.fail_next -= 1
        kind = "service_unavailable" if faults.fail_status == 503 else "internal_error"
        raise SimError(faults.fail_status, kind, "internal_error", "An internal error occurred (injected)")
    if faults.rate_limit_next > 0:
        faults.rate_limit_next -= 1
        raise SimError(429, "rate_limit_error", "rate_limit_exceeded", "Too many requests (injected)",
                       legacy="too_many_requests")


async def _account(request: Request, state: State, _: Annotated[None, Depends(_faults)],
                   xi_api_key: Annotated[str | None, Header(alias="xi-api-key")] = None) -> SimAccount:
    if not xi_api_key:
        raise SimError(401, "authentication_error", "missing_api_key", "Missing API key: send it in the xi-api-key header")
    found = state.account_by_key(xi_api_key)
    if found is None:
        raise SimError(401, "authentication_error", "invalid_api_key", "Invalid API key")
    route = request.scope.get("route")
    found.requests[f"{request.method} {getattr(route, 'path', request.url.path)}"] += 1
    if found.hold is not None:
        await found.hold.wait()
    if found.down_status is not None:
        raise SimError(found.down_status, "service_unavailable", "internal_error", "The service is down (injected)")
    return found


Account = Annotated[SimAccount, Depends(_account)]


def _find_agent(account: SimAccount, agent_id: str) -> SimAgent:
    agent = account.agents.get(agent_id)
    if agent is None:
        raise not_found("agent_not_found", f"Agent {agent_id} not found")
    return agent


def _find_conversation(state: SimulatorState, account: SimAccount, conversation_id: str) -> SimConversation:
    conversation = state.conversation(account, conversation_id)
    if conversation is None:
        raise not_found("conversation_not_found", f"Conversation {conversation_id} not found")
    return conversation


def _page(cursor: str | None, total: int, page_size: int) -> tuple[int, str | None, bool]:
    """Offset cursors (opaque to clients): start index, next cursor, has_more."""
    start = 0
    if cursor:
        if not cursor.isdigit():
            raise SimError(400, "validation_error", "invalid_cursor", "Invalid cursor")
        start = int(cursor)
    more = start + page_size < total
    return start, str(start + page_size) if more else None, more


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`patch` over `base`, recursively for nested objects; other values replace."""
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        merged[key] = deep_merge(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
    return merged


# -- request bodies ----------------------------------------------------------------------


class TwilioOutboundCallBody(BaseModel):
    """Body_Handle_an_outbound_call_via_Twilio_v1_convai_twilio_outbound_call_post."""

    model_config = ConfigDict(extra="allow")
    agent_id: str
    agent_phone_number_id: str
    to_number: str
    conversation_initiation_client_data: dict[str, Any] | None = None
    call_recording_enabled: bool | None = None
    telephony_call_config: dict[str, Any] | None = None


class SipTrunkOutboundCallBody(BaseModel):
    """Body_Handle_an_outbound_call_via_SIP_trunk_v1_convai_sip_trunk_outbound_call_post."""

    model_config = ConfigDict(extra="allow")
    agent_id: str
    agent_phone_number_id: str
    to_number: str
    conversation_initiation_client_data: dict[str, Any] | None = None
    telephony_call_config: dict[str, Any] | None = None


class AnalysisPropertyBody(BaseModel):
    """AnalysisProperty (the fields the simulator checks)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["boolean", "string", "integer", "number"]
    description: str = ""
    enum: list[str] | None = None


class PromptEvaluationCriteriaBody(BaseModel):
    """PromptEvaluationCriteria (the fields the simulator checks)."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    type: Literal["prompt"] = "prompt"
    conversation_goal_prompt: str = Field(max_length=2000)


class EvaluationBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    criteria: list[PromptEvaluationCriteriaBody] | None = None


class PlatformSettingsBody(BaseModel):
    """AgentPlatformSettingsRequestModel (the analysis fields are checked; the rest is kept as sent)."""

    model_config = ConfigDict(extra="allow")
    data_collection: dict[str, AnalysisPropertyBody] | None = None
    evaluation: EvaluationBody | None = None
    summary_language: str | None = None


class AgentPatchBody(BaseModel):
    """Body_Patches_an_Agent_settings_v1_convai_agents__agent_id__patch (the parts the simulator keeps)."""

    model_config = ConfigDict(extra="allow")
    conversation_config: dict[str, Any] | None = None
    platform_settings: PlatformSettingsBody | None = None
    name: str | None = None
    tags: list[str] | None = None


# -- ElevenLabs API ------------------------------------------------------------------------

api = APIRouter(dependencies=[Depends(_faults)])


@api.get("/v1/convai/agents")
async def list_agents(state: State, account: Account, page_size: Annotated[int, Query(ge=1, le=100)] = 30,
                      cursor: str | None = None, search: str | None = None) -> dict[str, Any]:
    agents = sorted(account.agents.values(), key=lambda a: (a.created_at, a.name, a.agent_id))
    if search:
        agents = [a for a in agents if search.lower() in a.name.lower()]
    start, next_cursor, more = _page(cursor, len(agents), page_size)
    last_calls: dict[str, int] = {}
    for c in state.conversations_for(account):
        last_calls[c.agent.agent_id] = max(last_calls.get(c.agent.agent_id, 0), int(c.started_at))
    return {"agents": [wire.agent_summary_json(a, last_calls.get(a.agent_id))
                       for a in agents[start:start + page_size]],
            "next_cursor": next_cursor, "has_more": more}


@api.get("/v1/convai/agents/{agent_id}")
async def get_agent(agent_id: str, account: Account) -> dict[str, Any]:
    return wire.agent_json(_find_agent(account, agent_id), account)


@api.patch("/v1/convai/agents/{agent_id}")
async def patch_agent(state: State, agent_id: str, account: Account, body: AgentPatchBody) -> dict[str, Any]:
    agent = _find_agent(account, agent_id)
    if account.read_only:
        raise SimError(401, "authentication_error", "missing_permissions",
                       "The API key you used is missing the permission convai_write to execute this operation.",
                       legacy="missing_permissions")
    config = deep_merge(agent.conversation_config, body.conversation_config or {})
    tts = config.get("tts")
    voice_id = tts.get("voice_id") if isinstance(tts, dict) else None
    if voice_id is not None and voice_id not in account.voices:
        raise not_found("voice_not_found", f"Voice {voice_id} not found")
    agent.conversation_config = config
    sent = body.platform_settings.model_dump(exclude_unset=True) if body.platform_settings else {}
    settings = deep_merge(agent.platform_settings, sent)
    if "data_collection" in sent:
        settings["data_collection"] = sent["data_collection"] or {}
    if isinstance(sent.get("evaluation"), dict) and "criteria" in sent["evaluation"]:
        settings["evaluation"] = {**settings.get("evaluation", {}), "criteria": sent["evaluation"]["criteria"] or []}
    agent.platform_settings = settings
    if body.name is not None:
        agent.name = body.name
    if body.tags is not None:
        agent.tags = list(body.tags)
    agent.updated_at = int(state.now())
    return wire.agent_json(agent, account)


@api.get("/v1/voices")
async def list_voices(request: Request, account: Account) -> dict[str, Any]:
    # root_path carries the mount path (e.g. /sim) when this app is mounted inside another one.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    base = f"{request.url.scheme}://{request.url.netloc}{root}{request.app.state.simulator_path}"
    return {"voices": [wire.voice_json(v, base + PREVIEW_PATH.format(voice_id=v.voice_id))
                       for v in account.voices.values()]}


@api.get("/v1/convai/phone-numbers")
async def list_phone_numbers(account: Account, provider: str | None = None,
                             agent_id: str | None = None) -> list[dict[str, Any]]:
    return [wire.phone_json(p, account) for p in account.phones.values()
            if (provider is None or p.provider == provider) and (agent_id is None or p.agent_id == agent_id)]


@api.get("/v1/convai/phone-numbers/{phone_number_id}")
async def get_phone_number(phone_number_id: str, account: Account) -> dict[str, Any]:
    phone = account.phones.get(phone_number_id)
    if phone is None:
        raise not_found("phone_number_not_found", f"Phone number {phone_number_id} not found")
    return wire.phone_json(phone, account)


def _workspace_readable(account: SimAccount) -> None:
    if account.workspace_hidden:
        raise SimError(401, "authentication_error", "missing_permissions",
                       "The API key you used is missing the permission workspace_read to execute this operation.",
                       legacy="missing_permissions")


@api.get("/v1/convai/settings")
async def get_convai_settings(account: Account) -> dict[str, Any]:
    _workspace_readable(account)
    return wire.convai_settings_json(account)


@api.get("/v1/workspace/webhooks")
async def list_workspace_webhooks(account: Account, include_usages: bool = False) -> dict[str, Any]:
    _workspace_readable(account)
    return {"webhooks": [wire.workspace_webhook_json(h, account, include_usages)
                         for h in sorted(account.workspace_webhooks.values(), key=lambda h: (h.created_at, h.name))]}


@api.get("/v1/user")
async def get_user(state: State, account: Account) -> dict[str, Any]:
    return wire.user_json(account, state.now())


@api.get("/v1/user/subscription")
async def get_subscription(state: State, account: Account) -> dict[str, Any]:
    return wire.subscription_json(state.now())


def _place(state: SimulatorState, account: SimAccount, provider: str, agent_id: str, phone_number_id: str,
           to_number: str, client_data: dict[str, Any] | None) -> SimConversation:
    """Checks in the order the real service plausibly does: ids, provider, number, carrier, limits."""
    agent = _find_agent(account, agent_id)
    phone = account.phones.get(phone_number_id)
    if phone is None:
        raise not_found("phone_number_not_found", f"Phone number {phone_number_id} not found")
    if phone.provider != provider:
        raise SimError(400, "invalid_request", "invalid_phone_number_provider",
                       f"Phone number {phone_number_id} is a {phone.provider} number, not a {provider} number")
    if not (to_number.startswith("+") and to_number[1:].isdigit() and 8 <= len(to_number) <= 16):
        raise SimError(400, "validation_error", "invalid_phone_number",
                       f"'{to_number}' is not a valid phone number in E.164 format", legacy="invalid_parameters")
    if scenario_for(to_number).kind is Kind.REFUSED:
        carrier = "Twilio" if provider == "twilio" else "The SIP trunk"
        raise SimError(400, "invalid_request", "call_initiation_failed",
                       f"Failed to initiate the call: {carrier} rejected the call to {to_number}")
    if state.live_calls(account) >= account.concurrency_limit:
        raise SimError(429, "rate_limit_error", "concurrent_limit_exceeded",
                       f"Your workspace is at its limit of {account.concurrency_limit} concurrent calls",
                       legacy="too_many_concurrent_requests")
    if agent.concurrency_limit >= 0 and state.live_calls(account, agent.agent_id) >= agent.concurrency_limit:
        raise SimError(429, "rate_limit_error", "concurrent_limit_exceeded",
                       f"Agent {agent.agent_id} is at its limit of {agent.concurrency_limit} concurrent calls",
                       legacy="too_many_concurrent_requests")
    return state.start_call(account, agent, phone, to_number, client_data)


async def _answer_placed(state: SimulatorState, answer: dict[str, Any]) -> Response:
    """The answer to a placed call, unless an after-placing fault spoils it (the call rings regardless)."""
    faults = state.faults
    if faults.fail_after_placing_next > 0:
        faults.fail_after_placing_next -= 1
        kind = "service_unavailable" if faults.fail_status == 503 else "internal_error"
        error = SimError(faults.fail_status, kind, "internal_error", "An internal error occurred (injected)")
        return JSONResponse(error.body, status_code=error.status)
    if faults.drop_after_placing_next > 0:
        faults.drop_after_placing_next -= 1
        return CutAnswer(JSONResponse(answer).body, media_type="application/json")
    if faults.hold_after_placing_next > 0:
        faults.hold_after_placing_next -= 1
        await asyncio.sleep(faults.hold_seconds)
    return JSONResponse(answer)


@api.post("/v1/convai/twilio/outbound-call", response_model=None)
async def twilio_outbound_call(state: State, account: Account, body: TwilioOutboundCallBody) -> Response:
    """TwilioOutboundCallResponse; note `callSid` is camelCase in the real API."""
    c = _place(state, account, "twilio", body.agent_id, body.agent_phone_number_id, body.to_number,
               body.conversation_initiation_client_data)
    return await _answer_placed(state, {"success": True, "message": "Success", "conversation_id": c.conversation_id,
                                        "callSid": c.call_sid})


@api.post("/v1/convai/sip-trunk/outbound-call", response_model=None)
async def sip_trunk_outbound_call(state: State, account: Account, body: SipTrunkOutboundCallBody) -> Response:
    """SIPTrunkOutboundCallResponse."""
    c = _place(state, account, "sip_trunk", body.agent_id, body.agent_phone_number_id, body.to_number,
               body.conversation_initiation_client_data)
    return await _answer_placed(state, {"success": True, "message": "Success", "conversation_id": c.conversation_id,
                                        "sip_call_id": c.call_sid})


@api.get("/v1/convai/conversations")
async def list_conversations(state: State, account: Account, agent_id: str | None = None, cursor: str | None = None,
                             page_size: Annotated[int, Query(ge=1, le=100)] = 30, user_id: str | None = None,
                             call_start_after_unix: int | None = None, call_start_before_unix: int | None = None,
                             sort_direction: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc"
                             ) -> dict[str, Any]:
    """GetConversationsPageResponseModel, newest first unless `sort_direction=asc` (the filters leadcall uses)."""
    now = state.now()
    chosen = [c for c in state.conversations_for(account)
              if (agent_id is None or c.agent.agent_id == agent_id)
              and (user_id is None or (c.client_data or {}).get("user_id") == user_id)
              and (call_start_after_unix is None or int(c.started_at) >= call_start_after_unix)
              and (call_start_before_unix is None or int(c.started_at) <= call_start_before_unix)]
    sign = 1 if sort_direction == "asc" else -1
    items = sorted(chosen, key=lambda c: (sign * c.started_at, c.conversation_id))
    start, next_cursor, more = _page(cursor, len(items), page_size)
    return {"conversations": [wire.conversation_summary_json(c, now) for c in items[start:start + page_size]],
            "next_cursor": next_cursor, "has_more": more}


@api.get("/v1/convai/conversations/{conversation_id}")
async def get_conversation(state: State, conversation_id: str, account: Account) -> dict[str, Any]:
    return state.conversation_json(_find_conversation(state, account, conversation_id))


@api.delete("/v1/convai/conversations/{conversation_id}")
async def delete_conversation(state: State, conversation_id: str, account: Account) -> dict[str, Any]:
    state.delete_conversation(_find_conversation(state, account, conversation_id))
    return {}


@api.get("/v1/convai/conversations/{conversation_id}/audio")
async def get_conversation_audio(state: State, conversation_id: str, account: Account) -> Response:
    audio = state.audio_for(_find_conversation(state, account, conversation_id))
    if audio is None:
        raise not_found("conversation_audio_not_found", f"Conversation {conversation_id} has no audio")
    return Response(audio, media_type="audio/mpeg")


@api.get("/v1/convai/analytics/live-count")
async def live_count(state: State, account: Account, agent_id: str | None = None) -> dict[str, int]:
    return {"count": state.live_calls(account, agent_id)}


# -- public preview files and the Twilio stand-in ---------------------------------------------

public = APIRouter()


@public.get(PREVIEW_PATH)
async def voice_preview(state: State, voice_id: str) -> Response:
    """Voice previews are public files (no key), like ElevenLabs' storage URLs."""
    if not any(voice_id in a.voices for a in state.accounts.values()):
        raise not_found("voice_not_found", f"Voice {voice_id} not found")
    return Response(silent_mp3(1.5), media_type="audio/mpeg")


def _twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                         "status": status}, status_code=status)


@public.post("/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json")
async def twilio_modify_call(state: State, request: Request, account_sid: Annotated[str, Path()],
                             call_sid: Annotated[str, Path()],
                             status: Annotated[str | None, Form(alias="Status")] = None) -> Response:
    """Twilio's "update a call": `Status=completed` hangs up, `Status=canceled` cancels a ringing call.

    HTTP basic auth with the account's Twilio SID and auth token. The conversation then
    finishes as ElevenLabs finishes a call the other side hung up, webhooks included.
    """
    account = state.account_by_twilio_sid(account_sid)
    expected = ""
    if account is not None:
        expected = "Basic " + base64.b64encode(
            f"{account.twilio_account_sid}:{account.twilio_auth_token}".encode()).decode()
    given = request.headers.get("authorization", "")
    if account is None or not secrets.compare_digest(given.encode(), expected.encode()):
        return _twilio_error(401, 20003, "Authenticate")
    conversation = next((c for c in state.conversations_for(account)
                         if c.phone.provider == "twilio" and c.call_sid == call_sid), None)
    if conversation is None:
        return _twilio_error(404, 20404, f"The requested resource /2010-04-01/Accounts/{account_sid}/Calls/"
                                         f"{call_sid}.json was not found")
    if status not in ("completed", "canceled"):
        return _twilio_error(400, 21218, "Invalid Status: use completed or canceled")
    final = state.hang_up(conversation, status)
    now = state.now()
    return JSONResponse({
        "sid": call_sid, "account_sid": account_sid, "parent_call_sid": None, "status": final,
        "to": conversation.to_number, "to_formatted": conversation.to_number, "from": conversation.phone.number,
        "from_formatted": conversation.phone.number, "direction": "outbound-api", "api_version": "2010-04-01",
        "date_created": formatdate(conversation.started_at, usegmt=True), "date_updated": formatdate(now, usegmt=True),
        "start_time": formatdate(conversation.started_at, usegmt=True),
        "end_time": formatdate(now, usegmt=True) if final in ("completed", "canceled") else None,
        "duration": str(conversation.talk_seconds(now)), "price": None, "price_unit": "USD", "answered_by": None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json"})


# -- the app ------------------------------------------------------------------------------


def create_simulator_app(state: SimulatorState, base_url_path: str = "") -> FastAPI:
    """The simulator as an ASGI app, serving under `base_url_path` (e.g. "" or "/v-prefix").

    Run alone, its lifespan runs the background ticker (real clock). Mounted inside
    another app (e.g. `host.mount("/sim", app)`), the host must call `state.start()`
    and `await state.stop()` from its own lifespan, or use `async with state.running()`.
    Links it hands out (voice previews) are built from the incoming request, so they
    carry the mount path and host the client used.
    """
    prefix = "/" + base_url_path.strip("/") if base_url_path.strip("/") else ""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with state.running():
            yield

    app = FastAPI(title="ElevenLabs simulator", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.simulator = state
    app.state.simulator_path = prefix

    @app.exception_handler(SimError)
    async def _sim_error(_: Request, exc: SimError) -> Response:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        """The pydantic-v2 list shape ElevenLabs answers with 422."""
        detail = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg"), "input": e.get("input")}
                  for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    app.include_router(api, prefix=prefix)
    app.include_router(public, prefix=prefix)
    return app

