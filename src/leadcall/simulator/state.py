"""The simulator's state and its engine: accounts, calls in simulated time, webhooks.

Time: every call's timeline is computed from the injected clock. With a
`ManualClock`, time moves only through `advance()` (tests never sleep); with a
`SystemClock`, a background task started by `start()` (or the app's lifespan)
calls `tick()` every 0.2 s. `speed` simulated seconds pass per clock second.

Webhooks: when a call reaches its terminal status, `tick()` sends that call's events
(signed; see `webhooks.py`) in the order the call ended, and awaits their delivery,
so after `await advance(s)` every webhook due by then has been answered.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import secrets
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import httpx

from leadcall.kit.clock import Clock, ManualClock
from leadcall.simulator import webhooks, wire
from leadcall.simulator.audio import silent_mp3
from leadcall.simulator.scenarios import Kind, scenario_for, spanish
from leadcall.simulator.webhooks import Delivery, WebhookEvent
from leadcall.simulator.world import Faults, SimAccount, SimAgent, SimConversation, SimPhone, SimVoice

TICK_SECONDS = 0.2


def _token(prefix: str, length: int, rng: random.Random | None = None) -> str:
    """`prefix` + `length` lowercase alphanumerics (ElevenLabs ids look like `agent_3701k3ttaq12…`)."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    if rng is None:
        return prefix + "".join(secrets.choice(alphabet) for _ in range(length))
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


class SimulatorState:
    """Everything the fake ElevenLabs knows, and the engine that moves calls along.

    `webhook_transport` (optional) is the httpx transport webhooks are sent through,
    e.g. `httpx.ASGITransport(app=receiver)` in tests; by default they go over the network.
    """

    def __init__(self, clock: Clock, speed: float = 1.0,
                 webhook_transport: httpx.AsyncBaseTransport | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.clock = clock
        self.speed = speed
        self.webhook_transport = webhook_transport
        self.accounts: dict[str, SimAccount] = {}
        self.conversations: dict[str, SimConversation] = {}
        self.deleted_conversations: set[str] = set()  # ids deleted through the API (tests read it)
        self.faults = Faults()
        self.deliveries: list[Delivery] = []
        self._runner: asyncio.Task[None] | None = None
        self._tick_lock: asyncio.Lock | None = None

    # -- time ---------------------------------------------------------------------------

    def now(self) -> float:
        """The clock's unix seconds."""
        return self.clock.now()

    async def advance(self, seconds: float) -> None:
        """Moves a ManualClock `seconds` forward, then processes what is due (awaiting webhooks)."""
        if isinstance(self.clock, ManualClock):
            self.clock.advance(seconds)
        await self.tick()

    async def tick(self) -> None:
        """Processes what is due now: finished calls send their webhooks, in the order they ended."""
        if self._tick_lock is None:
            self._tick_lock = asyncio.Lock()
        async with self._tick_lock:
            now = self.now()
            due = sorted((c for c in self.conversations.values() if not c.finalized and c.is_over(now)),
                         key=lambda c: (c.at_offset(c.end_offset), c.conversation_id))
            for conversation in due:
                conversation.finalized = True
            for conversation in due:
                events = webhooks.arrange(self._events_for(conversation, now),
                                          duplicate=self.faults.duplicate_webhooks
                                          or conversation.scenario.duplicate_out_of_order,
                                          reverse=self.faults.reverse_webhooks
                                          or conversation.scenario.duplicate_out_of_order,
                                          drop=self.faults.drop_webhooks)
                sent = await webhooks.deliver(events, timestamp=int(self.now()), transport=self.webhook_transport)
                self._note_failures(self.accounts[conversation.account_id], sent)
                self.deliveries += sent

    def start(self) -> None:
        """Runs `tick()` every 0.2 s in the background (no-op with a ManualClock or when running).

        A FastAPI app that mounts the simulator calls this from its own lifespan,
        because a mounted sub-app's lifespan does not run.
        """
        if isinstance(self.clock, ManualClock) or self._runner is not None:
            return

        async def run() -> None:
            while True:
                with contextlib.suppress(Exception):
                    await self.tick()
                await asyncio.sleep(TICK_SECONDS)

        self._runner = asyncio.get_running_loop().create_task(run(), name="simulator-ticker")

    async def stop(self) -> None:
        """Stops the background ticker started by `start()`."""
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SimulatorState]:
        """`async with state.running():` = `start()` … `await stop()`."""
        self.start()
        try:
            yield self
        finally:
            await self.stop()

    # -- accounts -----------------------------------------------------------------------

    def add_account(self, *, name: str, api_key: str, webhook_secret: str, webhook_url: str | None = None,
                    concurrency_limit: int = 4, twilio_account_sid: str | None = None,
                    twilio_auth_token: str | None = None) -> SimAccount:
        """A new, empty workspace. Twilio credentials are random unless given."""
        if self.account_by_key(api_key) is not None:
            raise ValueError("an account with this API key exists already")
        account = SimAccount(account_id=_token("acct_", 16), name=name, api_key=api_key,
                             webhook_secret=webhook_secret, concurrency_limit=concurrency_limit,
                             twilio_account_sid=twilio_account_sid or "AC" + secrets.token_hex(16),
                             twilio_auth_token=twilio_auth_token or secrets.token_hex(16))
        account.webhook_url = webhook_url
        self.accounts[account.account_id] = account
        return account

    def account_by_key(self, api_key: str) -> SimAccount | None:
        return next((a for a in self.accounts.values() if secrets.compare_digest(a.api_key, api_key)), None)

    def account_by_twilio_sid(self, account_sid: str) -> SimAccount | None:
        return next((a for a in self.accounts.values() if a.twilio_account_sid == account_sid), None)

    def seed_account(self, account: SimAccount, language: str = "en") -> None:
        """Four voices, three agents and two numbers (Twilio → first agent, SIP trunk → second).

        Ids derive from the API key, so the same account seeded again (e.g. after a
        restart of the demo) gets the same ids.
        """
        rng = random.Random(account.api_key)
        created = int(self.now())
        es = spanish(language)
        for name, gender, accent, use in (("Lucía", "female", "castilian", "conversational"),
                                          ("Mateo", "male", "castilian", "sales"),
                                          ("Rachel", "female", "american", "conversational"),
                                          ("Adam", "male", "american", "narration")):
            voice = SimVoice(_token("", 20, rng), name,
                             {"gender": gender, "accent": accent, "age": "middle_aged", "use_case": use},
                             description=f"{name}: {accent} {gender} voice for {use}", created_at=created)
            account.voices[voice.voice_id] = voice
        voices = list(account.voices.values())[-4:]
        cast = ((("Sofía — Prospección", "prospecting", 0), ("Carlos — Cualificación", "qualification", 1),
                 ("Elena — Seguimiento", "follow_up", 0)) if es else
                (("Ava — Prospecting", "prospecting", 2), ("Ben — Qualification", "qualification", 3),
                 ("Chloe — Follow-up", "follow_up", 2)))
        agents: list[SimAgent] = []
        for name, purpose, voice_index in cast:
            agent = SimAgent(agent_id=_token("agent_", 28, rng), name=name, tags=[purpose],
                             conversation_config=_agent_config(name, purpose, "es" if es else "en",
                                                               voices[voice_index].voice_id),
                             platform_settings=_platform_settings(), created_at=created, updated_at=created)
            account.agents[agent.agent_id] = agent
            agents.append(agent)
        numbers = ("+34910000000", "+34910000001") if es else ("+12025559000", "+12025559001")
        for number, label, provider, agent in ((numbers[0], "Main line", "twilio", agents[0]),
                                               (numbers[1], "SIP trunk", "sip_trunk", agents[1])):
            phone = SimPhone(_token("phnum_", 24, rng), number, label, provider, agent.agent_id)
            account.phones[phone.phone_number_id] = phone

    # -- calls ----------------------------------------------------------------------------

    def live_calls(self, account: SimAccount, agent_id: str | None = None) -> int:
        """Calls ringing or talking (what the concurrency limits count)."""
        now = self.now()
        return sum(1 for c in self.conversations.values()
                   if c.account_id == account.account_id and c.is_live(now)
                   and (agent_id is None or c.agent.agent_id == agent_id))

    def conversations_for(self, account: SimAccount) -> list[SimConversation]:
        return [c for c in self.conversations.values() if c.account_id == account.account_id]

    def conversation(self, account: SimAccount, conversation_id: str) -> SimConversation | None:
        found = self.conversations.get(conversation_id)
        return found if found is not None and found.account_id == account.account_id else None

    def start_call(self, account: SimAccount, agent: SimAgent, phone: SimPhone, to_number: str,
                   client_data: dict[str, Any] | None) -> SimConversation:
        """Creates the conversation (status `initiated`); the caller has checked limits and refusals."""
        conversation = SimConversation(
            conversation_id=_token("conv_", 28), account_id=account.account_id, agent=agent, phone=phone,
            to_number=to_number, scenario=scenario_for(to_number), client_data=client_data, started_at=self.now(),
            speed=self.speed, call_sid="CA" + secrets.token_hex(16) if phone.provider == "twilio"
            else secrets.token_hex(16))
        self.conversations[conversation.conversation_id] = conversation
        return conversation

    def delete_conversation(self, conversation: SimConversation) -> None:
        """Forgets the conversation: transcript, recording and all (it sends no webhook after this)."""
        self.conversations.pop(conversation.conversation_id, None)
        self.deleted_conversations.add(conversation.conversation_id)

    def hang_up(self, conversation: SimConversation, twilio_status: str) -> str:
        """Ends a call from the telephony side, as Twilio's "modify call" does; returns its Twilio status.

        `completed` hangs up a ringing or talking call; `canceled` only a ringing one
        (Twilio ignores it for a call in progress). A call hung up while ringing
        fails (canceled); one hung up while talking goes through processing to done.
        """
        now = self.now()
        status = conversation.status(now)
        if status == "initiated":
            conversation.hung_up_offset = conversation.elapsed(now)
            return "canceled"
        if status == "in-progress" and twilio_status == "completed":
            conversation.hung_up_offset = conversation.elapsed(now)
            return "completed"
        if status == "in-progress":
            return "in-progress"
        if conversation.canceled:
            return "canceled"
        return "completed" if conversation.connects else ("busy" if conversation.scenario.kind is Kind.BUSY
                                                          else "no-answer")

    def conversation_json(self, conversation: SimConversation) -> dict[str, Any]:
        """GET /v1/convai/conversations/{id} as of now."""
        return wire.conversation_json(conversation, self.now())

    def audio_for(self, conversation: SimConversation) -> bytes | None:
        """The call's recording once it is over (None when nobody talked)."""
        now = self.now()
        if not wire.has_audio(conversation, now):
            return None
        return silent_mp3(min(conversation.talk_seconds(now), 30) / 10)

    # -- webhooks ---------------------------------------------------------------------------

    def _events_for(self, c: SimConversation, now: float) -> list[WebhookEvent]:
        """The post-call events of a call that just ended, in the order ElevenLabs sends them."""
        account = self.accounts[c.account_id]
        url = account.webhook_url
        if not url or not c.scenario.send_webhooks:
            return []

        def event(kind: str, data: dict[str, Any]) -> WebhookEvent:
            return WebhookEvent(url, account.webhook_secret, kind, c.conversation_id, data)

        wanted = set(account.post_call_events)
        if not c.connects:
            return ([event(webhooks.CALL_INITIATION_FAILURE, self._failure_data(account, c, now))]
                    if "call_initiation_failure" in wanted else [])
        if c.status(now) != "done":
            return []
        events = ([event(webhooks.POST_CALL_TRANSCRIPTION, wire.conversation_json(c, now))]
                  if "transcript" in wanted else [])
        audio = self.audio_for(c) if "audio" in wanted else None
        if audio is not None:
            events.append(event(webhooks.POST_CALL_AUDIO, {"agent_id": c.agent.agent_id,
                                                           "conversation_id": c.conversation_id,
                                                           "full_audio": base64.b64encode(audio).decode()}))
        return events

    def _note_failures(self, account: SimAccount, sent: list[Delivery]) -> None:
        """A delivery not answered 200 is the post-call webhook's most recent failure, as the API reports it."""
        hook = account.post_call_webhook
        for delivery in sent:
            if hook is not None and delivery.url == hook.url and not delivery.ok:
                hook.last_failure_code, hook.last_failure_at = delivery.status_code, delivery.event_timestamp or int(
                    self.now())

    def _failure_data(self, account: SimAccount, c: SimConversation, now: float) -> dict[str, Any]:
        """`call_initiation_failure` data; metadata is Twilio's StatusCallback form or the SIP outcome."""
        reason = "unknown" if c.canceled else "busy" if c.scenario.kind is Kind.BUSY else "no-answer"
        metadata: dict[str, Any]
        if c.phone.provider == "twilio":
            call_status = {"unknown": "canceled", "busy": "busy", "no-answer": "no-answer"}[reason]
            metadata = {"type": "twilio", "body": {
                "Called": c.to_number, "ToState": "", "CallerCountry": "US", "Direction": "outbound-api",
                "Timestamp": formatdate(now, usegmt=True), "CallbackSource": "call-progress-events",
                "SipResponseCode": {"unknown": "487", "busy": "486", "no-answer": "487"}[reason],
                "CallerState": "", "ToZip": "", "SequenceNumber": "2", "To": c.to_number, "CallSid": c.call_sid,
                "ToCountry": "US", "CallerZip": "", "CalledZip": "", "ApiVersion": "2010-04-01",
                "CallStatus": call_status, "From": c.phone.number, "Duration": "0",
                "AccountSid": account.twilio_account_sid, "CallDuration": "0", "Caller": c.phone.number}}
        else:
            code = {"unknown": 487, "busy": 486, "no-answer": 480}[reason]
            metadata = {"type": "sip", "body": {
                "from_number": c.phone.number, "to_number": c.to_number, "sip_status_code": code,
                "error_reason": {"unknown": "Request Terminated", "busy": "Busy Here",
                                 "no-answer": "Temporarily Unavailable"}[reason],
                "call_sid": c.call_sid, "sip_status": str(code)}}
        return {"agent_id": c.agent.agent_id, "conversation_id": c.conversation_id, "failure_reason": reason,
                "metadata": metadata}


def _agent_config(name: str, purpose: str, language: str, voice_id: str) -> dict[str, Any]:
    """ConversationalConfigAPIModel-Output for a seeded sales agent."""
    persona = name.split(" ")[0]
    if language == "es":
        first = f"Hola {{{{lead_first_name}}}}, soy {persona}. ¿Tiene un minuto?"
        prompt = (f"Eres {persona}, agente comercial ({purpose.replace('_', ' ')}). Habla con {{{{lead_name}}}} "
                  "de forma breve y amable, averigua su interés y, si lo pide, acuerda cuándo volver a llamar.")
    else:
        first = f"Hi {{{{lead_first_name}}}}, this is {persona}. Do you have a minute?"
        prompt = (f"You are {persona}, a {purpose.replace('_', ' ')} sales agent. Talk to {{{{lead_name}}}} briefly "
                  "and politely, find out their interest and, if asked, agree when to call back.")
    return {
        "agent": {"first_message": first, "language": language, "disable_first_message_interruptions": False,
                  "max_conversation_duration_message": "",
                  "dynamic_variables": {"dynamic_variable_placeholders": {"lead_name": "", "lead_first_name": ""}},
                  "prompt": {"prompt": prompt, "llm": "gemini-2.5-flash", "temperature": 0.3, "max_tokens": -1,
                             "tool_ids": [], "built_in_tools": {}, "knowledge_base": [], "ignore_default_personality":
                             False}},
        "tts": {"model_id": "eleven_flash_v2_5" if language != "en" else "eleven_flash_v2", "voice_id": voice_id,
                "agent_output_audio_format": "ulaw_8000", "optimize_streaming_latency": 3, "stability": 0.5,
                "speed": 1.0, "similarity_boost": 0.8},
        "conversation": {"text_only": False, "max_duration_seconds": 600, "client_events": ["audio"],
                         "monitoring_enabled": False},
    }


def _platform_settings() -> dict[str, Any]:
    """AgentPlatformSettingsResponseModel: call limits and the data collection the analysis fills."""
    return {
        "call_limits": {"agent_concurrency_limit": -1, "daily_limit": 100_000, "bursting_enabled": True},
        "data_collection": {
            "sales_outcome": {"type": "string", "description": "interested, not_interested or callback_requested"},
            "callback_time": {"type": "string", "description": "When the lead asked to be called back (ISO 8601)"}},
        "overrides": {"conversation_config_override": {"agent": {"first_message": True, "language": True,
                                                                 "prompt": {"prompt": False}}}},
        "archived": False,
    }
