"""VoiceManager: the only door from the rest of leadcall to voice providers.

It resolves a tenant's accounts, builds a fresh provider adapter per account from
that account's decrypted settings (sharing one HTTP connection pool), reads each
account's listing of agents, numbers and voices through `voice.listings` (cached,
refreshed in the background, kept in the database, never waited on for long), says
each account's state beside its agents, and decides which agents a caller may use
right now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.core.cache import Cache
from leadcall.core.errors import BadRequest, NotFound, ProviderProblem, Unavailable
from leadcall.core.scoping import Scope
from leadcall.core.secrets import SecretBox
from leadcall.kit.clock import Clock
from leadcall.voice.availability import (
    AccountState,
    AvailabilityReport,
    account_reason,
    account_trouble,
    capacity_reason,
    phone_for,
    rule_reason,
)
from leadcall.voice.availability import AgentAvailability as AgentAvailability  # re-exported: callers' names
from leadcall.voice.availability import AgentChoice as AgentChoice
from leadcall.voice.availability import Unavailability as Unavailability
from leadcall.voice.errors import ProviderError, ProviderMisconfigured, ProviderRejected
from leadcall.voice.factory import VoiceProviderFactory
from leadcall.voice.health import AccountActivitySource, NoActivity
from leadcall.voice.listings import AccountListing, ListingProblem, ListingStore
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.repository import AccountRepository, AgentRepository, unscoped_get_account
from leadcall.voice.stats import AgentStatsSource, NoStats
from leadcall.voice.targets import ProviderTargets
from leadcall.voice.types import (
    AgentInfo,
    AgentUpdate,
    CallPlacement,
    CallRequest,
    CancelResult,
    ConnectionCheck,
    Conversation,
    ElevenLabsSettings,
    PhoneKind,
    PhoneNumber,
    Voice,
    VoiceProvider,
    WebhookEvent,
)

T = TypeVar("T")

WEBHOOK_VERIFIER_TTL = 30.0


class LiveCallCounter(Protocol):
    """Counts calls not yet ended, so availability reflects what is on the line now."""

    async def live_calls(self, session: AsyncSession, tenant_id: str) -> tuple[dict[str, int], dict[str, int]]:
        """Returns (live calls per agent reference id, live calls per account id)."""
        ...


class NoLiveCalls:
    async def live_calls(self, session: AsyncSession, tenant_id: str) -> tuple[dict[str, int], dict[str, int]]:
        return {}, {}


def provider_error_to_leadcall(exc: ProviderError) -> Exception:
    if isinstance(exc, ProviderMisconfigured):
        return ProviderProblem(f"ElevenLabs account problem: {exc.detail}")
    if isinstance(exc, ProviderRejected):
        return BadRequest(f"ElevenLabs refused the request: {exc.detail}")
    return Unavailable(f"ElevenLabs is not answering right now: {exc.detail}")


class VoiceManager:
    def __init__(self, *, secret_box: SecretBox, clock: Clock, http: httpx.AsyncClient, cache: Cache,
                 sessionmaker: async_sessionmaker[AsyncSession], read_sessionmaker: async_sessionmaker[AsyncSession],
                 factory: VoiceProviderFactory | None = None, live_calls: LiveCallCounter | None = None,
                 targets: ProviderTargets | None = None) -> None:
        self._box = secret_box
        # Where accounts' base URLs may point (checked when saved; `http` checks again when connecting).
        self.targets = targets or ProviderTargets()
        self._clock = clock
        self._http = http
        self._factory = factory or VoiceProviderFactory(clock=clock, http=http)
        self.listings = ListingStore(cache=cache, clock=clock, sessionmaker=sessionmaker,
                                     read_sessionmaker=read_sessionmaker, provider_for=self.provider)
        self.live_call_counter: LiveCallCounter = live_calls or NoLiveCalls()
        # How each agent's calls went (the call logs answer, calls/stats.py): picker, settings, API.
        self.agent_stats: AgentStatsSource = NoStats()
        # Each account's webhooks and calls as leadcall saw them (calls/health.py): account health.
        self.account_activity: AccountActivitySource = NoActivity()
        # account id → (expires at, tenant id, verifier): webhooks arrive in bursts, and verifying
        # one needs only the account's webhook secret, not a database round trip and three decryptions.
        self._webhook_verifiers: dict[str, tuple[float, str, VoiceProvider]] = {}

    # -- providers -----------------------------------------------------------------

    def settings_for(self, account: ElevenLabsAccount) -> ElevenLabsSettings:
        return ElevenLabsSettings(
            api_key=self._box.decrypt(account.api_key_encrypted),
            webhook_secret=self._box.decrypt(account.webhook_secret_encrypted)
            if account.webhook_secret_encrypted else None,
            base_url=account.base_url,
            twilio_account_sid=account.twilio_account_sid,
            twilio_auth_token=self._box.decrypt(account.twilio_auth_token_encrypted)
            if account.twilio_auth_token_encrypted else None,
            twilio_base_url=account.twilio_base_url,
            account_label=account.id,
        )

    def provider(self, account: ElevenLabsAccount) -> VoiceProvider:
        return self._factory.build("elevenlabs", self.settings_for(account))

    def provider_for_key(self, api_key: str, base_url: str) -> VoiceProvider:
        return self._factory.build("elevenlabs", ElevenLabsSettings(api_key=api_key, base_url=base_url))

    # -- listings --------------------------------------------------------------------

    async def account_listing(self, session: AsyncSession, account: ElevenLabsAccount) -> AccountListing:
        return (await self.listings.listings(session, [account]))[account.id]

    async def account_voices(self, session: AsyncSession, account: ElevenLabsAccount) -> list[Voice]:
        listing = await self.account_listing(session, account)
        if listing.problem is not None and not listing.voices:
            raise account_trouble(account, listing.problem)
        return list(listing.voices)

    async def forget_account(self, account_id: str) -> None:
        self._webhook_verifiers.pop(account_id, None)
        await self.listings.invalidate(account_id)

    async def agent_info(self, session: AsyncSession, account: ElevenLabsAccount, agent_id: str) -> AgentInfo:
        listing = await self.account_listing(session, account)
        for info in listing.infos:
            if info.agent_id == agent_id:
                return info
        if listing.problem is not None:
            raise account_trouble(account, listing.problem)
        raise NotFound(f"agent {agent_id} not found in the ElevenLabs account '{account.name}'",
                       code="agent_not_in_account", params={"account": account.name})

    async def update_agent(self, session: AsyncSession, account: ElevenLabsAccount, agent_id: str,
                           update: AgentUpdate) -> AgentInfo:
        info = await self._call(self.provider(account).update_agent(agent_id, update))
        await self.listings.replace_agent(session, account, info)
        return info

    async def test_connection(self, provider: VoiceProvider) -> ConnectionCheck:
        try:
            return await provider.test_connection()
        except ProviderError as exc:
            return ConnectionCheck(ok=False, detail=exc.detail, missing_permission=None)

    # -- availability ----------------------------------------------------------------

    async def sync_agent_refs(self, session: AsyncSession, scope: Scope, account: ElevenLabsAccount,
                              infos: list[AgentInfo], now_ts: float) -> dict[str, VoiceAgent]:
        """Every agent ElevenLabs lists gets a local reference (rules, stats) the first time it is seen."""
        repo = AgentRepository(session, scope)
        refs = {r.agent_id: r for r in await repo.for_accounts([account.id])}
        now = datetime.fromtimestamp(now_ts, UTC)
        for info in infos:
            if info.agent_id not in refs:
                ref = VoiceAgent(tenant_id=scope.tenant_id, account_id=account.id, agent_id=info.agent_id,
                                 tags=[], allowed_organization_ids=[], allowed_call_types=[], created_at=now,
                                 updated_at=now)
                repo.add(ref)
                refs[info.agent_id] = ref
        await session.flush()
        return refs

    async def availability_report(self, session: AsyncSession, *, tenant_id: str, organization_id: str,
                                  call_type: str | None, include_unusable: bool = False,
                                  counts: tuple[dict[str, int], dict[str, int]] | None = None) -> AvailabilityReport:
        """The tenant's agents across all its active accounts, each with whether this caller may use it now,
        and each account's state (an account that cannot be listed shows its last listed agents, if any,
        as unavailable). `counts` (live calls per agent reference and per account) may be given by a caller
        that already has them.
        """
        scope = Scope(tenant_id)
        accounts = await AccountRepository(session, scope).list(active_only=True)
        per_agent, per_account = counts or await self.live_call_counter.live_calls(session, tenant_id)
        listings = await self.listings.listings(session, accounts)
        result: list[AgentAvailability] = []
        states: list[AccountState] = []
        for account in accounts:
            listing = listings[account.id]
            states.append(AccountState(account, listing.problem, listing.listed_at))
            voices = {v.voice_id: v for v in listing.voices}
            refs = await self.sync_agent_refs(session, scope, account, listing.infos, self._clock.now())
            for info in listing.infos:
                ref = refs[info.agent_id]
                if not include_unusable and rule_reason(ref, organization_id, call_type) is not None:
                    continue
                result.append(self._assess(ref, account, info, voices, list(listing.numbers), per_agent,
                                           per_account, organization_id, call_type, listing.problem))
        result.sort(key=lambda a: (a.account.name, a.info.name, a.info.agent_id))
        return AvailabilityReport(result, states)

    async def availability(self, session: AsyncSession, *, tenant_id: str, organization_id: str,
                           call_type: str | None, include_unusable: bool = False,
                           counts: tuple[dict[str, int], dict[str, int]] | None = None) -> list[AgentAvailability]:
        return (await self.availability_report(session, tenant_id=tenant_id, organization_id=organization_id,
                                               call_type=call_type, include_unusable=include_unusable,
                                               counts=counts)).agents

    def _assess(self, ref: VoiceAgent, account: ElevenLabsAccount, info: AgentInfo, voices: dict[str, Voice],
                numbers: list[PhoneNumber], per_agent: dict[str, int], per_account: dict[str, int],
                organization_id: str, call_type: str | None, problem: ListingProblem | None) -> AgentAvailability:
        """Whether this caller may use the agent now, and the number it would call from."""
        live = per_agent.get(ref.id, 0)
        reason = (rule_reason(ref, organization_id, call_type) or account_reason(account, problem)
                  or capacity_reason(ref, info, live, account, per_account.get(account.id, 0)))
        phone = phone_for(account, info, numbers)
        if reason is None and phone is None:
            reason = Unavailability("no_phone_number", "no phone number is assigned to this agent or its account")
        voice = voices.get(info.voice_id) if info.voice_id else None
        return AgentAvailability(ref, account, info, voice, live, reason, phone, problem)

    async def choose_agent(self, session: AsyncSession, *, tenant_id: str, organization_id: str, agent_id: str,
                           call_type: str | None,
                           counts: tuple[dict[str, int], dict[str, int]] | None = None) -> AgentChoice:
        """The agent named by `agent_id` (ours or ElevenLabs'), if this caller may use it now; else 400,
        or 503 `provider_unavailable` (424 `provider_needs_attention`) naming the account when the agent's
        account - or, for an agent never listed, any account - cannot be listed now.

        Placing a call looks only at the named agent's account; an agent without a local
        reference yet (never listed) is found through the full listing, which creates it.
        """
        per_agent, per_account = counts or await self.live_call_counter.live_calls(session, tenant_id)
        candidates = await AgentRepository(session, Scope(tenant_id)).placement_candidates(agent_id)
        listings = await self.listings.listings(session, [account for _, account in candidates])
        troubled: AccountState | None = None
        for ref, account in candidates:
            listing = listings[account.id]
            if listing.problem is not None:
                troubled = troubled or AccountState(account, listing.problem, listing.listed_at)
                continue
            info = next((i for i in listing.infos if i.agent_id == ref.agent_id), None)
            if info is None:
                continue  # deleted in ElevenLabs since it was last listed
            return self._chosen(self._assess(ref, account, info, {}, list(listing.numbers), per_agent, per_account,
                                             organization_id, call_type, None))
        if troubled is None:
            report = await self.availability_report(session, tenant_id=tenant_id, organization_id=organization_id,
                                                    call_type=call_type, include_unusable=True,
                                                    counts=(per_agent, per_account))
            for item in report.agents:
                if agent_id in (item.ref.id, item.info.agent_id):
                    return self._chosen(item)
            troubled = next((state for state in report.accounts if state.problem is not None), None)
        if troubled is not None and troubled.problem is not None:
            raise account_trouble(troubled.account, troubled.problem)
        raise BadRequest("agent not available: no agent with this id in your ElevenLabs accounts", code="agent_unknown")

    def recheck(self, choice: AgentChoice, *, organization_id: str, call_type: str | None,
                counts: tuple[dict[str, int], dict[str, int]]) -> None:
        """`choose_agent`'s refusals again, from live-call counts read under the placement lock, with the
        agent's details `choose_agent` found: no provider request, so none is made under the lock."""
        per_agent, per_account = counts
        self._chosen(self._assess(choice.ref, choice.account, choice.info, {}, [choice.phone_number], per_agent,
                                  per_account, organization_id, call_type, None))

    @staticmethod
    def _chosen(item: AgentAvailability) -> AgentChoice:
        if item.account_problem is not None and item.unavailable is not None and item.unavailable.code in (
                "account_unreachable", "account_misconfigured"):
            raise account_trouble(item.account, item.account_problem)
        if item.unavailable is not None:
            raise BadRequest(f"agent not available: {item.unavailable.text}", code="agent_unavailable",
                             params={"reason": item.unavailable.code, **item.unavailable.values},
                             extra={"reason": item.unavailable.text, "reasonCode": item.unavailable.code,
                                    "reasonValues": item.unavailable.values})
        assert item.phone_number is not None  # _assess() reported a missing number otherwise
        return AgentChoice(item.ref, item.account, item.info, item.phone_number)

    # -- calls -------------------------------------------------------------------------

    async def start_call(self, account: ElevenLabsAccount, request: CallRequest) -> CallPlacement:
        """Never retried here: a repeated request could dial the lead twice."""
        return await self.provider(account).start_call(request)

    async def get_conversation(self, account: ElevenLabsAccount, conversation_id: str) -> Conversation:
        return await self.provider(account).get_conversation(conversation_id)

    async def cancel_call(self, account: ElevenLabsAccount, conversation_id: str, call_sid: str | None,
                          phone_kind: PhoneKind) -> CancelResult:
        return await self._call(self.provider(account).cancel_call(conversation_id, call_sid, phone_kind))

    def stream_audio(self, account: ElevenLabsAccount, conversation_id: str) -> AsyncIterator[bytes]:
        return self.provider(account).stream_audio(conversation_id)

    def verify_webhook(self, account: ElevenLabsAccount, raw_body: bytes, signature: str | None) -> WebhookEvent:
        return self.provider(account).verify_webhook(raw_body, signature)

    def cached_webhook_verifier(self, account_id: str) -> tuple[str, VoiceProvider] | None:
        """What `webhook_verifier` would answer, if this process knows it already (no database needed)."""
        cached = self._webhook_verifiers.get(account_id)
        if cached is not None and cached[0] > self._clock.now():
            return cached[1], cached[2]
        return None

    async def webhook_verifier(self, session: AsyncSession, account_id: str) -> tuple[str, VoiceProvider] | None:
        """(tenant id, a provider that can verify this account's webhooks), or None for an unknown account.

        Kept for WEBHOOK_VERIFIER_TTL seconds; a changed or removed account is forgotten at once in
        this process (`forget_account`) and within the TTL in the others.
        """
        cached = self.cached_webhook_verifier(account_id)
        if cached is not None:
            return cached
        now = self._clock.now()
        account = await unscoped_get_account(session, account_id)
        if account is None:
            return None
        secret = self._box.decrypt(account.webhook_secret_encrypted) if account.webhook_secret_encrypted else None
        verifier = self._factory.build("elevenlabs", ElevenLabsSettings(api_key="", webhook_secret=secret,
                                                                        base_url=account.base_url))
        if len(self._webhook_verifiers) > 10_000:
            self._webhook_verifiers.clear()
        self._webhook_verifiers[account_id] = (now + WEBHOOK_VERIFIER_TTL, account.tenant_id, verifier)
        return account.tenant_id, verifier


    @staticmethod
    async def _call(awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except ProviderError as exc:
            raise provider_error_to_leadcall(exc) from exc
