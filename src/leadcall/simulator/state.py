"""The simulator's world: accounts, agents, voices, phone numbers, conversations and faults.

Calls run in simulated time. With a `ManualClock` time moves only through
`advance()` (tests); with a `SystemClock`, `speed` simulated seconds pass per real
second and a background task calls `tick()`. Webhook timestamps and signatures use
the real clock (the receiver checks them against its own clock).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from leadcall.kit.clock import Clock, ManualClock
from leadcall.simulator.audio import silent_mp3
from leadcall.simulator.scenarios import SUMMARIES, Kind, Scenario, scenario_for

CREDITS_PER_MINUTE = 400
USD_PER_MINUTE = 0.10


@dataclass
class Faults:
    """Switches tests flip to make the simulator misbehave."""

    fail_next: int = 0
    fail_status: int = 503
    timeout_next: int = 0
    timeout_seconds: float = 0.5
    rate_limit_next: int = 0
    slow_seconds: float = 0.0
    duplicate_webhooks: bool = False
    reverse_webhooks: bool = False
    drop_webhooks: bool = False


@dataclass
class SimAgent:
    agent_id: str
    name: str
    language: str
    first_message: str
    prompt: str
    voice_id: str
    tags: list[str]
    created_at: int
    concurrency_limit: int = -1
    llm: str = "gemini-2.5-flash"


@dataclass
class SimVoice:
    voice_id: str
    name: str
    labels: dict[str, str]
    category: str = "premade"
    description: str = ""


@dataclass
class SimPhone:
    phone_number_id: str
    number: str
    label: str
    provider: str  # twilio | sip_trunk
    agent_id: str | None


@dataclass
class SimConversation:
    conversation_id: str
    account_id: str
    agent: SimAgent
    phone: SimPhone
    to_number: str
    scenario: Scenario
    dynamic_variables: dict[str, Any]
    client_data: dict[str, Any] | None
    started_at: float  # simulated seconds
    call_sid: str
    ended_early_at: float | None = None  # hung up through the telephony side
    canceled_while_ringing: bool = False
    finalized: bool = False

    def phase_ends(self) -> tuple[float, float, float]:
        s = self.scenario
        ring_end = self.started_at + s.ring_seconds
        talk_end = ring_end + s.talk_seconds
        if self.ended_early_at is not None:
            talk_end = min(talk_end, max(self.ended_early_at, ring_end))
        return ring_end, talk_end, talk_end + s.processing_seconds

    @property
    def never_connects(self) -> bool:
        return self.scenario.kind in (Kind.NO_ANSWER, Kind.BUSY) or self.canceled_while_ringing

    def status(self, now: float) -> str:
        ring_end, talk_end, done_at = self.phase_ends()
        if now < ring_end and not self.canceled_while_ringing:
            return "initiated"
        if self.never_connects:
            return "failed"
        if now < talk_end:
            return "in-progress"
        if now < done_at:
            return "processing"
        return "failed" if self.scenario.kind is Kind.DROPPED else "done"

    def is_live(self, now: float) -> bool:
        return self.status(now) in ("initiated", "in-progress")

    def end_time(self) -> float:
        ring_end, talk_end, done_at = self.phase_ends()
        if self.never_connects:
            return ring_end if self.ended_early_at is None else min(ring_end, self.ended_early_at)
        return done_at

    def talk_seconds(self, now: float) -> int:
        ring_end, talk_end, _ = self.phase_ends()
        if self.never_connects or now < ring_end:
            return 0
        return int(min(now, talk_end) - ring_end)

    def transcript(self, now: float) -> list[dict[str, Any]]:
        spoken = self.talk_seconds(now)
        turns = self.scenario.turns
        if not turns:
            return []
        total = max(self.scenario.talk_seconds, 1)
        step = max(total // len(turns), 1)
        name = str(self.dynamic_variables.get("lead_name") or self.dynamic_variables.get("lead_first_name") or "")
        company = str(self.dynamic_variables.get("lead_company") or "your company")
        out = []
        for index, (role, text) in enumerate(turns):
            at = index * step
            if at > spoken and self.status(now) in ("initiated", "in-progress"):
                break
            if self.ended_early_at is not None and at > spoken:
                break
            out.append({"role": role, "message": text.format(name=name or "there", company=company),
                        "time_in_call_secs": at, "tool_calls": [], "tool_results": [], "feedback": None,
                        "interrupted": False})
        return out


@dataclass
class SimAccount:
    account_id: str
    name: str
    api_key: str
    webhook_secret: str
    webhook_url: str | None
    concurrency_limit: int
    twilio_account_sid: str
    twilio_auth_token: str
    agents: dict[str, SimAgent] = field(default_factory=dict)
    voices: dict[str, SimVoice] = field(default_factory=dict)
    phones: dict[str, SimPhone] = field(default_factory=dict)


@dataclass
class Delivery:
    url: str
    type: str
    status_code: int | None
    error: str | None = None


def _id(prefix: str, length: int = 26, rng: random.Random | None = None) -> str:
    raw = f"{rng.getrandbits(8 * (length // 2 + 1)):x}" if rng is not None else secrets.token_hex(length // 2 + 1)
    return prefix + raw.rjust(length, "0")[:length]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v0={digest}"


class SimulatorState:
    def __init__(self, clock: Clock, speed: float = 1.0,
                 webhook_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.clock = clock
        self.speed = speed if not isinstance(clock, ManualClock) else 1.0
        self._origin = clock.now()
        self.accounts: dict[str, SimAccount] = {}
        self.conversations: dict[str, SimConversation] = {}
        self.faults = Faults()
        self.deliveries: list[Delivery] = []
        self._webhook_transport = webhook_transport
        self._runner: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- time ------------------------------------------------------------------------

    def now(self) -> float:
        """Simulated seconds."""
        return self._origin + (self.clock.now() - self._origin) * self.speed

    async def advance(self, seconds: float) -> None:
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("advance() needs a ManualClock; a real clock moves by itself")
        self.clock.advance(seconds)
        await self.tick()

    async def tick(self) -> None:
        """Finish every call whose time has come and deliver its webhooks (awaited)."""
        async with self._lock:
            now = self.now()
            due = [c for c in self.conversations.values() if not c.finalized and now >= c.end_time()]
            for conversation in due:
                conversation.finalized = True
            batches = [self._webhooks_for(c, now) for c in due]
        for batch in batches:
            await self._deliver(batch)

    def start(self) -> None:
        """Run `tick()` in the background (real clock). Hosts that mount the app call this."""
        if isinstance(self.clock, ManualClock) or self._runner is not None:
            return

        async def run() -> None:
            while True:
                with contextlib.suppress(Exception):
                    await self.tick()
                await asyncio.sleep(0.2)

        self._runner = asyncio.get_running_loop().create_task(run())

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None

    # -- accounts --------------------------------------------------------------------

    def add_account(self, *, name: str, api_key: str, webhook_secret: str, webhook_url: str | None = None,
                    concurrency_limit: int = 4, twilio_account_sid: str | None = None,
                    twilio_auth_token: str | None = None) -> SimAccount:
        account = SimAccount(account_id=_id("acct_", 16), name=name, api_key=api_key, webhook_secret=webhook_secret,
                             webhook_url=webhook_url, concurrency_limit=concurrency_limit,
                             twilio_account_sid=twilio_account_sid or "AC" + secrets.token_hex(16),
                             twilio_auth_token=twilio_auth_token or secrets.token_hex(16))
        self.accounts[account.account_id] = account
        return account

    def account_by_key(self, api_key: str) -> SimAccount | None:
        for account in self.accounts.values():
            if account.api_key == api_key:
                return account
        return None

    def seed_account(self, account: SimAccount, language: str = "en") -> None:
        """Three agents, four voices, a Twilio and a SIP number (each assigned to agents)."""
        created = int(self.now())
        spanish = language.startswith("es")
        # Ids derive from the account's key, so an account seeded again gets the same agents.
        rng = random.Random(account.api_key)
        voices = [SimVoice(_id("voice_", 20, rng), n, {"gender": g, "accent": a, "age": "middle_aged", "use_case": u})
                  for n, g, a, u in (("Lucía", "female", "castilian", "conversational"),
                                     ("Mateo", "male", "castilian", "sales"),
                                     ("Rachel", "female", "american", "conversational"),
                                     ("Adam", "male", "american", "narration"))]
        for voice in voices:
            account.voices[voice.voice_id] = voice
        names = (("Sofía — Prospección", "prospecting", 0), ("Carlos — Cualificación", "qualification", 1),
                 ("Elena — Seguimiento", "follow_up", 0)) if spanish else (
                 ("Ava — Prospecting", "prospecting", 2), ("Ben — Qualification", "qualification", 3),
                 ("Chloe — Follow-up", "follow_up", 2))
        agents = []
        for name, tag, voice_index in names:
            agent = SimAgent(agent_id=_id("agent_", rng=rng), name=name, language="es" if spanish else "en",
                             first_message=("Hola {{lead_first_name}}, soy de leadcall. ¿Tiene un minuto?" if spanish
                                            else "Hi {{lead_first_name}}, this is leadcall. Do you have a minute?"),
                             prompt=f"You are a friendly {tag.replace('_', ' ')} sales agent. Be brief and polite.",
                             voice_id=voices[voice_index].voice_id, tags=[tag], created_at=created)
            account.agents[agent.agent_id] = agent
            agents.append(agent)
        twilio = SimPhone(_id("phnum_", 20, rng), "+12025559000" if not spanish else "+34910000000",
                          "Main line", "twilio", agents[0].agent_id)
        sip = SimPhone(_id("phnum_", 20, rng), "+12025559001" if not spanish else "+34910000001",
                       "SIP trunk", "sip_trunk", agents[1].agent_id)
        account.phones[twilio.phone_number_id] = twilio
        account.phones[sip.phone_number_id] = sip

    # -- calls -----------------------------------------------------------------------

    def live_calls(self, account: SimAccount, agent_id: str | None = None) -> int:
        now = self.now()
        return sum(1 for c in self.conversations.values()
                   if c.account_id == account.account_id and c.is_live(now)
                   and (agent_id is None or c.agent.agent_id == agent_id))

    def conversations_for(self, account: SimAccount) -> list[SimConversation]:
        return [c for c in self.conversations.values() if c.account_id == account.account_id]

    def start_call(self, account: SimAccount, agent: SimAgent, phone: SimPhone, to_number: str,
                   client_data: dict[str, Any] | None) -> SimConversation:
        variables = dict((client_data or {}).get("dynamic_variables") or {})
        conversation = SimConversation(
            conversation_id=_id("conv_"), account_id=account.account_id, agent=agent, phone=phone,
            to_number=to_number, scenario=scenario_for(to_number, agent.language), dynamic_variables=variables,
            client_data=client_data, started_at=self.now(),
            call_sid=("CA" if phone.provider == "twilio" else "SCL_") + secrets.token_hex(16))
        self.conversations[conversation.conversation_id] = conversation
        return conversation

    def hang_up(self, conversation: SimConversation) -> str:
        """Ends a live call from the telephony side; returns the Twilio-like resulting status."""
        now = self.now()
        status = conversation.status(now)
        if status == "initiated":
            conversation.canceled_while_ringing = True
            conversation.ended_early_at = now
            return "canceled"
        if status == "in-progress":
            conversation.ended_early_at = now
            return "completed"
        return "completed"

    # -- what GET conversation answers -------------------------------------------------

    def conversation_json(self, c: SimConversation, now: float | None = None) -> dict[str, Any]:
        now = self.now() if now is None else now
        status = c.status(now)
        ended = status in ("done", "failed")
        talk = c.talk_seconds(now)
        billed = talk if status != "initiated" else 0
        kind = c.scenario.kind
        cost = round(billed / 60 * CREDITS_PER_MINUTE) if ended else None
        cost_fiat = round(billed / 60 * USD_PER_MINUTE, 4) if ended else 0.0
        termination = ""
        error = None
        if ended:
            if c.canceled_while_ringing:
                termination = "Call canceled before it was answered"
            elif kind is Kind.NO_ANSWER:
                termination, error = "Call not answered (no-answer)", {"code": 408, "reason": "no-answer"}
            elif kind is Kind.BUSY:
                termination, error = "Line busy", {"code": 486, "reason": "busy"}
            elif kind is Kind.DROPPED:
                termination, error = "Call dropped: connection lost", {"code": 1011, "reason": "connection lost"}
            elif kind is Kind.VOICEMAIL:
                termination = "Voicemail detected"
            elif c.ended_early_at is not None:
                termination = "Call ended by remote party"
            else:
                termination = "Agent ended the call"
        phone_call: dict[str, Any] = {
            "direction": "outbound", "phone_number_id": c.phone.phone_number_id, "agent_number": c.phone.number,
            "external_number": c.to_number, "call_sid": c.call_sid}
        if c.phone.provider == "twilio":
            phone_call |= {"type": "twilio", "stream_sid": "MZ" + c.call_sid[2:]}
        else:
            phone_call |= {"type": "sip_trunking", "call_id": c.call_sid, "sip_header_dynamic_variables": {}}
        analysis = None
        if status == "done" or (status == "failed" and kind is Kind.DROPPED):
            sales = {Kind.INTERESTED: "interested", Kind.NOT_INTERESTED: "not_interested",
                     Kind.CALLBACK: "callback_requested", Kind.LONG: "interested"}.get(kind)
            data: dict[str, Any] = {}
            if sales and c.ended_early_at is None:
                data["sales_outcome"] = {"data_collection_id": "sales_outcome", "value": sales,
                                         "rationale": "From what the lead said."}
            if kind is Kind.CALLBACK:
                data["callback_time"] = {"data_collection_id": "callback_time", "value": "Thursday 10:00",
                                         "rationale": "The lead named a day and time."}
            analysis = {
                "call_successful": "success" if kind in (Kind.INTERESTED, Kind.CALLBACK) else
                "failure" if kind in (Kind.NOT_INTERESTED, Kind.VOICEMAIL, Kind.DROPPED) else "unknown",
                "transcript_summary": SUMMARIES.get(kind, ""), "call_summary_title": kind.value.replace("_", " "),
                "evaluation_criteria_results": {}, "data_collection_results": data}
        started = int(c.started_at)
        has_audio = ended and talk > 0
        return {
            "agent_id": c.agent.agent_id, "agent_name": c.agent.name, "conversation_id": c.conversation_id,
            "status": status, "user_id": None, "branch_id": None, "version_id": None, "environment": "production",
            "transcript": c.transcript(now),
            "metadata": {
                "start_time_unix_secs": started,
                "accepted_time_unix_secs": int(c.phase_ends()[0]) if not c.never_connects and now >= c.phase_ends()[0]
                else None,
                "call_duration_secs": talk, "cost": cost, "cost_fiat": cost_fiat,
                "termination_reason": termination, "error": error, "phone_call": phone_call,
                "main_language": c.agent.language, "conversation_initiation_source": "twilio"
                if c.phone.provider == "twilio" else "sip_trunk",
                "charging": {"dev_discount": False, "is_burst": False, "tier": "pro", "call_charge": cost,
                             "llm_charge": 0, "llm_price": 0.0, "platform_charge": cost, "platform_price": cost_fiat},
                "feedback": {"overall_score": None, "likes": 0, "dislikes": 0},
                "deletion_settings": {}, "authorization_method": "authorization_header", "text_only": False,
            },
            "analysis": analysis,
            "conversation_initiation_client_data": c.client_data or {"dynamic_variables": {}},
            "has_audio": has_audio, "has_user_audio": has_audio, "has_response_audio": has_audio,
            "has_auxiliary_audio": False,
        }

    def audio_for(self, c: SimConversation) -> bytes | None:
        now = self.now()
        if c.status(now) not in ("done", "failed") or c.talk_seconds(now) <= 0:
            return None
        return silent_mp3(min(c.talk_seconds(now), 30) / 10)

    # -- webhooks ---------------------------------------------------------------------

    def _webhooks_for(self, c: SimConversation, now: float) -> list[tuple[SimAccount, str, dict[str, Any]]]:
        account = self.accounts[c.account_id]
        if not account.webhook_url or not c.scenario.send_webhooks or self.faults.drop_webhooks:
            return []
        events: list[tuple[SimAccount, str, dict[str, Any]]] = []
        if c.never_connects and not c.canceled_while_ringing:
            reason = "busy" if c.scenario.kind is Kind.BUSY else "no-answer"
            body: dict[str, Any]
            if c.phone.provider == "twilio":
                body = {"type": "twilio", "body": {
                    "CallSid": c.call_sid, "CallStatus": "busy" if reason == "busy" else "no-answer",
                    "Direction": "outbound-api", "To": c.to_number, "From": c.phone.number, "Duration": "0",
                    "AccountSid": account.twilio_account_sid, "CallbackSource": "call-progress-events",
                    "SipResponseCode": "486" if reason == "busy" else "487"}}
            else:
                body = {"type": "sip", "body": {"from_number": c.phone.number, "to_number": c.to_number,
                                                "sip_status_code": 486 if reason == "busy" else 480,
                                                "error_reason": reason, "call_sid": c.call_sid}}
            events.append((account, "call_initiation_failure", {
                "agent_id": c.agent.agent_id, "conversation_id": c.conversation_id, "failure_reason": reason,
                "metadata": body}))
        elif not c.never_connects:
            events.append((account, "post_call_transcription", self.conversation_json(c, now)))
            audio = self.audio_for(c)
            if audio is not None:
                events.append((account, "post_call_audio", {
                    "agent_id": c.agent.agent_id, "conversation_id": c.conversation_id,
                    "full_audio": base64.b64encode(audio).decode()}))
        if c.scenario.duplicate_out_of_order or self.faults.reverse_webhooks:
            events.reverse()
        if c.scenario.duplicate_out_of_order or self.faults.duplicate_webhooks:
            events = [e for e in events for _ in range(2)]
        return events

    async def _deliver(self, events: list[tuple[SimAccount, str, dict[str, Any]]]) -> None:
        if not events:
            return
        async with httpx.AsyncClient(transport=self._webhook_transport, timeout=10) as client:
            for account, kind, data in events:
                url = account.webhook_url
                if not url:
                    continue
                stamp = int(self.clock.now())
                body = json.dumps({"type": kind, "event_timestamp": stamp, "data": data}).encode()
                headers = {"content-type": "application/json",
                           "ElevenLabs-Signature": sign(account.webhook_secret, body, stamp)}
                try:
                    response = await client.post(url, content=body, headers=headers)
                    self.deliveries.append(Delivery(url, kind, response.status_code))
                except httpx.HTTPError as exc:
                    self.deliveries.append(Delivery(url, kind, None, type(exc).__name__))
