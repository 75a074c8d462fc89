"""The campaigns' dispatcher: due attempts become calls, exactly once, through the one placement saga.

It is the scheduler of `scheduling` (rows are the truth, claimed with a lease by `lease.claim_next`,
placed by `CallService.place_call` with a key derived from the row, bound to its row inside the reservation
by `watch`), with what campaigns add:
- a claim happens under the campaign's row lock, re-reading its state: a paused, canceled or ended campaign
  claims nothing; the reservation binds its call to the attempt only while the campaign runs (`_bind`, in
  the reservation's transaction, after the tenant's placement lock that pause and cancel also take);
- pacing: new calls per second per ElevenLabs account (the next allowed dial per account, on the campaign row);
- capacity: at most `maxLiveCalls` live calls per campaign, and a reserved share of each account's
  concurrency is left to sellers' one-click calls (`campaign_slots`);
- fairness: each round claims at most one attempt per campaign, the campaign that dialled longest ago first;
- wake-ups: a job after every commit that may free work (start, resume, a call ended), and the worker's
  sweep as the safety net; while only pacing holds it back, a run waits for the next slot (real time only).
A worker killed after its claim leaves a lease that lapses; killed after the reservation, the key's call is
replayed, never dialled again (`place_call`), and the reconciler confirms it by our id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from leadcall.calls.models import CallLog, PhoneResult
from leadcall.calls.service import CallService
from leadcall.campaigns import repository
from leadcall.campaigns.models import ENDED, AttemptState, Campaign, CampaignAttempt, CampaignState
from leadcall.campaigns.progress import CHANGED, mark_changed
from leadcall.campaigns.schemas import RetryPolicy
from leadcall.campaigns.service import NO_WINDOW, RETRY_SOON, CampaignService, campaign_windows, lead_local_hour
from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import Conflict, LeadcallError
from leadcall.core.jobs import JobQueue
from leadcall.core.metrics import CAMPAIGN_DIALS
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.leads.models import Lead, LeadStatus
from leadcall.rules.hours import allowed_at, next_allowed_at
from leadcall.rules.service import DialRefused, zones_for
from leadcall.scheduling import lease, watch
from leadcall.scheduling.service import MOVABLE
from leadcall.tenancy.models import Tenant, User
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import unscoped_get_tenant, unscoped_get_user
from leadcall.tenancy.service import principal_for
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent

log = logging.getLogger("leadcall.campaigns")

KEY_PREFIX = "campaign:"
DISPATCH_JOB = "campaigns.dispatch"
CLAIM_SECONDS = 120
SWEEP_SECONDS = 1.0
RESERVED_SHARE = 0.25  # of each account's concurrency, kept free for sellers' own calls
SLOT_TOLERANCE = 0.001  # seconds: a pacing slot this close is now (clock arithmetic is in floats)
ROUND_LIMIT = 200  # campaigns looked at per round
IN_FLIGHT = 8  # placements one dispatcher run has under way at once
REFS_SECONDS = 1.0  # a run re-reads a tenant's accounts, agents and campaign owners at most this stale
RUN_SECONDS = 60.0  # a run hands over to a fresh one after this (a job's time is bounded)
CLAIM_TRIES = 20  # attempts one claim may set aside (outside the campaign's windows, stopped) before giving up
RETRY_RESULTS = (PhoneResult.no_answer.value, PhoneResult.busy.value, PhoneResult.voicemail.value,
                 PhoneResult.failed.value)
GONE = ("lead_archived", "lead_has_no_phone", "not_found")


def idempotency_key(attempt_id: str) -> str:
    return f"{KEY_PREFIX}{attempt_id}"


def campaign_slots(concurrency_limit: int) -> int:
    """How many of an account's simultaneous calls campaigns may use: a quarter (rounded up) stays free for
    sellers; an account of one line has nothing to spare and lends it."""
    if concurrency_limit <= 1:
        return concurrency_limit
    return concurrency_limit - math.ceil(concurrency_limit * RESERVED_SHARE)


def _bind(session: Session, call: CallLog, attempt_id: str) -> str:
    """Inside the reservation: the attempt becomes `dialing` with this call, only if it is still pending and
    its campaign running; otherwise the reservation fails and nobody is dialled."""
    running = select(Campaign.id).where(Campaign.state == CampaignState.running.value)
    campaign_id = session.execute(update(CampaignAttempt).where(
        CampaignAttempt.id == attempt_id, CampaignAttempt.tenant_id == call.tenant_id,
        CampaignAttempt.lead_id == call.lead_id, CampaignAttempt.state == AttemptState.pending.value,
        CampaignAttempt.campaign_id.in_(running)).values(
        state=AttemptState.dialing.value, call_id=call.id, claimed_until=None, updated_at=call.created_at)
        .returning(CampaignAttempt.campaign_id).execution_options(synchronize_session=False)).scalar_one_or_none()
    if campaign_id is None:
        raise Conflict("this campaign attempt may no longer be dialled (its campaign was paused, canceled or "
                       "ended meanwhile)", code="campaign_attempt_not_open", params={"attemptId": attempt_id})
    session.info.setdefault(CHANGED, set()).add(campaign_id)
    return attempt_id


@dataclass(frozen=True)
class Claimed:
    campaign_id: str
    attempt_id: str
    lead_id: str
    agent_id: str
    call_type: str
    principal: Principal


@dataclass(frozen=True)
class Claims:
    """One claim's dials, and when the campaign's pacing allows its next (a Unix time; None: not pacing)."""

    dials: list[Claimed]
    next_at: float | None


@dataclass(frozen=True)
class _Agent:
    ref_id: str
    account_id: str
    enabled: bool
    max_concurrent: int | None


@dataclass
class _Tenancy:
    """What a claim reads of a tenant that changes seldom (its accounts' limits, its agents, the tenant and the
    campaigns' owners), read once per `REFS_SECONDS` within one dispatcher run instead of once per attempt.
    Capacity (live calls, claims on their way), the campaign row and the lead are read fresh by every claim."""

    read_at: float
    limits: dict[str, int]
    agents: dict[str, _Agent]
    tenant: Tenant | None
    users: dict[str, User | None]


class CampaignDispatcher:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], calls: CallService,
                 campaigns: CampaignService, clock: Clock, jobs: JobQueue | None,
                 linger_seconds: float = 0.0) -> None:
        self.sessionmaker = sessionmaker
        self.calls = calls
        self.campaigns = campaigns
        self.clock = clock
        self.jobs = jobs
        self.linger_seconds = linger_seconds
        self._running = False
        self._again = False
        self._kick: asyncio.Event | None = None
        self._ended: asyncio.Future[None] | None = None
        watch.install()
        watch.bind_key(KEY_PREFIX, _bind)

    def now(self) -> datetime:
        return utc_datetime(self.clock)

    async def wake(self) -> None:
        """Asks for a dispatch run soon (after a commit that may have made work)."""
        if self.jobs is not None:
            await self.jobs.enqueue(DISPATCH_JOB, unique=False)

    # -- the runs ----------------------------------------------------------------------------------

    async def sweep(self) -> int:
        """The worker's safety net: campaigns whose start or end has come, then whatever is due."""
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            for campaign_id in await repository.unscoped_to_start(session, now):
                await session.execute(update(Campaign).where(
                    Campaign.id == campaign_id, Campaign.state == CampaignState.scheduled.value).values(
                    state=CampaignState.running.value, updated_at=now))
                mark_changed(session, campaign_id)
            for campaign_id in await repository.unscoped_past_end(session, now):
                row = await session.get(Campaign, campaign_id, with_for_update=True)
                if row is not None and row.state not in ENDED:
                    await self.campaigns.finish(session, row, CampaignState.completed, "end_reached", now)
                    mark_changed(session, campaign_id)
        return await self.dispatch(join=False)

    async def dispatch(self, *, join: bool = True) -> int:
        """Dials what is due until nothing more may be dialled now; up to `IN_FLIGHT` placements run at once (a
        placement waits on the provider; the next claim need not). Returns the number of dials made, once all
        of them have their answer.

        One run per dispatcher at a time: a call while a run is under way makes that run look again at once,
        even in the middle of waiting for a pacing slot, instead of starting a second run that would contend
        for the same claims, and returns 0 — after that run has ended when `join`, at once otherwise (the
        wake-up job and the sweep: a queue's job slot is not held while another run works)."""
        if self._running:
            self._again = True
            if self._kick is not None:
                self._kick.set()
            if join and self._ended is not None:
                await asyncio.shield(self._ended)
            return 0
        self._running = True
        ended = self._ended = asyncio.get_running_loop().create_future()
        try:
            return await self._run()
        finally:
            self._running = False
            ended.set_result(None)

    async def _run(self) -> int:
        """Rounds over the dispatchable campaigns, the one that dialled longest ago first; each round gives a
        campaign at most its share of the free room (`IN_FLIGHT` over the campaigns in the round), so a big
        campaign does not delay a small one beyond the small one's own pacing."""
        placed = 0
        lingered = 0.0
        started = time.monotonic()
        dials: set[asyncio.Task[None]] = set()
        tenancy: dict[str, _Tenancy] = {}
        not_before: dict[str, float] = {}  # pacing: no claim for the campaign before then (this run's own dials)
        kick = self._kick = asyncio.Event()

        async def dial(claimed: Claimed) -> None:
            try:
                await self._dial(claimed)
            except Exception:  # noqa: BLE001 - one attempt's trouble must not stop the others; its lease lapses
                log.exception("campaign attempt %s failed", claimed.attempt_id)

        try:
            while True:
                self._again = False
                kick.clear()
                now = self.now()
                async with transaction(self.sessionmaker) as session:
                    ids = await repository.unscoped_dispatchable(session, now, ROUND_LIMIT)
                made, wait_until = 0, None
                share = max(1, IN_FLIGHT // max(1, len(ids)))
                for campaign_id in ids:
                    hold = not_before.get(campaign_id)
                    if hold is not None and hold > self.clock.now() + SLOT_TOLERANCE:
                        wait_until = hold if wait_until is None else min(wait_until, hold)
                        continue
                    while len(dials) >= IN_FLIGHT:
                        await asyncio.wait(dials, return_when=asyncio.FIRST_COMPLETED)
                    claims = await self._claim_many(campaign_id, min(share, IN_FLIGHT - len(dials)), tenancy)
                    if isinstance(claims, Claims):
                        for claimed in claims.dials:
                            task = asyncio.get_running_loop().create_task(dial(claimed))
                            dials.add(task)
                            task.add_done_callback(dials.discard)
                        made += len(claims.dials)
                        if claims.next_at is not None:
                            not_before[campaign_id] = claims.next_at
                        continue
                    if claims is not None:
                        not_before[campaign_id] = claims
                        wait_until = claims if wait_until is None else min(wait_until, claims)
                placed += made
                if time.monotonic() - started > RUN_SECONDS:  # a job's time is bounded (arq's job_timeout)
                    await self.wake()
                    return placed
                if made:
                    lingered = 0.0
                    continue
                if self._again:  # woken while this round ran: something may have been freed
                    not_before.clear()
                    continue
                if wait_until is None:
                    return placed
                pause = wait_until - self.clock.now()
                if pause <= SLOT_TOLERANCE:
                    continue
                if lingered + pause > self.linger_seconds:
                    return placed
                lingered += pause
                # Only pacing holds it back: wait for the next slot, or less if woken (a slot freed, a start).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(kick.wait(), pause)
                if kick.is_set():
                    not_before.clear()
        finally:
            if dials:
                await asyncio.gather(*list(dials), return_exceptions=True)

    async def _claim(self, campaign_id: str) -> Claimed | float | None:
        """One attempt of the campaign claimed for dialling (see `_claim_many`)."""
        claims = await self._claim_many(campaign_id, 1, {})
        return claims.dials[0] if isinstance(claims, Claims) else claims

    async def _tenancy(self, session: AsyncSession, row: Campaign, cache: dict[str, _Tenancy]) -> _Tenancy:
        found = cache.get(row.tenant_id)
        if found is None or self.clock.now() - found.read_at > REFS_SECONDS:
            limits = {str(a): int(n) for a, n in (await session.execute(select(
                ElevenLabsAccount.id, ElevenLabsAccount.concurrency_limit).where(
                ElevenLabsAccount.tenant_id == row.tenant_id))).all()}
            agents = {str(agent_id): _Agent(str(ref_id), str(account_id), bool(enabled), max_concurrent)
                      for ref_id, agent_id, account_id, enabled, max_concurrent in (await session.execute(select(
                          VoiceAgent.id, VoiceAgent.agent_id, VoiceAgent.account_id, VoiceAgent.is_enabled,
                          VoiceAgent.max_concurrent_calls).where(VoiceAgent.tenant_id == row.tenant_id))).all()}
            found = cache[row.tenant_id] = _Tenancy(self.clock.now(), limits, agents,
                                                    await unscoped_get_tenant(session, row.tenant_id), {})
        if row.created_by and row.created_by not in found.users:
            found.users[row.created_by] = await unscoped_get_user(session, row.created_by)
        return found

    async def _claim_many(self, campaign_id: str, most: int, cache: dict[str, _Tenancy]) -> Claims | float | None:
        """Up to `most` attempts of the campaign claimed for dialling in one transaction (one statement claims
        them, one reads their leads), or when pacing allows the next (a Unix time), or None (nothing due, at its
        capacity, or it stopped). Under the campaign's row lock, re-reading its state: a paused, canceled or
        ended campaign claims nothing."""
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            row = await repository.unscoped_lock_running(session, campaign_id)
            if row is None:
                return None
            if row.end_at is not None and row.end_at <= now:
                await self.campaigns.finish(session, row, CampaignState.completed, "end_reached", now)
                mark_changed(session, row.id)
                return None
            if row.spending_cap is not None and await repository.spent_and_held(session, row.id) >= row.spending_cap:
                await self.campaigns.finish(session, row, CampaignState.completed, "spending_cap_reached", now)
                mark_changed(session, row.id)
                return None
            on_way = await repository.unscoped_claims_on_way(session, now)
            free = row.max_live_calls - await repository.dialing_count(session, row.id) - sum(
                1 for c, _t, _a in on_way if c == row.id)
            if free <= 0:
                return None
            refs = await self._tenancy(session, row, cache)
            plan = await self._plan(session, row, refs, [a for _c, t, a in on_way if t == row.tenant_id and a],
                                    now, min(most, free))
            if not isinstance(plan, list):
                return plan
            dials: list[Claimed] = []
            used: list[tuple[str, int]] = []  # (account, next turn) of each dial, in the plan's order
            todo = list(plan)
            set_aside = 0
            while todo and set_aside < CLAIM_TRIES:
                got: list[tuple[str, str, str, str | None]] = []  # (attempt, lead, agent, lead's owner at start)
                for agent_id, n in Counter(a for a, _acc, _t in todo).items():
                    got += [(str(i), str(lead), agent_id, owner) for i, lead, owner in await lease.claim_due(
                        session, CampaignAttempt, now, now + timedelta(seconds=CLAIM_SECONDS), n,
                        open_where=(CampaignAttempt.campaign_id == row.id, *repository.PENDING),
                        values={"agent_id": agent_id},
                        returning=(CampaignAttempt.id, CampaignAttempt.lead_id, CampaignAttempt.lead_owner_id))]
                if not got:
                    break
                leads = {lead.id: lead for lead in (await session.execute(select(Lead).where(
                    Lead.id.in_([lead for _i, lead, _a, _o in got])))).scalars()}
                for attempt_id, lead_id, agent_id, owner_at_start in got:
                    principal = await self._ready(session, row, refs, attempt_id, leads.get(lead_id), owner_at_start,
                                                  now)
                    if row.state != CampaignState.running.value:  # paused (its owner left) or completed by it
                        for other in dials:
                            await self._release(session, other.attempt_id, now, code=None)
                        return None
                    if principal is None:
                        set_aside += 1
                        continue
                    step = next(i for i, (a, _acc, _t) in enumerate(todo) if a == agent_id)
                    _a, account_id, turn = todo.pop(step)
                    used.append((account_id, turn))
                    dials.append(Claimed(row.id, attempt_id, lead_id, agent_id, row.call_type, principal))
            if not dials:
                return None
            interval = 1.0 / float(row.calls_per_second)
            pace = dict(row.pace or {})
            for account_id, _turn in used:
                # One late dial may catch up one interval, no more: the rate holds on average, bursts do not build.
                pace[account_id] = max(float(pace.get(account_id, 0.0)), now.timestamp() - interval) + interval
            row.pace, row.agent_turn, row.last_dispatch_at = pace, used[-1][1], now
            usable = [pace.get(a.account_id, 0.0) for agent_id in row.agent_ids
                      if (a := refs.agents.get(agent_id)) is not None and a.enabled and a.account_id in refs.limits]
            return Claims(dials, min(usable) if usable else None)

    async def _plan(self, session: AsyncSession, row: Campaign, refs: _Tenancy, on_way: list[str], now: datetime,
                    most: int) -> list[tuple[str, str, int]] | float | None:
        """Up to `most` dials the pool may make now, each (agent, account, the next turn): the pool's agents in
        turn, each whose account has a campaign slot and a pacing slot free (pacing advanced as each is taken);
        none: the earliest pacing slot (a Unix time), or None."""
        per_agent, per_account = await self.calls.live_calls(session, row.tenant_id)
        for agent_id in on_way:
            if (way := refs.agents.get(agent_id)) is not None:  # dials on their way hold their slots too
                per_agent[way.ref_id] = per_agent.get(way.ref_id, 0) + 1
                per_account[way.account_id] = per_account.get(way.account_id, 0) + 1
        pace = {k: float(v) for k, v in (row.pace or {}).items()}
        interval = 1.0 / float(row.calls_per_second)
        count = len(row.agent_ids)
        turn = row.agent_turn
        plan: list[tuple[str, str, int]] = []
        earliest: float | None = None
        while len(plan) < most:
            for step in range(count):
                agent_id = row.agent_ids[(turn + step) % count]
                ref = refs.agents.get(agent_id)
                if ref is None or not ref.enabled or ref.account_id not in refs.limits:
                    continue
                if per_account.get(ref.account_id, 0) >= campaign_slots(refs.limits[ref.account_id]):
                    continue
                if ref.max_concurrent is not None and per_agent.get(ref.ref_id, 0) >= ref.max_concurrent:
                    continue
                slot = pace.get(ref.account_id, 0.0)
                if slot > now.timestamp() + SLOT_TOLERANCE:
                    earliest = slot if earliest is None else min(earliest, slot)
                    continue
                turn = (turn + step + 1) % count
                plan.append((agent_id, ref.account_id, turn))
                per_agent[ref.ref_id] = per_agent.get(ref.ref_id, 0) + 1
                per_account[ref.account_id] = per_account.get(ref.account_id, 0) + 1
                pace[ref.account_id] = max(slot, now.timestamp() - interval) + interval
                break
            else:
                break
        return plan or earliest

    async def _ready(self, session: AsyncSession, row: Campaign, refs: _Tenancy, attempt_id: str,
                     lead: Lead | None, owner_at_start: str | None, now: datetime) -> Principal | None:
        """In the claim's transaction: whom the dial is placed as, or None when this attempt is not to be
        dialled now (moved into the campaign's own windows, skipped, or stopped: done here)."""
        tenant = refs.tenant
        user = refs.users.get(row.created_by) if row.created_by else None
        if lead is None or tenant is None:
            await self._end_attempt(session, attempt_id, AttemptState.skipped, "not_found", now)
            return None
        if user is None or not user.is_active:
            await self._release(session, attempt_id, now, code="owner_unavailable")
            row.state, row.end_code, row.updated_at = CampaignState.paused.value, "owner_unavailable", now
            mark_changed(session, row.id)
            return None
        if "won" in row.stop_on and lead.status == LeadStatus.won.value:
            await self._end_attempt(session, attempt_id, AttemptState.canceled, "stopped_won", now)
            await self._maybe_complete(session, row, now)
            return None
        if "reassigned" in row.stop_on and lead.owner_id != owner_at_start:
            await self._end_attempt(session, attempt_id, AttemptState.canceled, "stopped_reassigned", now,
                                    "the lead's owner changed after the campaign started")
            await self._maybe_complete(session, row, now)
            return None
        narrowed = campaign_windows(row)
        if narrowed is not None:
            zones = zones_for(lead, tenant)[0]
            if not allowed_at(now, zones, [narrowed]):
                following = next_allowed_at(now, zones, [narrowed])
                if following is None or (row.end_at is not None and following >= row.end_at):
                    await self._end_attempt(session, attempt_id, AttemptState.skipped, NO_WINDOW, now)
                    await self._maybe_complete(session, row, now)
                else:
                    await self._release(session, attempt_id, following, code="outside_campaign_windows")
                mark_changed(session, row.id)
                return None
        return principal_for(user, tenant, "session")

    async def _dial(self, claimed: Claimed) -> None:
        try:
            await self.calls.place_call(claimed.principal, lead_id=claimed.lead_id, agent_id=claimed.agent_id,
                                        call_type=claimed.call_type,
                                        idempotency_key=idempotency_key(claimed.attempt_id), path="campaign")
        except LeadcallError as exc:
            CAMPAIGN_DIALS.labels(result="refused", code=exc.code or "refused").inc()
            await self._refused(claimed, exc)
        else:
            CAMPAIGN_DIALS.labels(result="placed", code="").inc()

    async def _release(self, session: AsyncSession, attempt_id: str, due_at: datetime, *, code: str | None,
                       detail: str | None = None) -> None:
        await session.execute(update(CampaignAttempt).where(
            CampaignAttempt.id == attempt_id, CampaignAttempt.state == AttemptState.pending.value).values(
            due_at=due_at, claimed_until=None, code=code, detail=(detail or "")[:500] or None,
            updated_at=self.now()))

    async def _end_attempt(self, session: AsyncSession, attempt_id: str, state: AttemptState, code: str,
                           now: datetime, detail: str | None = None) -> None:
        await session.execute(update(CampaignAttempt).where(
            CampaignAttempt.id == attempt_id, CampaignAttempt.state == AttemptState.pending.value).values(
            state=state.value, claimed_until=None, code=code, detail=(detail or "")[:500] or None, updated_at=now))

    async def _refused(self, claimed: Claimed, exc: LeadcallError) -> None:
        """A placement refused before any dial: moved to when the rules allow it, skipped when they never
        will (before the campaign's end), or tried again soon (capacity, budget, provider trouble)."""
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            row = await session.get(Campaign, claimed.campaign_id)
            if row is None:
                return
            code = exc.code or "refused"
            if isinstance(exc, DialRefused):
                following = exc.verdict.next_allowed_at
                if code in MOVABLE and following is not None and (row.end_at is None or following < row.end_at):
                    await self._release(session, claimed.attempt_id, following, code=code, detail=exc.detail)
                else:
                    await self._end_attempt(session, claimed.attempt_id, AttemptState.skipped,
                                            code if code not in MOVABLE else NO_WINDOW, now, exc.detail)
            elif code == "campaign_attempt_not_open":
                await self._release(session, claimed.attempt_id, now, code=None)
            elif code in GONE:
                await self._end_attempt(session, claimed.attempt_id, AttemptState.skipped, code, now, exc.detail)
            else:
                await self._release(session, claimed.attempt_id, now + RETRY_SOON, code=code, detail=exc.detail)
            mark_changed(session, row.id)
            await self._maybe_complete(session, row, now)

    async def _maybe_complete(self, session: AsyncSession, row: Campaign, now: datetime) -> None:
        await session.flush()
        if row.state == CampaignState.running.value and not await repository.has_open(session, row.id):
            await self.campaigns.finish(session, row, CampaignState.completed, "all_called", now)
        mark_changed(session, row.id)

    # -- when a call ends --------------------------------------------------------------------------

    async def settle(self, session: AsyncSession, call: CallLog) -> None:
        """Placement hook after a call ended (runs again whenever an ended call changes): the attempt takes
        the call's result and cost; the first time, the retry policy and the stop conditions decide whether
        the lead gets another attempt. Any other call of a lead whose outcome is a stop condition ends that
        lead's pending attempts."""
        key = call.idempotency_key or ""
        if not key.startswith(KEY_PREFIX):
            await self._stopped_otherwise(session, call)
            return
        attempt = await repository.unscoped_attempt_of_call(session, call.id)
        if attempt is None:
            return
        now = self.now()
        outcome = call.sales_result or (call.phone_result if call.phone_result != PhoneResult.failed.value else None)
        attempt.phone_result, attempt.outcome, attempt.cost = call.phone_result, outcome, call.cost
        attempt.duration_seconds = call.duration_seconds
        if call.opted_out:
            attempt.code = "opted_out"
        attempt.updated_at = now
        on_commit(session, self.wake)  # a live call ended: its slot is free
        mark_changed(session, attempt.campaign_id)
        if attempt.state != AttemptState.dialing.value:
            return
        attempt.state = AttemptState.done.value
        row = await session.get(Campaign, attempt.campaign_id, with_for_update=True)
        if row is None:
            return
        reason = stop_reason(row.stop_on, call)
        if reason is not None:
            attempt.detail = f"stopped: {reason}"
        elif row.state not in ENDED and call.phone_result in RETRY_RESULTS:
            await self._retry(session, row, attempt, str(call.phone_result), now)
        await self._maybe_complete(session, row, now)

    async def _retry(self, session: AsyncSession, row: Campaign, attempt: CampaignAttempt, result: str,
                     now: datetime) -> None:
        rule = getattr(RetryPolicy.model_validate(row.retry), result)
        if attempt.attempt >= rule.max_attempts:
            attempt.detail = f"no more attempts ({rule.max_attempts} at most after {result})"
            return
        due = now + timedelta(seconds=rule.after_seconds)
        if row.end_at is not None and due >= row.end_at:
            attempt.detail = "no retry before the campaign's end"
            return
        lead = await session.get(Lead, attempt.lead_id)
        tenant = await session.get(Tenant, row.tenant_id)
        session.add(CampaignAttempt(
            tenant_id=attempt.tenant_id, organization_id=attempt.organization_id, campaign_id=row.id,
            lead_id=attempt.lead_id, attempt=attempt.attempt + 1, state=AttemptState.pending.value, due_at=due,
            code=f"retry_{result}", lead_local_hour=lead_local_hour(lead, tenant, due) if lead and tenant else None,
            lead_owner_id=attempt.lead_owner_id,
            created_at=now, updated_at=now))

    async def _stopped_otherwise(self, session: AsyncSession, call: CallLog) -> None:
        pending = list((await session.execute(select(CampaignAttempt, Campaign.stop_on).join(
            Campaign, Campaign.id == CampaignAttempt.campaign_id).where(
            CampaignAttempt.tenant_id == call.tenant_id, CampaignAttempt.lead_id == call.lead_id,
            CampaignAttempt.state == AttemptState.pending.value))).all())
        now = self.now()
        for attempt, stop_on in pending:
            reason = stop_reason(stop_on, call)
            if reason is not None:
                await self._end_attempt(session, attempt.id, AttemptState.canceled, f"stopped_{reason}", now,
                                        f"the lead's call {call.id} ended with {reason}")
                row = await session.get(Campaign, attempt.campaign_id, with_for_update=True)
                if row is not None:
                    await self._maybe_complete(session, row, now)


def stop_reason(stop_on: list[Any], call: CallLog) -> str | None:
    if call.opted_out and "opted_out" in stop_on:
        return "opted_out"
    if call.sales_result in stop_on:
        return str(call.sales_result)
    return None
