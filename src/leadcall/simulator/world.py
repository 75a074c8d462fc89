"""What the simulator holds: accounts with their agents, voices and phone numbers, the
conversations placed through them, and the fault switches.

A conversation's state is never stored as a status: it is computed from the clock,
so polling at any moment answers what the scenario says for that moment. Unix times
are the injected clock's; durations are simulated seconds (`speed` of them pass per
clock second), so a demo at speed 5 shows real timestamps and call lengths.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leadcall.simulator.scenarios import Kind, Scenario, Turn, script_for, spanish

LIVE_STATUSES = ("initiated", "in-progress")


@dataclass
class Faults:
    """Switches tests flip to make the simulator misbehave.

    The `*_next` counters apply to that many ElevenLabs API requests, then reset:
    `fail_next` answers `fail_status` (5xx) with an `internal_error` body,
    `rate_limit_next` answers 429 `rate_limit_exceeded`, `timeout_next` holds the
    request `timeout_seconds` (real seconds) before answering normally.
    `slow_seconds` delays every API answer. The webhook switches apply to every
    delivery while set: `drop_webhooks` sends none, `reverse_webhooks` sends a call's
    events in reverse order, `duplicate_webhooks` sends each one twice.

    The `*_after_placing_next` counters apply to that many outbound-call requests that
    did place their call (the phone rings), and spoil only the answer:
    `fail_after_placing_next` answers `fail_status`, `drop_after_placing_next` cuts the
    connection in the middle of the answer, `hold_after_placing_next` holds the answer
    `hold_seconds` (real seconds; longer than the caller waits, it is a timeout).
    """

    fail_next: int = 0
    fail_status: int = 503
    timeout_next: int = 0
    timeout_seconds: float = 0.5
    rate_limit_next: int = 0
    fail_after_placing_next: int = 0
    drop_after_placing_next: int = 0
    hold_after_placing_next: int = 0
    hold_seconds: float = 11.0
    slow_seconds: float = 0.0
    duplicate_webhooks: bool = False
    reverse_webhooks: bool = False
    drop_webhooks: bool = False


@dataclass
class SimVoice:
    voice_id: str
    name: str
    labels: dict[str, str]
    category: str = "premade"
    description: str = ""
    created_at: int = 0


@dataclass
class SimPhone:
    phone_number_id: str
    number: str
    label: str
    provider: str  # "twilio" | "sip_trunk", as GET /v1/convai/phone-numbers spells it
    agent_id: str | None


@dataclass
class SimAgent:
    """An agent; `conversation_config` and `platform_settings` are the API's own nested objects."""

    agent_id: str
    name: str
    tags: list[str]
    conversation_config: dict[str, Any]
    platform_settings: dict[str, Any]
    created_at: int
    updated_at: int

    def _agent_section(self) -> dict[str, Any]:
        section = self.conversation_config.get("agent")
        return section if isinstance(section, dict) else {}

    @property
    def language(self) -> str:
        return str(self._agent_section().get("language") or "en")

    @property
    def first_message(self) -> str:
        return str(self._agent_section().get("first_message") or "")

    @property
    def voice_id(self) -> str:
        tts = self.conversation_config.get("tts")
        return str(tts.get("voice_id") or "") if isinstance(tts, dict) else ""

    @property
    def concurrency_limit(self) -> int:
        """The agent's own cap on live calls; -1 means none (the workspace limit still applies)."""
        limits = self.platform_settings.get("call_limits")
        value = limits.get("agent_concurrency_limit", -1) if isinstance(limits, dict) else -1
        return value if isinstance(value, int) else -1


@dataclass
class SimWebhook:
    """A workspace webhook (`GET /v1/workspace/webhooks`). `disabled` is a person's switch, `auto_disabled`
    the service's after repeated failures; the last failed delivery's status code (None: no answer) and time."""

    webhook_id: str
    name: str
    url: str
    created_at: int
    disabled: bool = False
    auto_disabled: bool = False
    last_failure_code: int | None = None
    last_failure_at: int | None = None


POST_CALL_EVENTS = ("transcript", "audio", "call_initiation_failure")


@dataclass
class SimAccount:
    """One ElevenLabs workspace: its API key, webhook secret and URL, and what it owns.

    `concurrency_limit` caps the workspace's live calls (initiated or in-progress).
    `twilio_account_sid`/`twilio_auth_token` open the Twilio stand-in for its calls.
    """

    account_id: str
    name: str
    api_key: str
    webhook_secret: str
    concurrency_limit: int
    twilio_account_sid: str
    twilio_auth_token: str
    agents: dict[str, SimAgent] = field(default_factory=dict)
    voices: dict[str, SimVoice] = field(default_factory=dict)
    # A key without the convai_write permission: reads work, PATCH agent answers 401 missing_permissions.
    read_only: bool = False
    phones: dict[str, SimPhone] = field(default_factory=dict)
    # Test switches for this account alone: `requests` counts its API requests by "METHOD /path";
    # while `down_status` is set every request answers it; while `hold` is set, requests wait until it is.
    requests: Counter[str] = field(default_factory=Counter)
    down_status: int | None = None
    hold: asyncio.Event | None = None
    # The workspace's webhooks and which one gets the post-call events (`GET /v1/convai/settings`).
    workspace_webhooks: dict[str, SimWebhook] = field(default_factory=dict)
    post_call_webhook_id: str | None = None
    post_call_events: list[str] = field(default_factory=lambda: list(POST_CALL_EVENTS))
    # A key without permission to read the workspace settings and webhooks (401 missing_permissions).
    workspace_hidden: bool = False

    @property
    def post_call_webhook(self) -> SimWebhook | None:
        return self.workspace_webhooks.get(self.post_call_webhook_id) if self.post_call_webhook_id else None

    @property
    def webhook_url(self) -> str | None:
        """Where post-call events go now: the post-call webhook's URL, unless none is set or it is disabled."""
        hook = self.post_call_webhook
        return hook.url if hook is not None and not hook.disabled and not hook.auto_disabled else None

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        """Point the post-call webhook at `url` (a new webhook when none is set); None unsets it."""
        hook = self.post_call_webhook
        if url is None:
            self.post_call_webhook_id = None
        elif hook is not None:
            hook.url = url
        else:
            self.post_call_webhook_id = self.add_webhook("Post-call", url).webhook_id

    def add_webhook(self, name: str, url: str, created_at: int = 0) -> SimWebhook:
        """A new webhook of the workspace (not the post-call one until `post_call_webhook_id` names it)."""
        hook = SimWebhook(webhook_id=uuid.uuid4().hex, name=name, url=url, created_at=created_at)
        self.workspace_webhooks[hook.webhook_id] = hook
        return hook


@dataclass
class SimConversation:
    """A placed call. Offsets (`*_offset`) are simulated seconds since `started_at` (a clock time)."""

    conversation_id: str
    account_id: str
    agent: SimAgent
    phone: SimPhone
    to_number: str
    scenario: Scenario
    client_data: dict[str, Any] | None
    started_at: float
    speed: float
    call_sid: str
    hung_up_offset: float | None = None  # ended from the telephony side (Twilio hang-up)
    finalized: bool = False  # its terminal webhooks were handed to delivery

    # -- timeline ---------------------------------------------------------------------

    def elapsed(self, now: float) -> float:
        return max(0.0, (now - self.started_at) * self.speed)

    @property
    def ring_offset(self) -> float:
        return float(self.scenario.ring_seconds)

    @property
    def canceled(self) -> bool:
        """Hung up before anyone answered."""
        return self.hung_up_offset is not None and self.hung_up_offset < self.ring_offset

    @property
    def connects(self) -> bool:
        return self.scenario.connects and not self.canceled

    @property
    def ended_early(self) -> bool:
        return self.hung_up_offset is not None and not self.canceled

    @property
    def talk_end_offset(self) -> float:
        end = self.ring_offset + self.scenario.talk_seconds
        if self.hung_up_offset is not None:
            end = min(end, max(self.hung_up_offset, self.ring_offset))
        return end

    @property
    def end_offset(self) -> float:
        """When the conversation reaches its terminal status."""
        if self.canceled and self.hung_up_offset is not None:
            return self.hung_up_offset
        if not self.connects:
            return self.ring_offset
        return self.talk_end_offset + self.scenario.processing_seconds

    def at_offset(self, offset: float) -> float:
        """The clock time of a simulated offset."""
        return self.started_at + offset / self.speed

    def status(self, now: float) -> str:
        """`initiated | in-progress | processing | done | failed`, as GET conversation spells them."""
        elapsed = self.elapsed(now)
        if elapsed >= self.end_offset:
            if not self.connects or (self.scenario.kind is Kind.DROPPED and not self.ended_early):
                return "failed"
            return "done"
        if elapsed < self.ring_offset:
            return "initiated"
        if elapsed < self.talk_end_offset:
            return "in-progress"
        return "processing"

    def is_live(self, now: float) -> bool:
        return self.status(now) in LIVE_STATUSES

    def is_over(self, now: float) -> bool:
        return self.elapsed(now) >= self.end_offset

    def talk_seconds(self, now: float) -> int:
        """Seconds connected so far (what the call costs and what `call_duration_secs` says)."""
        if not self.connects:
            return 0
        elapsed = self.elapsed(now)
        if elapsed < self.ring_offset:
            return 0
        return int(min(elapsed, self.talk_end_offset) - self.ring_offset)

    def accepted_at(self, now: float) -> int | None:
        if not self.connects or self.elapsed(now) < self.ring_offset:
            return None
        return int(self.at_offset(self.ring_offset))

    # -- what was said ----------------------------------------------------------------

    @property
    def dynamic_variables(self) -> dict[str, Any]:
        variables = (self.client_data or {}).get("dynamic_variables")
        return dict(variables) if isinstance(variables, dict) else {}

    def _fill(self, text: str) -> str:
        variables = self.dynamic_variables
        es = spanish(self.agent.language)
        name = next((str(variables[k]) for k in ("lead_first_name", "first_name", "lead_name", "customer_name", "name")
                     if variables.get(k)), "")
        company = str(variables.get("lead_company") or variables.get("company") or ("su empresa" if es else "yours"))
        if not name:
            text = text.replace("de {name}", "de este número").replace("of {name}", "of this number")
            text = text.replace(" {name}", "")
        return text.replace("{name}", name).replace("{company}", company)

    def transcript(self, now: float) -> list[dict[str, Any]]:
        """The turns spoken so far, spread evenly over the scripted talk time."""
        turns: tuple[Turn, ...] = script_for(self.scenario.kind, self.agent.language) if self.connects else ()
        if not turns:
            return []
        spoken = self.talk_seconds(now)
        if self.elapsed(now) < self.ring_offset:
            return []
        step = max(self.scenario.talk_seconds / len(turns), 1.0)
        out: list[dict[str, Any]] = []
        for index, turn in enumerate(turns):
            at = int(index * step)
            if at > spoken:
                break
            out.append({"role": turn.role, "message": self._fill(turn.text), "time_in_call_secs": at,
                        "tool_calls": [], "tool_results": [], "feedback": None, "interrupted": False,
                        "source_medium": "audio"})
        return out
