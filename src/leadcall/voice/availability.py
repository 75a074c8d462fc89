"""Whether a caller may use an agent now, and why not: the rules, the capacity, the account's state.

Each reason is an `Unavailability` with a stable code (pages and integrations word it in their own
language); an account that cannot be listed is said beside its agents (`AccountState`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadcall.core.errors import LeadcallError, ProviderProblem, Unavailable
from leadcall.voice.listings import PROVIDER_MISCONFIGURED, ListingProblem
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.types import AgentInfo, PhoneKind, PhoneNumber, Voice


@dataclass(frozen=True)
class AgentChoice:
    """An agent a caller may use now, with everything needed to place the call."""

    ref: VoiceAgent
    account: ElevenLabsAccount
    info: AgentInfo
    phone_number: PhoneNumber


@dataclass(frozen=True)
class Unavailability:
    """Why an agent cannot take a call now: a stable `code` with its `values` (pages and
    integrations phrase it in their own language) and the English sentence the API shows.

    Codes: agent_disabled, team_not_allowed, call_type_not_allowed (call_type), agent_busy
    (live, limit), account_at_limit (account, limit), no_phone_number, and for agents shown from
    the last listing of an account that cannot be listed now: account_unreachable (account),
    account_misconfigured (account).
    """

    code: str
    text: str
    values: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentAvailability:
    ref: VoiceAgent
    account: ElevenLabsAccount
    info: AgentInfo
    voice: Voice | None
    live_calls: int
    unavailable: Unavailability | None
    phone_number: PhoneNumber | None = None
    account_problem: ListingProblem | None = None  # its account could not be listed just now

    @property
    def unavailable_reason(self) -> str | None:
        return self.unavailable.text if self.unavailable else None


@dataclass(frozen=True)
class AccountState:
    """Whether an account's agents are all there: `problem` None when its last listing succeeded;
    `listed_at` is when the agents shown were listed (None: never, so none are shown)."""

    account: ElevenLabsAccount
    problem: ListingProblem | None
    listed_at: float | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class AvailabilityReport:
    agents: list[AgentAvailability]
    accounts: list[AccountState]


def account_trouble(account: ElevenLabsAccount, problem: ListingProblem) -> LeadcallError:
    """What placing a call (or reading an agent) answers when the agent's account cannot be listed."""
    params = {"account": account.name, "accountId": account.id}
    if problem.code == PROVIDER_MISCONFIGURED:
        return ProviderProblem(f"the ElevenLabs account '{account.name}' needs attention, so its agents cannot be "
                               f"used now: {problem.detail}", code="provider_needs_attention", params=params)
    return Unavailable(f"the ElevenLabs account '{account.name}' is not answering, so its agents cannot be used "
                       f"now: {problem.detail}", code="provider_unavailable", params=params,
                       headers={"Retry-After": "30"})


def account_reason(account: ElevenLabsAccount, problem: ListingProblem | None) -> Unavailability | None:
    if problem is None:
        return None
    if problem.code == PROVIDER_MISCONFIGURED:
        return Unavailability("account_misconfigured", f"the ElevenLabs account '{account.name}' needs attention",
                              {"account": account.name})
    return Unavailability("account_unreachable", f"the ElevenLabs account '{account.name}' is not answering",
                          {"account": account.name})

def rule_reason(ref: VoiceAgent, organization_id: str, call_type: str | None) -> Unavailability | None:
    if not ref.is_enabled:
        return Unavailability("agent_disabled", "this agent is disabled by an admin")
    if ref.allowed_organization_ids and organization_id not in ref.allowed_organization_ids:
        return Unavailability("team_not_allowed", "your team may not use this agent")
    if call_type and ref.allowed_call_types and call_type not in ref.allowed_call_types:
        return Unavailability("call_type_not_allowed",
                              f"this agent is not used for {call_type.replace('_', ' ')} calls",
                              {"call_type": call_type})
    return None

def capacity_reason(ref: VoiceAgent, info: AgentInfo, live: int, account: ElevenLabsAccount,
                     account_live: int) -> Unavailability | None:
    limits = [x for x in (ref.max_concurrent_calls, info.concurrency_limit) if x is not None]
    if limits and live >= min(limits):
        return Unavailability("agent_busy",
                              f"the agent is busy: {live} call(s) in progress, its limit is {min(limits)}",
                              {"live": live, "limit": min(limits)})
    if account_live >= account.concurrency_limit:
        return Unavailability("account_at_limit",
                              f"the ElevenLabs account '{account.name}' is at its limit of "
                              f"{account.concurrency_limit} simultaneous calls",
                              {"account": account.name, "limit": account.concurrency_limit})
    return None

def phone_for(account: ElevenLabsAccount, info: AgentInfo, numbers: list[PhoneNumber]) -> PhoneNumber | None:
    """The number the agent calls from: its own, else the account's default, else any of the account's."""
    if info.phone_numbers:
        return info.phone_numbers[0]
    for number in numbers:
        if number.phone_number_id == account.default_phone_number_id:
            return number
    if account.default_phone_number_id:
        return PhoneNumber(phone_number_id=account.default_phone_number_id, number="", label="default",
                           kind=PhoneKind.TWILIO, assigned_agent_id=None)
    return numbers[0] if numbers else None
