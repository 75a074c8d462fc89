"""Campaigns' SQL: the scoped repositories, the progress counts, and the dispatcher's unscoped reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import CallLog
from leadcall.campaigns.models import AttemptState, Campaign, CampaignAttempt, CampaignState
from leadcall.core.scoping import ScopedRepository
from leadcall.scheduling import lease

PENDING = (CampaignAttempt.state == AttemptState.pending.value,)
OPEN_STATES = (AttemptState.pending.value, AttemptState.dialing.value)


class CampaignRepository(ScopedRepository[Campaign]):
    model = Campaign
    label = "campaign"

    async def page(self, *, limit: int, after: tuple[datetime, str] | None,
                   state: str | None) -> list[Campaign]:
        stmt = self.scoped_select()
        if state:
            stmt = stmt.where(Campaign.state == state)
        if after is not None:
            stmt = stmt.where(tuple_(Campaign.created_at, Campaign.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())


class AttemptRepository(ScopedRepository[CampaignAttempt]):
    model = CampaignAttempt
    label = "attempt"

    async def page(self, campaign_id: str, *, limit: int, after: tuple[datetime, str] | None,
                   state: str | None, lead_id: str | None) -> list[CampaignAttempt]:
        """Oldest first (a lead's attempts in their order), keyset-paginated on (created_at, id)."""
        stmt = self.scoped_select().where(CampaignAttempt.campaign_id == campaign_id)
        if state:
            stmt = stmt.where(CampaignAttempt.state == state)
        if lead_id:
            stmt = stmt.where(CampaignAttempt.lead_id == lead_id)
        if after is not None:
            stmt = stmt.where(tuple_(CampaignAttempt.created_at, CampaignAttempt.id) > tuple_(after[0], after[1]))
        stmt = stmt.order_by(CampaignAttempt.created_at, CampaignAttempt.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def all_of(self, campaign_id: str) -> list[CampaignAttempt]:
        return list((await self.session.execute(self.scoped_select().where(
            CampaignAttempt.campaign_id == campaign_id).order_by(CampaignAttempt.lead_id,
                                                                 CampaignAttempt.attempt))).scalars())


def latest_attempts(campaign_id: str) -> Any:
    """Each lead's latest attempt of the campaign (its state is the lead's state in the campaign)."""
    latest = (select(CampaignAttempt.lead_id, func.max(CampaignAttempt.attempt).label("n"))
              .where(CampaignAttempt.campaign_id == campaign_id).group_by(CampaignAttempt.lead_id).subquery())
    return select(CampaignAttempt).join(latest, and_(CampaignAttempt.lead_id == latest.c.lead_id,
                                                      CampaignAttempt.attempt == latest.c.n)).where(
        CampaignAttempt.campaign_id == campaign_id)


async def state_counts(session: AsyncSession, campaign_id: str) -> dict[str, int]:
    rows = latest_attempts(campaign_id).subquery()
    found = await session.execute(select(rows.c.state, func.count()).group_by(rows.c.state))
    return {str(state): int(n) for state, n in found.all()}


async def outcome_counts(session: AsyncSession, campaign_id: str) -> dict[str, int]:
    rows = latest_attempts(campaign_id).subquery()
    found = await session.execute(select(rows.c.outcome, func.count()).where(
        rows.c.state == AttemptState.done.value, rows.c.outcome.is_not(None)).group_by(rows.c.outcome))
    return {str(outcome): int(n) for outcome, n in found.all()}


async def attempts_cost(session: AsyncSession, campaign_id: str) -> float:
    total = (await session.execute(select(func.coalesce(func.sum(CampaignAttempt.cost), 0)).where(
        CampaignAttempt.campaign_id == campaign_id))).scalar_one()
    return float(total or 0)


async def spent_and_held(session: AsyncSession, campaign_id: str) -> float:
    """What the campaign's calls cost so far: real costs of ended calls, budget holds of live ones."""
    calls = select(CampaignAttempt.call_id).where(CampaignAttempt.campaign_id == campaign_id,
                                                  CampaignAttempt.call_id.is_not(None))
    total = (await session.execute(select(func.coalesce(func.sum(case(
        (CallLog.reserved_cost.is_(None), func.coalesce(CallLog.cost, 0)), else_=CallLog.reserved_cost)), 0))
        .where(CallLog.id.in_(calls)))).scalar_one()
    return float(total)


def _claimed(now: datetime) -> Any:
    """Claimed by a live dispatcher, not reserved yet: a dial on its way, counted as a live call already."""
    return and_(CampaignAttempt.state == AttemptState.pending.value, CampaignAttempt.claimed_until >= now)


async def dialing_count(session: AsyncSession, campaign_id: str) -> int:
    return int((await session.execute(select(func.count()).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.state == AttemptState.dialing.value)))
        .scalar_one())


async def unscoped_claims_on_way(session: AsyncSession, now: datetime) -> list[tuple[str, str, str | None]]:
    """Every dial on its way (claimed by a live dispatcher, not reserved yet) as (campaign, tenant, agent): a
    handful of rows, read from `ix_campaign_attempts_claimed` (the filter names no campaign or tenant, so no
    database walks a 100,000-lead campaign's pending attempts to find them); callers keep their own."""
    return [(str(c), str(t), a) for c, t, a in (await session.execute(select(
        CampaignAttempt.campaign_id, CampaignAttempt.tenant_id, CampaignAttempt.agent_id).where(
        _claimed(now)))).all()]


async def has_open(session: AsyncSession, campaign_id: str) -> bool:
    """Whether any attempt is still pending or dialling (stops at the first instead of counting them all)."""
    return (await session.execute(select(CampaignAttempt.id).where(
        CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.state.in_(OPEN_STATES)).limit(1))).first() \
        is not None


# -- the dispatcher (unscoped: it serves every tenant) ------------------------------------------------

async def unscoped_dispatchable(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Running campaigns with a due attempt nobody holds, the one that dialled longest ago first (round robin:
    each round gives every campaign one dial at most, so a big campaign cannot starve a small one)."""
    has_due = exists().where(CampaignAttempt.campaign_id == Campaign.id,
                             *lease.due(CampaignAttempt, now, PENDING))
    stmt = (select(Campaign.id).where(Campaign.state == CampaignState.running.value, has_due)
            .order_by(Campaign.last_dispatch_at.is_not(None), Campaign.last_dispatch_at, Campaign.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def unscoped_to_start(session: AsyncSession, now: datetime) -> list[str]:
    return list((await session.execute(select(Campaign.id).where(
        Campaign.state == CampaignState.scheduled.value, Campaign.start_at <= now))).scalars())


async def unscoped_past_end(session: AsyncSession, now: datetime) -> list[str]:
    return list((await session.execute(select(Campaign.id).where(
        Campaign.state.in_((CampaignState.running.value, CampaignState.paused.value,
                            CampaignState.scheduled.value)), Campaign.end_at <= now))).scalars())


async def unscoped_lock_running(session: AsyncSession, campaign_id: str) -> Campaign | None:
    """The campaign's row, locked for this claim (PostgreSQL: another dispatcher claiming for it skips it),
    only while it is running: a pause or cancel committed before this read stops the claim."""
    row: Campaign | None = (await session.execute(select(Campaign).where(
        Campaign.id == campaign_id, Campaign.state == CampaignState.running.value)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))).scalar_one_or_none()
    return row


async def unscoped_attempt_of_call(session: AsyncSession, call_id: str) -> CampaignAttempt | None:
    row: CampaignAttempt | None = (await session.execute(select(CampaignAttempt).where(
        CampaignAttempt.call_id == call_id).with_for_update())).scalar_one_or_none()
    return row
