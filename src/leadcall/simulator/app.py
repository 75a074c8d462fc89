"""The simulator's HTTP surface: the ElevenLabs agents API subset leadcall uses, with the
real paths, `xi-api-key` auth, request and response shapes and error envelopes, plus
a Twilio-like hang-up endpoint and public voice previews."""


import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from leadcall.simulator.audio import silent_mp3
from leadcall.simulator.scenarios import Kind, kind_for
from leadcall.simulator.state import SimAccount, SimAgent, SimPhone, SimulatorState


class SimError(Exception):
    def __init__(self, status: int, type_: str, code: str, message: str, *, legacy: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"detail": {"type": type_, "code": code, "status": legacy or code, "message": message,
                                "request_id": uuid.uuid4().hex}}


def _not_found(code: str, what: str) -> SimError:
    return SimError(404, "not_found", code, f"{what} not found")


def create_simulator_app(state: SimulatorState) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(title="ElevenLabs simulator", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.simulator = state

    @app.exception_handler(SimError)
    async def _sim_error(_: Request, exc: SimError) -> Response:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        detail = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg"), "input": e.get("input")}
                  for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def faults() -> None:
        f = state.faults
        if f.slow_seconds:
            await asyncio.sleep(f.slow_seconds)
        if f.timeout_next > 0:
            f.timeout_next -= 1
            await asyncio.sleep(f.timeout_seconds)
        if f.fail_next > 0:
            f.fail_next -= 1
            raise SimError(f.fail_status, "internal_error" if f.fail_status == 500 else "service_unavailable",
                           "internal_error", "Injected server error")
        if f.rate_limit_next > 0:
            f.rate_limit_next -= 1
            raise SimError(429, "rate_limit_error", "rate_limit_exceeded", "Too many requests",
                           legacy="too_many_requests")

    async def account(xi_api_key: Annotated[str | None, Header(alias="xi-api-key")] = None,
                      _: None = Depends(faults)) -> SimAccount:
        if not xi_api_key:
            raise SimError(401, "authentication_error", "missing_api_key", "Missing API key")
        found = state.account_by_key(xi_api_key)
        if found is None:
            raise SimError(401, "authentication_error", "invalid_api_key", "Invalid API key")
        return found

    Account = Annotated[SimAccount, Depends(account)]

    def base(request: Request) -> str:
        # Include the mount prefix (root_path), so links work when mounted at /sim.
        return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")

    def phone_json(p: SimPhone, acct: SimAccount) -> dict[str, Any]:
        agent = acct.agents.get(p.agent_id) if p.agent_id else None
        out: dict[str, Any] = {
            "phone_number": p.number, "label": p.label, "phone_number_id": p.phone_number_id, "provider": p.provider,
            "supports_inbound": True, "supports_outbound": True,
            "assigned_agent": {"agent_id": agent.agent_id, "agent_name": agent.name} if agent else None}
        if p.provider == "sip_trunk":
            out |= {"livekit_stack": "standard", "provider_config": None, "store_sip_messages": False,
                    "outbound_trunk": {"address": "sip.example.invalid", "transport": "tcp", "media_encryption": "allowed",
                                       "headers": {}, "has_auth_credentials": False, "username": None,
                                       "has_outbound_trunk": True},
                    "inbound_trunk": None}
        return out

    def agent_json(a: SimAgent, acct: SimAccount) -> dict[str, Any]:
        return {
            "agent_id": a.agent_id, "name": a.name, "tags": list(a.tags),
            "conversation_config": {
                "agent": {"first_message": a.first_message, "language": a.language,
                          "prompt": {"prompt": a.prompt, "llm": a.llm, "temperature": 0.5, "tool_ids": []},
                          "dynamic_variables": {"dynamic_variable_placeholders": {}}},
                "tts": {"voice_id": a.voice_id, "model_id": "eleven_flash_v2_5"},
                "conversation": {"max_duration_seconds": 600, "text_only": False},
            },
            "metadata": {"created_at_unix_secs": a.created_at, "updated_at_unix_secs": a.created_at},
            "platform_settings": {"call_limits": {"agent_concurrency_limit": a.concurrency_limit,
                                                  "daily_limit": 100000, "bursting_enabled": True}},
            "phone_numbers": [phone_json(p, acct) for p in acct.phones.values() if p.agent_id == a.agent_id],
            "access_info": {"is_creator": True, "creator_name": "leadcall", "creator_email": "sim@leadcall.invalid",
                            "role": "admin"},
            "version_id": None, "branch_id": None, "main_branch_id": None, "workflow": None,
        }

    def find_agent(acct: SimAccount, agent_id: str) -> SimAgent:
        agent = acct.agents.get(agent_id)
        if agent is None:
            raise _not_found("agent_not_found", f"Agent {agent_id}")
        return agent

    def find_conversation(acct: SimAccount, conversation_id: str) -> Any:
        c = state.conversations.get(conversation_id)
        if c is None or c.account_id != acct.account_id:
            raise _not_found("conversation_not_found", f"Conversation {conversation_id}")
        return c

    # -- agents ---------------------------------------------------------------------------

    @app.get("/v1/convai/agents")
    async def list_agents(acct: Account, page_size: int = Query(30, ge=1, le=100), cursor: str | None = None,
                          search: str | None = None) -> dict[str, Any]:
        agents = sorted(acct.agents.values(), key=lambda a: (a.created_at, a.agent_id))
        if search:
            agents = [a for a in agents if search.lower() in a.name.lower()]
        start = int(cursor) if cursor and cursor.isdigit() else 0
        page = agents[start:start + page_size]
        more = start + page_size < len(agents)
        return {"agents": [{"agent_id": a.agent_id, "name": a.name, "tags": a.tags,
                            "created_at_unix_secs": a.created_at, "archived": False,
                            "access_info": {"is_creator": True, "creator_name": "leadcall",
                                            "creator_email": "sim@leadcall.invalid", "role": "admin"},
                            "last_call_time_unix_secs": None} for a in page],
                "next_cursor": str(start + page_size) if more else None, "has_more": more}

    @app.get("/v1/convai/agents/{agent_id}")
    async def get_agent(agent_id: str, acct: Account) -> dict[str, Any]:
        return agent_json(find_agent(acct, agent_id), acct)

    @app.patch("/v1/convai/agents/{agent_id}")
    async def patch_agent(agent_id: str, request: Request, acct: Account) -> dict[str, Any]:
        agent = find_agent(acct, agent_id)
        body = await request.json()
        if not isinstance(body, dict):
            raise SimError(400, "validation_error", "invalid_parameters", "Body must be an object")
        config = body.get("conversation_config") or {}
        agent_cfg = config.get("agent") or {}
        if isinstance(body.get("name"), str):
            agent.name = body["name"]
        if isinstance(body.get("tags"), list):
            agent.tags = [str(t) for t in body["tags"]]
        if "first_message" in agent_cfg:
            agent.first_message = str(agent_cfg["first_message"])
        if "language" in agent_cfg:
            agent.language = str(agent_cfg["language"])
        if isinstance(agent_cfg.get("prompt"), dict) and "prompt" in agent_cfg["prompt"]:
            agent.prompt = str(agent_cfg["prompt"]["prompt"])
        voice_id = (config.get("tts") or {}).get("voice_id")
        if voice_id:
            if voice_id not in acct.voices:
                raise _not_found("voice_not_found", f"Voice {voice_id}")
            agent.voice_id = str(voice_id)
        limits = ((body.get("platform_settings") or {}).get("call_limits") or {})
        if "agent_concurrency_limit" in limits:
            agent.concurrency_limit = int(limits["agent_concurrency_limit"])
        return agent_json(agent, acct)

    # -- voices, phone numbers, user ------------------------------------------------------

    @app.get("/v1/voices")
    async def voices(request: Request, acct: Account) -> dict[str, Any]:
        root = base(request)
        return {"voices": [{
            "voice_id": v.voice_id, "name": v.name, "category": v.category, "labels": v.labels,
            "description": v.description or f"{v.name}, {v.labels.get('accent', '')} {v.labels.get('gender', '')}",
            "preview_url": f"{root}/sim-assets/voices/{v.voice_id}/preview.mp3", "available_for_tiers": [],
            "high_quality_base_model_ids": ["eleven_flash_v2_5"], "samples": None, "settings": None,
            "is_owner": False, "is_legacy": False} for v in acct.voices.values()]}

    @app.get("/sim-assets/voices/{voice_id}/preview.mp3")
    async def preview(voice_id: str) -> Response:
        if not any(voice_id in a.voices for a in state.accounts.values()):
            raise _not_found("voice_not_found", f"Voice {voice_id}")
        return Response(silent_mp3(1.5), media_type="audio/mpeg")

    @app.get("/v1/convai/phone-numbers")
    async def phone_numbers(acct: Account, provider: str | None = None,
                            agent_id: str | None = None) -> list[dict[str, Any]]:
        return [phone_json(p, acct) for p in acct.phones.values()
                if (provider is None or p.provider == provider) and (agent_id is None or p.agent_id == agent_id)]

    @app.get("/v1/convai/phone-numbers/{phone_number_id}")
    async def phone_number(phone_number_id: str, acct: Account) -> dict[str, Any]:
        p = acct.phones.get(phone_number_id)
        if p is None:
            raise _not_found("phone_number_not_found", f"Phone number {phone_number_id}")
        return phone_json(p, acct)

    def subscription() -> dict[str, Any]:
        return {"tier": "pro", "character_count": 12000, "character_limit": 500000,
                "max_character_limit_extension": 0, "max_credit_limit_extension": 0,
                "can_extend_character_limit": True, "allowed_to_extend_character_limit": True,
                "voice_slots_used": 4, "professional_voice_slots_used": 0,
                "professional_voice_slots_used_in_workspace": 0, "voice_limit": 160, "voice_add_edit_counter": 0,
                "professional_voice_limit": 1, "can_extend_voice_limit": False, "can_use_instant_voice_cloning": True,
                "can_use_professional_voice_cloning": True, "current_overage": {"amount": "0.00", "currency": "usd"},
                "status": "active",
                "next_character_count_reset_unix": int(state.clock.now()) + 86400 * 20, "currency": "usd",
                "billing_period": "monthly_period", "open_invoices": [], "has_open_invoices": False}

    @app.get("/v1/user")
    async def user(acct: Account) -> dict[str, Any]:
        return {"user_id": acct.account_id, "subscription": subscription(), "is_new_user": False,
                "can_use_delayed_payment_methods": False, "is_onboarding_completed": True,
                "is_onboarding_checklist_completed": True, "created_at": 1_700_000_000, "seat_type": "workspace_admin",
                "first_name": acct.name, "xi_api_key_preview": "…" + acct.api_key[-4:]}

    @app.get("/v1/user/subscription")
    async def user_subscription(acct: Account) -> dict[str, Any]:
        return subscription()

    # -- calls --------------------------------------------------------------------------

    async def outbound(request: Request, acct: SimAccount, provider: str) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise SimError(400, "validation_error", "invalid_parameters", "Body is not JSON") from None
        missing = [k for k in ("agent_id", "agent_phone_number_id", "to_number") if not body.get(k)]
        if missing:
            raise RequestValidationError([{"type": "missing", "loc": ("body", k), "msg": "Field required",
                                           "input": body} for k in missing])
        agent = find_agent(acct, str(body["agent_id"]))
        phone = acct.phones.get(str(body["agent_phone_number_id"]))
        if phone is None:
            raise _not_found("phone_number_not_found", f"Phone number {body['agent_phone_number_id']}")
        if phone.provider != provider:
            raise SimError(400, "invalid_request", "invalid_phone_number_provider",
                           f"Phone number {phone.phone_number_id} is a {phone.provider} number")
        to_number = str(body["to_number"])
        if not to_number.startswith("+") or not to_number[1:].isdigit():
            raise SimError(400, "validation_error", "invalid_phone_number", f"'{to_number}' is not an E.164 number")
        if kind_for(to_number) is Kind.REFUSED:
            # Chosen shape for a number the carrier will not dial (the real body is unconfirmed).
            raise SimError(400, "invalid_request", "call_initiation_failed",
                           "Twilio could not place the call: the destination number is not reachable")
        if state.live_calls(acct) >= acct.concurrency_limit:
            raise SimError(429, "rate_limit_error", "concurrent_limit_exceeded",
                           "Too many concurrent calls for this workspace", legacy="too_many_concurrent_requests")
        if agent.concurrency_limit >= 0 and state.live_calls(acct, agent.agent_id) >= agent.concurrency_limit:
            raise SimError(429, "rate_limit_error", "concurrent_limit_exceeded",
                           "Too many concurrent calls for this agent", legacy="too_many_concurrent_requests")
        client_data = body.get("conversation_initiation_client_data")
        conversation = state.start_call(acct, agent, phone, to_number,
                                        client_data if isinstance(client_data, dict) else None)
        result: dict[str, Any] = {"success": True, "message": "Call initiated",
                                  "conversation_id": conversation.conversation_id}
        if provider == "twilio":
            result["callSid"] = conversation.call_sid
        else:
            result["sip_call_id"] = conversation.call_sid
        return result

    @app.post("/v1/convai/twilio/outbound-call")
    async def twilio_outbound(request: Request, acct: Account) -> dict[str, Any]:
        return await outbound(request, acct, "twilio")

    @app.post("/v1/convai/sip-trunk/outbound-call")
    async def sip_outbound(request: Request, acct: Account) -> dict[str, Any]:
        return await outbound(request, acct, "sip_trunk")

    @app.get("/v1/convai/conversations/{conversation_id}")
    async def get_conversation(conversation_id: str, acct: Account) -> dict[str, Any]:
        return state.conversation_json(find_conversation(acct, conversation_id))

    @app.get("/v1/convai/conversations/{conversation_id}/audio")
    async def conversation_audio(conversation_id: str, acct: Account) -> Response:
        audio = state.audio_for(find_conversation(acct, conversation_id))
        if audio is None:
            raise _not_found("conversation_audio_not_found", f"Audio of conversation {conversation_id}")
        return Response(audio, media_type="audio/mpeg")

    @app.get("/v1/convai/conversations")
    async def list_conversations(acct: Account, agent_id: str | None = None, cursor: str | None = None,
                                 page_size: int = Query(30, ge=1, le=100)) -> dict[str, Any]:
        now = state.now()
        items = sorted((c for c in state.conversations_for(acct) if agent_id is None or c.agent.agent_id == agent_id),
                       key=lambda c: -c.started_at)
        start = int(cursor) if cursor and cursor.isdigit() else 0
        page = items[start:start + page_size]
        more = start + page_size < len(items)
        out = []
        for c in page:
            full = state.conversation_json(c, now)
            analysis = full["analysis"] or {}
            out.append({"agent_id": c.agent.agent_id, "agent_name": c.agent.name,
                        "conversation_id": c.conversation_id, "start_time_unix_secs": int(c.started_at),
                        "call_duration_secs": full["metadata"]["call_duration_secs"],
                        "message_count": len(full["transcript"]), "status": full["status"],
                        "call_successful": analysis.get("call_successful", "unknown"),
                        "termination_reason": full["metadata"]["termination_reason"],
                        "transcript_summary": analysis.get("transcript_summary"), "direction": "outbound"})
        return {"conversations": out, "next_cursor": str(start + page_size) if more else None, "has_more": more}

    @app.get("/v1/convai/analytics/live-count")
    async def live_count(acct: Account, agent_id: str | None = None) -> dict[str, int]:
        return {"count": state.live_calls(acct, agent_id)}

    # -- Twilio: hang up a call through the telephony side --------------------------------

    @app.post("/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json")
    async def twilio_update_call(account_sid: str, call_sid: str, request: Request,
                                 status: Annotated[str, Form(alias="Status")]) -> Response:
        auth = request.headers.get("authorization", "")
        expected = None
        for acct in state.accounts.values():
            if acct.twilio_account_sid == account_sid:
                token = base64.b64encode(f"{acct.twilio_account_sid}:{acct.twilio_auth_token}".encode()).decode()
                expected = (acct, f"Basic {token}")
        if expected is None or auth != expected[1]:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        acct = expected[0]
        conversation = next((c for c in state.conversations_for(acct) if c.call_sid == call_sid), None)
        if conversation is None:
            return JSONResponse({"code": 20404, "message": f"The requested resource {call_sid} was not found",
                                 "status": 404}, status_code=404)
        if status not in ("completed", "canceled"):
            return JSONResponse({"code": 21218, "message": "Invalid Status", "status": 400}, status_code=400)
        final = state.hang_up(conversation)
        return JSONResponse({"sid": call_sid, "account_sid": account_sid, "status": final,
                             "to": conversation.to_number, "from": conversation.phone.number,
                             "direction": "outbound-api"})

    return app
