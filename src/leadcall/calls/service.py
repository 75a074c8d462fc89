"""Calls: placing, following, finishing, cancelling and correcting them.

Placing a call is a small saga with its own units of work, because the provider
request must never run inside a database transaction (it would hold locks while a
phone rings) and must never be repeated (it would dial the lead twice):

1. reserve: checks, then a call log in `initiating` under a lock on the account, so
   concurrent placements cannot exceed the agent's or account's live-call limit
   (nor, with billing, the budget); committed before any dialling;
2. dial: one provider request, outside any transaction, never retried;
3. record: `ringing` with the conversation id, or `failed` with a readable reason, or, when
   the answer leaves open whether the call was placed (timeout, 5xx, cut connection) or never
   came (the process died), `initiating` and confirming with ElevenLabs by our id
   (`calls/confirm.py`): never failed on a guess, never dialled again.

Progress afterwards comes from polling and from webhooks, both funnelled through
`apply_conversation` / `apply_failure`, which only move a call forward (see
`states.py`) and may add data at any time.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.calls import analysis, confirm, insights, repository, rollups, schemas
from leadcall.calls.dispositions import dispositions_of
from leadcall.calls.models import (
    TERMINAL,
    CallEvent,
    CallLog,
    CallStatus,
    OutcomeSource,
    PhoneResult,
    SalesResult,
    TranscriptionStatus,
)
from leadcall.calls.placing import REPLAY_WAIT_SECONDS, PlacementFailure, lead_already_on_call, placement_failure
from leadcall.calls.states import can_move
from leadcall.core import metrics
from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import Conflict, Invalid, LeadcallError, NotFound
from leadcall.core.events import Event, EventHub
from leadcall.core.jobs import JobQueue
from leadcall.core.metrics import observe_placement
from leadcall.core.observability import tag
from leadcall.core.scoping import Scope
from leadcall.integrations import outbox
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.kit.inflight import InFlight
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor
from leadcall.leads.models import Lead, LeadStatus
from leadcall.leads.repository import LeadRepository
from leadcall.leads.service import announce_lead, refuse_archived
from leadcall.tenancy.models import Tenant
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import unscoped_get_tenant
from leadcall.voice.errors import ProviderError, ProviderRetriable
from leadcall.voice.manager import AgentChoice, VoiceManager
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.repository import unscoped_get_account
from leadcall.voice.types import CallPlacement, CallRequest, Conversation, ConversationStatus, PhoneKind

log = logging.getLogger("leadcall.calls")

# Polling: soon after placing, then backing off; a call is overdue after its deadline.
FIRST_CHECK_SECONDS = 3.0
MAX_CHECK_INTERVAL_SECONDS = 60.0
CALL_DEADLINE_SECONDS = 30 * 60
# A conversation the provider answers 404 for is given this long to appear (propagation)
# before the call ends as failed instead of waiting for its deadline.
UNKNOWN_CONVERSATION_GRACE_SECONDS = 5 * 60
MAX_VARIABLE_LENGTH = 200
MAX_NOTES_LENGTH = 500

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_CONNECTED = frozenset({PhoneResult.busy.value, PhoneResult.no_answer.value})
# Why a call ended short, as stable codes the pages word in their own language (`problem.<code>`); the
# English sentence stored beside each is the fallback for readers without a catalog.
HUNG_UP_BY_SELLER = "hung_up_by_seller"  # answered, then hung up from leadcall: an answered call
CANCELED_BY_SELLER = "canceled_by_seller"  # hung up from leadcall before the lead answered
NOT_CONNECTED_CODES = {"busy": "line_busy", "no-answer": "nobody_answered"}
NOT_CONNECTED_FALLBACK = "not_connected"
CALL_DROPPED = "call_dropped"  # the provider failed the conversation (its own reason is kept as the detail)
# Codes whose stored sentence is leadcall's own English (nothing the provider said): pages show only the code's words.
OWN_REASON_CODES = frozenset({HUNG_UP_BY_SELLER, CANCELED_BY_SELLER, NOT_CONNECTED_FALLBACK,
                              *NOT_CONNECTED_CODES.values()})


def sanitize(value: str | None, limit: int = MAX_VARIABLE_LENGTH) -> str:
    """Lead data reaches an agent's prompt: no control or invisible format characters, no template braces,
    bounded length."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value)
    # Invisible format characters (bidi overrides and isolates, zero-width spaces and joiners, the "tag"
    # characters that smuggle hidden ASCII) would let a lead's data read differently to the agent than on screen.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _CONTROL.sub(" ", text).replace("{{", "{ {").replace("}}", "} }")
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit]


def next_check_delay(checks_made: int) -> float:
    return min(MAX_CHECK_INTERVAL_SECONDS, FIRST_CHECK_SECONDS * (1.5 ** checks_made))


def to_wire(call: CallLog) -> schemas.CallLog:
    # `outcome` takes only DESIGN §4's values: a call refused or failed has none (phoneResult and
    # failureReason say why).
    if call.sales_result:
        outcome: str | None = call.sales_result
    else:
        outcome = call.phone_result if call.phone_result != PhoneResult.failed.value else None
    transcript = None
    if call.transcript is not None:
        transcript = [schemas.TranscriptTurn(role=str(t.get("role", "")), message=str(t.get("message", "")),
                                             time_in_call_secs=int(t.get("time_in_call_secs", 0)))
                      for t in call.transcript]
    return schemas.CallLog(
        id=call.id, lead_id=call.lead_id, tenant_id=call.tenant_id, organization_id=call.organization_id,
        eleven_labs_config_id=call.account_id, eleven_labs_job_id=call.conversation_id, agent_id=call.agent_id,
        agent_name=call.agent_name, status=CallStatus(call.status), call_type=call.call_type, outcome=outcome,
        phone_result=call.phone_result, sales_result=call.sales_result, timestamp=call.created_at,
        start_time=call.start_time, end_time=call.end_time,
        duration_minutes=round(call.duration_seconds / 60, 2) if call.duration_seconds is not None else None,
        duration_seconds=call.duration_seconds,
        audio_url=f"/api/calls/{call.id}/audio" if call.has_audio else None, transcription=transcript,
        transcription_confidence=call.transcription_confidence,
        transcription_status=TranscriptionStatus(call.transcription_status), summary=call.summary,
        notes=call.notes, next_action=call.next_action, callback_at=call.callback_at,
        callback_text=call.callback_text, callback_id=call.callback_id, cost=call.cost,
        cost_currency=call.cost_currency,
        cost_credits=call.cost_credits, cost_usd=call.cost_usd, failure_reason=call.failure_reason,
        failure_code=call.failure_code,
        termination_reason=call.termination_reason, to_number=call.to_number, user_id=call.user_id,
        updated_at=call.updated_at, outcome_source=call.outcome_source, outcome_evidence=call.outcome_evidence,
        opted_out=call.opted_out, placement_state=confirm.placement_state(call),
        confirming=confirm.is_confirming(call), crm_dispositions=_crm_dispositions(outcome, call.phone_result))


def _crm_dispositions(outcome: str | None, phone_result: str | None) -> schemas.CrmDispositions | None:
    found = dispositions_of(outcome, phone_result)
    return schemas.CrmDispositions(**found._asdict()) if found else None


def placed_answer(call: CallLog, unconfirmed: str | None = None) -> schemas.CallPlaced:
    """The answer to a placement, from the call as recorded (so a replay of its key answers the same);
    `unconfirmed` says what went wrong with a dial that may have placed its call."""
    wire = to_wire(call)
    if confirm.is_confirming(call):
        return schemas.CallPlaced(success=False, call_log=wire, job_id=None, code="placement_unconfirmed",
                                  params={}, error=confirm.UNCONFIRMED_ANSWER.format(
                                      reason=unconfirmed or "no clear answer to the dial"))
    if call.status == CallStatus.failed.value:
        return schemas.CallPlaced(success=False, call_log=wire, job_id=call.conversation_id,
                                  error=call.failure_reason, code=call.failure_code, params={})
    return schemas.CallPlaced(success=True, call_log=wire, job_id=call.conversation_id)


@dataclass
class PlacementHooks:
    """Extension points of the reservation step (billing reserves budget here)."""

    reserve: Callable[[AsyncSession, CallLog, ElevenLabsAccount], Awaitable[None]] | None = None
    settle: Callable[[AsyncSession, CallLog], Awaitable[None]] | None = None
    # Before anything is read: may refuse (rate limits) by raising; else counts the attempt (once per
    # idempotency key, the second argument) and returns how to give it back, which placement does when
    # the attempt is refused after all: only placements count.
    admit: Callable[[Principal, str | None], Awaitable[Callable[[], Awaitable[None]]]] | None = None
    # Inside the reservation, under the tenant's placement lock: the calling rules; refuse by raising.
    # `hours_override`: an admin's reason to place this call outside the calling hours; the last argument is the
    # dial's path (`placement`, `callback`, `campaign`).
    eligible: Callable[[AsyncSession, Lead, datetime, Principal, str | None, str], Awaitable[None]] | None = None
    # After a refused reservation rolled back: the refusal goes in the lead's audit trail.
    refused: Callable[[Principal, str, LeadcallError], Awaitable[None]] | None = None
    # The lead's time zone (the calling rules' reading): the agent's `lead_local_time`, callback times.
    lead_zone: Callable[[Lead, Tenant], ZoneInfo] | None = None


class CallService:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], voices: VoiceManager, events: EventHub,
                 clock: Clock, hooks: PlacementHooks | None = None, jobs: JobQueue | None = None,
                 read_sessionmaker: async_sessionmaker[AsyncSession] | None = None, public_base_url: str = "") -> None:
        self.sessionmaker = sessionmaker
        self.public_base_url = public_base_url  # webhooks carry absolute recording URLs
        self.read_sessionmaker = read_sessionmaker or sessionmaker
        self.voices = voices
        self.events = events
        self.clock = clock
        self.hooks = hooks or PlacementHooks()
        self.jobs = jobs
        rollups.install()  # every write of a call keeps the usage rollups exact, in its own transaction
        # Post-call webhooks being received by this process now (the embedded shape applies them in the gaps).
        self.webhooks_arriving = InFlight()

    def now(self) -> datetime:
        return utc_datetime(self.clock)

    # -- audit and events ------------------------------------------------------------

    def audit(self, session: AsyncSession, call: CallLog, *, source: str, kind: str,
              from_status: str | None = None, to_status: str | None = None, detail: str | None = None) -> None:
        session.add(CallEvent(tenant_id=call.tenant_id, call_id=call.id, at=self.now(), source=source, kind=kind,
                              from_status=from_status, to_status=to_status,
                              detail=detail[:2000] if detail else None))

    async def publish_after_commit(self, session: AsyncSession, call: CallLog) -> None:
        """The one place a call's change is announced: its outgoing webhooks are written to the outbox in this
        transaction (`call.created`, `call.updated`, `call.completed`), the live event goes out once it has
        committed. Called after every change of a call, with the call as the change left it."""
        wire = to_wire(call).model_dump(mode="json", by_alias=True)
        recording = f"{self.public_base_url}{wire['audioUrl']}" if wire.get("audioUrl") else None
        await outbox.record_call(session, tenant_id=call.tenant_id, organization_id=call.organization_id,
                                 call_id=call.id, data={**wire, "recordingUrl": recording},
                                 ended=CallStatus(call.status) in TERMINAL, now=self.now())
        event = Event("call.updated", call.tenant_id, call.organization_id, wire)

        async def publish() -> None:
            await self.events.publish(event)

        on_commit(session, publish)

    # -- placing ---------------------------------------------------------------------

    @observe_placement
    async def place_call(self, principal: Principal, *, lead_id: str, agent_id: str, call_type: str,
                         idempotency_key: str | None, hours_override: str | None = None,
                         path: str = "placement") -> schemas.CallPlaced:
        """`path` names who dials (`placement`: a person; `callback`, `campaign`: the scheduler), for the
        calling rules. A campaign's dials are paced by the campaign, not by the per-person rate limits."""
        key = idempotency_key.strip()[:200] if idempotency_key and idempotency_key.strip() else None
        if key is not None:
            replay = await self._replay(principal, key)
            if replay is not None:
                return replay
        # Counted once per idempotency key: requests racing their key's first one are that one placement.
        give_back = (await self.hooks.admit(principal, key)
                     if self.hooks.admit is not None and path != "campaign" else None)
        try:
            choice, lead = await self._prepare(principal, lead_id=lead_id, agent_id=agent_id, call_type=call_type,
                                               hours_override=hours_override, path=path)
            reserved = await self._reserve(principal, choice, lead, call_type=call_type, key=key,
                                           hours_override=hours_override, path=path)
        except Exception as exc:
            # Refused (the lead is on a call, the key's insert raced ours…) because the key's first request
            # got there first: its call is the answer.
            if key is None or await self._replay(principal, key) is None:
                if give_back is not None:
                    await give_back()  # a refused attempt is no placement: it costs the rate limit nothing
                if isinstance(exc, LeadcallError) and self.hooks.refused is not None:
                    await self.hooks.refused(principal, lead_id, exc)
                raise
            reserved = None
        if reserved is None:
            assert key is not None
            return await self._replay_once_dialled(principal, key)
        call, lead_clock = reserved
        return await self._dial(call, choice, lead, principal.name, lead_clock)

    async def _replay(self, principal: Principal, key: str) -> schemas.CallPlaced | None:
        """The answer the key's first request got (or gets, from the call as it stands now)."""
        async with transaction(self.read_sessionmaker) as session:
            existing = await repository.CallRepository(session, principal.tenant_scope).by_idempotency_key(
                principal.user_id, key)
            if existing is None:
                return None
            return placed_answer(existing)

    async def _replay_once_dialled(self, principal: Principal, key: str) -> schemas.CallPlaced:
        """A request that raced its key's first request answers what the first one answers, so it waits (a
        bounded while, in real time: the first request is dialling) until that call's dial has an answer:
        placed, not placed, or confirming."""
        waited, pause = 0.0, 0.02
        while True:
            replay = await self._replay(principal, key)
            assert replay is not None  # the call of the key is committed: that is how we got here
            if replay.call_log.placement_state != "dialing" or waited >= REPLAY_WAIT_SECONDS:
                return replay
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.5)

    async def _lead_checks(self, session: AsyncSession, principal: Principal, lead: Lead,
                           hours_override: str | None, path: str) -> tuple[dict[str, int], dict[str, int]]:
        """The lead's refusals in their order; returns the tenant's live calls per agent and per account."""
        refuse_archived(lead)  # (archiving takes the tenant row first too: the two cannot cross)
        if not lead.phone:
            raise NotFound("lead has no phone number; add one before calling", code="lead_has_no_phone")
        if self.hooks.eligible is not None:
            await self.hooks.eligible(session, lead, self.now(), principal, hours_override, path)
        per_agent, per_account, on_lead = await repository.CallRepository(
            session, principal.tenant_scope).live_counts(lead.id)
        if on_lead:
            raise lead_already_on_call()
        return per_agent, per_account

    async def _prepare(self, principal: Principal, *, lead_id: str, agent_id: str, call_type: str,
                       hours_override: str | None, path: str) -> tuple[AgentChoice, Lead]:
        """Every check once without any lock, in a read-only unit: what may ask ElevenLabs (the agent's
        details, cached) happens here, never under the placement lock; what is refused anyway is refused
        before queueing for the lock."""
        # Rolled back: what a check may add (an admin's hours override in the audit trail) is the reservation's
        # to write. Never flushed here either: on SQLite a write in this unit, begun as a reader, would fail
        # ("database is locked") whenever another writer committed since its first read.
        async with self.read_sessionmaker() as session:
            with session.no_autoflush:
                lead = await LeadRepository(session, principal.scope).get(lead_id)
                counts = await self._lead_checks(session, principal, lead, hours_override, path)
                # Refuses (400) an agent that is disabled, not allowed here, or at its or its account's limit.
                choice = await self.voices.choose_agent(session, tenant_id=principal.tenant_id,
                                                        organization_id=principal.organization_id,
                                                        agent_id=agent_id, call_type=call_type, counts=counts)
            session.expunge_all()
        return choice, lead

    async def _reserve(self, principal: Principal, choice: AgentChoice, prepared: Lead, *, call_type: str,
                       key: str | None, hours_override: str | None,
                       path: str) -> tuple[CallLog, dict[str, str]] | None:
        """The admission, one short transaction under the tenant's placement lock (billing's lock order):
        the checks again, on what no concurrent placement can change meanwhile, then the call and its
        hold; returns the call and the lead's clock for the agent. None when the idempotency key has its
        call already (a racing duplicate)."""
        async with transaction(self.sessionmaker) as session:
            # FOR NO KEY UPDATE: placements of one tenant serialize on its row, while the foreign-key
            # checks (KEY SHARE) of every insert naming the tenant, a job's included, pass freely.
            # SQLite: BEGIN IMMEDIATE has serialized the transaction already.
            tenant = (await session.execute(select(Tenant).where(Tenant.id == principal.tenant_id)
                                            .with_for_update(key_share=True))).scalar_one()
            if key is not None and await repository.CallRepository(
                    session, principal.tenant_scope).by_idempotency_key(principal.user_id, key) is not None:
                return None
            lead = await LeadRepository(session, principal.scope).get(prepared.id)
            counts = await self._lead_checks(session, principal, lead, hours_override, path)
            self.voices.recheck(choice, organization_id=principal.organization_id, call_type=call_type, counts=counts)
            account = choice.account
            now = self.now()
            call = CallLog(tenant_id=lead.tenant_id, organization_id=lead.organization_id, lead_id=lead.id,
                           user_id=principal.user_id, account_id=account.id, agent_ref_id=choice.ref.id,
                           agent_id=choice.info.agent_id, agent_name=choice.info.name,
                           phone_number_id=choice.phone_number.phone_number_id,
                           phone_kind=str(choice.phone_number.kind), to_number=lead.phone,
                           status=CallStatus.initiating.value, call_type=call_type,
                           transcription_status=TranscriptionStatus.pending.value,
                           cost_currency=tenant.currency, idempotency_key=key, created_at=now, updated_at=now,
                           deadline_at=now + timedelta(seconds=CALL_DEADLINE_SECONDS),
                           # if no answer of the dial is recorded by then, the reconciler looks the call up
                           next_check_at=now + timedelta(seconds=confirm.DIAL_GRACE_SECONDS))
            if self.hooks.reserve is not None:
                await self.hooks.reserve(session, call, account)  # before the insert: the hold is written with it
            session.add(call)
            await session.flush()
            tag(call_id=call.id)
            self.audit(session, call, source="api", kind="created", to_status=CallStatus.initiating.value,
                       detail=f"agent {choice.info.name} ({choice.info.agent_id}), {call_type}, to {lead.phone}")
            await self.publish_after_commit(session, call)
            lead_clock = analysis.lead_clock_variables(lead, self._zone(lead, tenant), now)
        return call, lead_clock

    def _zone(self, lead: Lead, tenant: Tenant | None) -> ZoneInfo:
        if self.hooks.lead_zone is not None and tenant is not None:
            return self.hooks.lead_zone(lead, tenant)
        return analysis.own_zone(lead)

    def _variables(self, lead: Lead, choice: AgentChoice, call_type: str, caller: str,
                   lead_clock: dict[str, str]) -> dict[str, str]:
        """`lead_clock`: `lead_local_time` (ISO 8601 with offset) and `lead_timezone` (calls/analysis.py)."""
        return {
            "lead_name": sanitize(lead.name), "lead_first_name": sanitize(lead.name).split(" ")[0],
            "lead_company": sanitize(lead.company), "lead_notes": sanitize(lead.notes, MAX_NOTES_LENGTH),
            "call_type": call_type, "seller_name": sanitize(caller), **lead_clock,
        }

    async def _dial(self, reserved: CallLog, choice: AgentChoice, lead: Lead, caller: str,
                    lead_clock: dict[str, str]) -> schemas.CallPlaced:
        request = CallRequest(agent_id=choice.info.agent_id, phone_number=choice.phone_number,
                              to_number=reserved.to_number,
                              dynamic_variables=self._variables(lead, choice, reserved.call_type, caller, lead_clock),
                              reference=reserved.id)
        failure: PlacementFailure | None = None
        unconfirmed: str | None = None
        placement = None
        try:
            placement = await self.voices.start_call(choice.account, request)
        except ProviderError as exc:
            if isinstance(exc, ProviderRetriable) and exc.maybe_placed:
                unconfirmed = confirm.unconfirmed_reason(exc)
            else:
                failure = placement_failure(exc)
        # The record updates the call's own row and inserts its audit row, nothing more: no lock a job
        # can hold stands between a dialled call and its conversation id (billing's lock order).
        async with transaction(self.sessionmaker) as session:
            now = self.now()
            if placement is not None and await self._record_ringing(session, reserved, placement, now):
                call = reserved
            elif unconfirmed is not None:  # it may be ringing: confirmed by our id, never dialled again
                call = await confirm.record_unconfirmed(self, session, reserved.id, unconfirmed)
            else:
                call = await self._record_outcome(session, reserved.id, placement, failure, now)
            await self.publish_after_commit(session, call)
        if placement is not None and call.confirming_since is None:  # else counted when found by our id
            await self._count_placed_after_record(call, now)
        log.info("call %s to %s on account %s: %s%s", call.id, call.to_number, call.account_id, call.status,
                 f" ({call.failure_code})" if call.failure_code else "")
        return placed_answer(call, unconfirmed)

    async def _record_outcome(self, session: AsyncSession, call_id: str, placement: CallPlacement | None,
                              failure: PlacementFailure | None, now: datetime) -> CallLog:
        """What the provider answered, on the call as it is now (it may have moved since the reservation)."""
        call = await repository.unscoped_get_call(session, call_id, for_update=True)
        assert call is not None
        if placement is not None:
            call.conversation_id = placement.conversation_id
            call.call_sid = placement.call_sid or placement.sip_call_id
            self._move(session, call, CallStatus.ringing, source="api",
                       detail=f"ElevenLabs accepted the call: conversation {placement.conversation_id}")
            call.next_check_at = now + timedelta(seconds=FIRST_CHECK_SECONDS)
        else:
            assert failure is not None
            call.failure_code, call.failure_reason = failure.code, failure.sentence[:500]
            call.phone_result = PhoneResult.failed.value
            call.transcription_status = TranscriptionStatus.failed.value
            language = await self._language(session, call)
            call.next_action = insights.next_action(language, PhoneResult.failed, None, None, None)
            self._move(session, call, CallStatus.failed, source="api", detail=f"{failure.code}: {failure.sentence}")
            await self._settle(session, call)
        return call

    async def _record_ringing(self, session: AsyncSession, call: CallLog, placement: CallPlacement,
                              now: datetime) -> bool:
        """The usual case in as few statements as it takes: the reserved call, still `initiating`,
        becomes `ringing` with its conversation id. False if something else moved it meanwhile
        (a cancel or the reconciler); the caller then takes the general path."""
        sid = placement.call_sid or placement.sip_call_id
        next_check = now + timedelta(seconds=FIRST_CHECK_SECONDS)
        moved = (await session.execute(
            update(CallLog).where(CallLog.id == call.id, CallLog.status == CallStatus.initiating.value)
            .values(conversation_id=placement.conversation_id, call_sid=sid, status=CallStatus.ringing.value,
                    updated_at=now, next_check_at=next_check)
            .returning(*(getattr(CallLog, f) for f in rollups.FIELDS))
            .execution_options(synchronize_session=False))).first()
        if moved is None:
            return False
        # Bypasses the ORM's flush, so the status move reaches the usage rollups here.
        after = dict(moved._mapping)
        rollups.record_change(session, rollups.contribution({**after, "status": CallStatus.initiating.value}),
                              rollups.contribution(after))
        call.conversation_id, call.call_sid, call.next_check_at = placement.conversation_id, sid, next_check
        call.status, call.updated_at = CallStatus.ringing.value, now
        self.audit(session, call, source="api", kind="status", from_status=CallStatus.initiating.value,
                   to_status=CallStatus.ringing.value,
                   detail=f"ElevenLabs accepted the call: conversation {placement.conversation_id}")
        return True

    async def _count_placed(self, session: AsyncSession, call: CallLog, now: datetime) -> None:
        await session.execute(update(VoiceAgent).where(VoiceAgent.id == call.agent_ref_id).values(
            calls_placed=VoiceAgent.calls_placed + 1, last_called_at=now))
        await session.execute(update(Lead).where(Lead.id == call.lead_id).values(last_called_at=now))

    async def _count_placed_after_record(self, call: CallLog, now: datetime) -> None:
        """The agent's and the lead's counters after a dial, in their own transaction once the call is
        recorded: their rows may be held by a job (a listing refresh, a webhook's lead update), and
        that must not delay recording the call."""
        try:
            async with transaction(self.sessionmaker) as session:
                await self._count_placed(session, call, now)
        except SQLAlchemyError:
            log.exception("call %s is placed; its agent's and lead's counters were not updated", call.id)

    # -- following ---------------------------------------------------------------------

    def _move(self, session: AsyncSession, call: CallLog, new: CallStatus, *, source: str,
              detail: str | None = None) -> bool:
        current = CallStatus(call.status)
        if not can_move(current, new):
            return False
        now = self.now()
        call.status = new.value
        call.updated_at = now
        if new in TERMINAL:
            call.end_time = call.end_time or now
            call.next_check_at = None

            async def count_ended() -> None:  # once committed: a rolled-back move ended nothing
                metrics.CALLS_ENDED.labels(new.value, source).inc()

            on_commit(session, count_ended)
        self.audit(session, call, source=source, kind="status", from_status=current.value, to_status=new.value,
                   detail=detail)
        return True

    async def _language(self, session: AsyncSession, call: CallLog) -> str:
        tenant = await unscoped_get_tenant(session, call.tenant_id)
        return tenant.default_language if tenant else "en"

    async def _settle(self, session: AsyncSession, call: CallLog) -> None:
        """Hook point after a call ends (billing reconciles its reservation here)."""
        if self.hooks.settle is not None:
            await self.hooks.settle(session, call)

    async def apply_conversation(self, session: AsyncSession, call: CallLog, conv: Conversation, *,
                                 source: str) -> bool:
        """Bring a call up to what the provider says. Returns True if anything changed."""
        changed = False
        target = {
            ConversationStatus.INITIATED: CallStatus.ringing,
            ConversationStatus.IN_PROGRESS: CallStatus.in_progress,
            ConversationStatus.PROCESSING: CallStatus.in_progress,
            ConversationStatus.DONE: CallStatus.completed,
            ConversationStatus.FAILED: CallStatus.failed,
        }[conv.status]
        if conv.accepted_time_unix and call.start_time is None:
            call.start_time = datetime.fromtimestamp(conv.accepted_time_unix, utc_datetime(self.clock).tzinfo)
            changed = True
        if conv.transcript and (call.transcript is None or len(call.transcript) < len(conv.transcript)):
            call.transcript = [{"role": t.role, "message": t.message, "time_in_call_secs": t.time_in_call_secs}
                               for t in conv.transcript]
            changed = True
        transcription = (TranscriptionStatus.processing if conv.status is ConversationStatus.PROCESSING
                         else TranscriptionStatus.completed if conv.status is ConversationStatus.DONE
                         else TranscriptionStatus.completed if conv.status is ConversationStatus.FAILED and conv.transcript
                         else TranscriptionStatus.failed if conv.status is ConversationStatus.FAILED
                         else None)
        if transcription is not None and call.transcription_status != transcription.value and not (
                call.transcription_status == TranscriptionStatus.completed.value):
            call.transcription_status = transcription.value
            changed = True
        if conv.analysis is not None and conv.analysis.summary and call.summary != conv.analysis.summary:
            call.summary = conv.analysis.summary
            changed = True
        if conv.status.is_terminal:
            if conv.duration_secs and call.duration_seconds != conv.duration_secs:
                call.duration_seconds = conv.duration_secs
                changed = True
            if conv.termination_reason and call.termination_reason != conv.termination_reason:
                call.termination_reason = conv.termination_reason[:500]
                changed = True
            if conv.has_audio and not call.has_audio:
                call.has_audio = True
                changed = True
            if await self._apply_cost(session, call, conv):
                changed = True
            if conv.status is ConversationStatus.FAILED and not call.failure_reason:
                call.failure_reason = (conv.error_reason or conv.termination_reason or "the call failed")[:500]
                call.failure_code = call.failure_code or CALL_DROPPED
                changed = True
        if self._move(session, call, target, source=source, detail=f"provider status {conv.status.value}"):
            changed = True
            if target in TERMINAL and call.start_time is not None and conv.duration_secs:
                call.end_time = call.start_time + timedelta(seconds=conv.duration_secs)
        # A call that never connected (an initiation failure said busy or no answer) keeps that outcome:
        # a late or contradicting conversation may add data, not rewrite what the phone network said.
        never_connected = call.status == CallStatus.failed.value and call.phone_result in _NOT_CONNECTED
        if (conv.status.is_terminal and not call.outcome_corrected and not never_connected
                and (changed or call.phone_result is None)):
            await self._classify(session, call, conv)
            changed = True
        if changed:
            call.updated_at = self.now()
            if call.status in {s.value for s in TERMINAL}:
                await self._settle(session, call)
        return changed

    async def _apply_cost(self, session: AsyncSession, call: CallLog, conv: Conversation) -> bool:
        if conv.cost_credits is None and conv.cost_usd is None:
            return False
        if call.cost_credits == conv.cost_credits and call.cost_usd == conv.cost_usd:
            return False
        account = await session.get(ElevenLabsAccount, call.account_id)
        call.cost_credits = conv.cost_credits
        call.cost_usd = conv.cost_usd
        if account is not None:
            if conv.cost_usd is not None:
                call.cost = round(conv.cost_usd * account.usd_to_currency_rate, 4)
            elif conv.cost_credits is not None:
                call.cost = round(conv.cost_credits / 1000 * account.price_per_1000_credits, 4)
        return True

    async def _classify(self, session: AsyncSession, call: CallLog, conv: Conversation | None,
                        failure_reason: str | None = None) -> None:
        lead = await session.get(Lead, call.lead_id)
        tenant = await unscoped_get_tenant(session, call.tenant_id)
        zone = self._zone(lead, tenant) if lead is not None else ZoneInfo("UTC")
        turns = [insights.Turn(str(t.get("role")), str(t.get("message") or "")) for t in (call.transcript or [])]
        # ElevenLabs' own analysis of leadcall's items first; the keyword rules only where it says nothing.
        stated = analysis.read(conv.analysis if conv else None, call_type=call.call_type, zone=zone)
        result = insights.classify(
            ended_ok=conv is not None and conv.status is ConversationStatus.DONE, failure_reason=failure_reason,
            picked_up=call.failure_code == HUNG_UP_BY_SELLER,
            termination_reason=call.termination_reason, transcript=turns, stated=stated,
            language=tenant.default_language if tenant else "en", now=call.end_time or self.now(),
            timezone=zone.key)
        call.phone_result = result.phone_result.value
        call.sales_result = result.sales_result.value if result.sales_result else None
        call.callback_at = result.callback_at
        call.callback_text = result.callback_text
        call.next_action = result.next_action
        call.outcome_source = result.outcome_source.value if result.outcome_source else None
        call.outcome_evidence = result.outcome_evidence
        call.opted_out = result.opted_out
        if lead is not None and lead.status == LeadStatus.new.value and result.phone_result is PhoneResult.answered:
            # The lead was reached: a new lead is now a contacted one (later stages stay a person's call).
            lead.status = LeadStatus.contacted.value
            lead.updated_at = self.now()
            await announce_lead(session, lead, self.now())

    async def apply_failure(self, session: AsyncSession, call: CallLog, failure_reason: str, *, source: str) -> bool:
        """A call that never connected (busy, no answer)."""
        moved = self._move(session, call, CallStatus.failed, source=source, detail=f"call not connected: {failure_reason}")
        # A generic "failed" (e.g. from a poll that came first) is refined by the webhook's reason.
        refines = call.phone_result in (None, PhoneResult.failed.value) and call.status == CallStatus.failed.value
        if call.outcome_corrected or (not moved and not refines):
            return moved
        call.failure_reason = call.failure_reason or {"busy": "the line was busy",
                                                      "no-answer": "nobody answered"}.get(failure_reason,
                                                                                          "the call did not connect")
        if call.failure_code is None:
            call.failure_code = NOT_CONNECTED_CODES.get(failure_reason, NOT_CONNECTED_FALLBACK)
        call.transcription_status = TranscriptionStatus.failed.value
        call.cost = call.cost if call.cost is not None else 0.0
        await self._classify(session, call, None, failure_reason=failure_reason)
        call.updated_at = self.now()
        await self._settle(session, call)
        return True

    async def check_call(self, call_id: str, *, source: str = "poll") -> None:
        """Ask the provider about one call and apply the answer (worker: polling and reconciliation)."""
        async with transaction(self.sessionmaker) as session:
            call = await repository.unscoped_get_call(session, call_id)
            if call is None or (call.conversation_id is None and CallStatus(call.status) in TERMINAL):
                return
            tag(tenant_id=call.tenant_id, call_id=call.id)
            conversation_id, account = call.conversation_id, None
            if conversation_id is not None:
                if CallStatus(call.status) in TERMINAL and call.next_check_at is None:
                    return
                checks = call.checks_made
                next_at = self.now() + timedelta(seconds=next_check_delay(checks + 1))
                if not await repository.claim_check(session, call.id, checks, next_at):
                    return  # another worker is on it
                account = await unscoped_get_account(session, call.account_id)
        if conversation_id is None:  # no answer of the dial recorded: look the call up by our id
            await confirm.confirm_call(self, call_id, source=source)
            return
        assert account is not None
        try:
            conv = await self.voices.get_conversation(account, conversation_id)
        except ProviderError as exc:
            async with transaction(self.sessionmaker) as session:
                call = await repository.unscoped_get_call(session, call_id, for_update=True)
                if call is None:
                    return
                self.audit(session, call, source=source, kind="check_failed", detail=exc.detail)
                unknown = (exc.status_code == 404
                           and self.now() > call.created_at + timedelta(seconds=UNKNOWN_CONVERSATION_GRACE_SECONDS))
                if unknown or self.now() > (call.deadline_at or self.now()) + timedelta(hours=1):
                    call.failure_reason = (
                        "ElevenLabs no longer knows this conversation (deleted, or placed by a simulator that "
                        "restarted); its outcome cannot be known" if unknown else f"lost track of the call: {exc.detail}")
                    if self._move(session, call, CallStatus.failed, source=source, detail=call.failure_reason):
                        await self._settle(session, call)
                        await self.publish_after_commit(session, call)
            return
        async with transaction(self.sessionmaker) as session:
            call = await repository.unscoped_get_call(session, call_id, for_update=True)
            if call is None:
                return
            changed = await self.apply_conversation(session, call, conv, source=source)
            self.audit(session, call, source=source, kind=source,
                       detail=f"provider status {conv.status.value}" + ("" if changed else " (no change)"))
            if source == "reconcile" and not conv.status.is_terminal and call.deadline_at is not None:
                call.deadline_at = self.now() + timedelta(seconds=CALL_DEADLINE_SECONDS)
            if conv.status.is_terminal:
                call.next_check_at = None
            if changed:
                await self.publish_after_commit(session, call)

    # -- reading and correcting --------------------------------------------------------

    async def get_call(self, session: AsyncSession, scope: Scope, call_id: str) -> CallLog:
        return await repository.CallRepository(session, scope).get(call_id)

    async def history(self, session: AsyncSession, scope: Scope, lead_id: str, *, limit: int,
                      cursor: str | None) -> schemas.CallPage:
        await LeadRepository(session, scope).get(lead_id)
        try:
            after = decode_cursor(cursor) if cursor else None
        except BadCursor as exc:
            raise Invalid(str(exc), extra={"field": "cursor"}) from exc
        limit = max(1, min(limit, 100))
        rows = await repository.CallRepository(session, scope).history(lead_id, limit=limit + 1, after=after)
        more = len(rows) > limit
        rows = rows[:limit]
        return schemas.CallPage(items=[to_wire(r) for r in rows],
                                next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)

    async def correct(self, session: AsyncSession, principal: Principal, call_id: str,
                      data: schemas.CallOutcomeUpdate) -> CallLog:
        call = await repository.CallRepository(session, principal.scope).get(call_id)
        given = data.model_fields_set
        if "outcome" in given and data.outcome is not None:
            if CallStatus(call.status) not in TERMINAL:
                raise Conflict("the call is still live; correct its outcome once it has ended", code="call_still_live")
            before = call.sales_result or call.phone_result
            if isinstance(data.outcome, SalesResult):
                call.phone_result = PhoneResult.answered.value
                call.sales_result = data.outcome.value
            else:
                call.phone_result = data.outcome.value
                call.sales_result = None
            call.outcome_corrected = True
            call.outcome_evidence = {"detail": f"corrected by {principal.name}", "by": principal.email,
                                     "before": before, "beforeSource": call.outcome_source}
            call.outcome_source = OutcomeSource.seller.value
            self.audit(session, call, source="user", kind="outcome_corrected",
                       detail=f"{before} → {data.outcome.value} by {principal.email}")
        if "notes" in given:
            call.notes = data.notes
            self.audit(session, call, source="user", kind="notes", detail=f"notes edited by {principal.email}")
        if "next_action" in given:
            call.next_action = data.next_action
        if "callback_at" in given:
            call.callback_at = data.callback_at
        call.updated_at = self.now()
        await self.publish_after_commit(session, call)
        await session.flush()
        return call

    async def events_of(self, session: AsyncSession, scope: Scope, call_id: str) -> list[CallEvent]:
        repo = repository.CallRepository(session, scope)
        await repo.get(call_id)
        return await repo.events(call_id)

    async def cancel(self, principal: Principal, call_id: str) -> schemas.CancelResult:
        async with transaction(self.sessionmaker) as session:
            call = await repository.CallRepository(session, principal.scope).get(call_id)
            if CallStatus(call.status) in TERMINAL:
                raise Conflict(f"the call has already ended ({call.status})", code="call_already_ended",
                               params={"status": call.status})
            if confirm.is_confirming(call):
                raise Conflict("ElevenLabs did not confirm the call and leadcall is still looking it up by its id; "
                               "it can be hung up once it is found", code="call_being_confirmed")
            if call.conversation_id is None:
                raise Conflict("the call is still being placed; try again in a moment", code="call_being_placed")
            account = await unscoped_get_account(session, call.account_id)
            assert account is not None
            conversation_id, call_sid, kind = call.conversation_id, call.call_sid, PhoneKind(call.phone_kind)
        result = await self.voices.cancel_call(account, conversation_id, call_sid, kind)
        async with transaction(self.sessionmaker) as session:
            call = await repository.CallRepository(session, principal.scope).get(call_id)
            self.audit(session, call, source="user", kind="cancel_requested",
                       detail=f"by {principal.email}: {result.detail}")
            if result.ended:
                # Hung up once the lead had answered: an answered call, the hang-up noted beside its result.
                answered = call.status == CallStatus.in_progress.value
                call.failure_code = call.failure_code or (HUNG_UP_BY_SELLER if answered else CANCELED_BY_SELLER)
                call.failure_reason = call.failure_reason or (f"hung up by {principal.name} after the lead answered"
                                                              if answered else f"canceled by {principal.name}")
                if answered and call.phone_result is None:
                    call.phone_result = PhoneResult.answered.value
                self._move(session, call, CallStatus.canceled, source="user", detail=result.detail)
                call.next_check_at = self.now() + timedelta(seconds=FIRST_CHECK_SECONDS)  # collect final data
                await self.publish_after_commit(session, call)
            wire = to_wire(call)
        return schemas.CancelResult(canceled=result.ended, detail=result.detail, call_log=wire)

    async def live_calls(self, session: AsyncSession, tenant_id: str) -> tuple[dict[str, int], dict[str, int]]:
        per_agent, per_account, _ = await repository.CallRepository(session, Scope(tenant_id)).live_counts()
        return per_agent, per_account
