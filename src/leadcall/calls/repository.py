from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import LIVE, CallEvent, CallLog, SalesResult, WebhookDelivery
from leadcall.campaigns.models import CampaignAttempt
from leadcall.core.scoping import ScopedRepository
from leadcall.leads.models import Lead

_LIVE_VALUES = [s.value for s in LIVE]
_SALES_RESULTS = {s.value for s in SalesResult}


class CallRepository(ScopedRepository[CallLog]):
    model = CallLog
    label = "call"

    async def history(self, lead_id: str, *, limit: int, after: tuple[datetime, str] | None) -> list[CallLog]:
        """Newest first, keyset-paginated on (created_at, id); no OFFSET."""
        stmt = self.scoped_select().where(CallLog.lead_id == lead_id)
        if after is not None:
            stmt = stmt.where(tuple_(CallLog.created_at, CallLog.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(CallLog.created_at.desc(), CallLog.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def by_idempotency_key(self, user_id: str, key: str) -> CallLog | None:
        stmt = self.scoped_select().where(CallLog.user_id == user_id, CallLog.idempotency_key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def live_counts(self, lead_id: str | None = None) -> tuple[dict[str, int], dict[str, int], int]:
        """Live calls per agent reference and per account of this tenant, and how many of them are
        to `lead_id`, in one grouped query."""
        on_lead = func.sum(case((CallLog.lead_id == lead_id, 1), else_=0)) if lead_id else literal(0)
        stmt = (select(CallLog.agent_ref_id, CallLog.account_id, func.count(), on_lead)
                .where(CallLog.tenant_id == self.scope.tenant_id, CallLog.status.in_(_LIVE_VALUES))
                .group_by(CallLog.agent_ref_id, CallLog.account_id))
        per_agent: dict[str, int] = {}
        per_account: dict[str, int] = {}
        lead_calls = 0
        for agent_ref_id, account_id, count, to_lead in (await self.session.execute(stmt)).all():
            per_agent[agent_ref_id] = per_agent.get(agent_ref_id, 0) + int(count)
            per_account[account_id] = per_account.get(account_id, 0) + int(count)
            lead_calls += int(to_lead or 0)
        return per_agent, per_account, lead_calls

    async def events(self, call_id: str) -> list[CallEvent]:
        stmt = (select(CallEvent).where(CallEvent.tenant_id == self.scope.tenant_id, CallEvent.call_id == call_id)
                .order_by(CallEvent.at, CallEvent.seq))
        return list((await self.session.execute(stmt)).scalars())


async def unscoped_due_calls(session: AsyncSession, now: datetime, limit: int = 100) -> list[str]:
    """The worker's view across tenants: calls whose next check is due (live ones, and canceled
    ones still waiting for their final data)."""
    stmt = (select(CallLog.id).where(CallLog.next_check_at <= now)
            .order_by(CallLog.next_check_at).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def unscoped_overdue_calls(session: AsyncSession, now: datetime, limit: int = 100) -> list[str]:
    """Live calls past their deadline, or live without a scheduled check: the reconciler's work."""
    stmt = (select(CallLog.id).where(CallLog.status.in_(_LIVE_VALUES),
                                     (CallLog.deadline_at <= now) | CallLog.next_check_at.is_(None))
            .order_by(CallLog.created_at).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def unscoped_get_call(session: AsyncSession, call_id: str, *, for_update: bool = False) -> CallLog | None:
    stmt = select(CallLog).where(CallLog.id == call_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def unscoped_call_by_conversation(session: AsyncSession, account_id: str, conversation_id: str,
                                        *, for_update: bool = False) -> CallLog | None:
    """Webhooks name the account (URL) and the conversation; together they find the call."""
    stmt = select(CallLog).where(CallLog.account_id == account_id, CallLog.conversation_id == conversation_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def unscoped_claim_pending_webhooks(session: AsyncSession, now: datetime, lease_until: datetime,
                                          limit: int = 100) -> list[str]:
    """Claims stored webhooks not processed yet whose turn has come (`retry_at`: the lease of the job enqueued
    on arrival, a kept delivery's next look, a claim that lapsed): leased to the caller until `lease_until`, so
    sweeps running at once take different ones. Oldest first."""
    due = (WebhookDelivery.processed_at.is_(None) & (WebhookDelivery.attempts < 10)
           & (WebhookDelivery.retry_at.is_(None) | (WebhookDelivery.retry_at <= now)))
    oldest = select(WebhookDelivery.id).where(due).order_by(WebhookDelivery.received_at).limit(limit)
    # The condition again on the row itself: a concurrent claim of the same row (PostgreSQL re-reads it once
    # that claim commits) then finds it leased and skips it.
    claimed = await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(oldest.scalar_subquery()), due)
        .values(retry_at=lease_until).returning(WebhookDelivery.id, WebhookDelivery.received_at)
        .execution_options(synchronize_session=False))
    return [row.id for row in sorted(claimed, key=lambda row: (row.received_at, row.id))]


async def unscoped_unbound_call_exists(session: AsyncSession, account_id: str, agent_id: str | None, *,
                                       placed_before: datetime) -> bool:
    """Is a live call of this account (and agent) still without its conversation id?"""
    stmt = select(CallLog.id).where(CallLog.account_id == account_id, CallLog.conversation_id.is_(None),
                                    CallLog.status.in_(_LIVE_VALUES), CallLog.created_at <= placed_before)
    if agent_id is not None:
        stmt = stmt.where(CallLog.agent_id == agent_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def claim_check(session: AsyncSession, call_id: str, expected_checks: int, next_check_at: datetime) -> bool:
    """Moves a call's next check forward only if nobody else did (optimistic claim between workers)."""
    result = await session.execute(
        update(CallLog).where(CallLog.id == call_id, CallLog.checks_made == expected_checks)
        .values(checks_made=expected_checks + 1, next_check_at=next_check_at))
    return bool(getattr(result, "rowcount", 0) == 1)


def calls_filtered(scope_stmt: Select[CallLog], *, since: datetime | None, until: datetime | None,
                   agent_id: str | None, outcome: str | None, user_id: str | None,
                   organization_id: str | None, campaign_id: str | None = None) -> Select[CallLog]:
    """GET /api/calls' filters on a scoped select of calls. `outcome` is the call's outcome as the API shows
    it: a sales result, or else its phone result."""
    stmt = scope_stmt
    if since is not None:
        stmt = stmt.where(CallLog.created_at >= since)
    if until is not None:
        stmt = stmt.where(CallLog.created_at < until)
    if agent_id:
        stmt = stmt.where(CallLog.agent_id == agent_id)
    if user_id:
        stmt = stmt.where(CallLog.user_id == user_id)
    if organization_id:
        stmt = stmt.where(CallLog.organization_id == organization_id)
    if campaign_id:  # the calls the campaign's attempts placed (of the caller's tenant: the scope says so)
        stmt = stmt.where(CallLog.id.in_(select(CampaignAttempt.call_id).where(
            CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.tenant_id == CallLog.tenant_id)))
    if outcome in _SALES_RESULTS:
        stmt = stmt.where(CallLog.sales_result == outcome)
    elif outcome:
        stmt = stmt.where(CallLog.sales_result.is_(None), CallLog.phone_result == outcome)
    return stmt


class CallListing(CallRepository):
    """Calls across leads, newest first, keyset-paginated on (created_at, id)."""

    async def page(self, *, limit: int, after: tuple[datetime, str] | None, **filters: Any) -> list[CallLog]:
        stmt = calls_filtered(self.scoped_select(), **filters)
        if after is not None:
            stmt = stmt.where(tuple_(CallLog.created_at, CallLog.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(CallLog.created_at.desc(), CallLog.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def page_with_leads(self, *, limit: int, after: tuple[datetime, str] | None,
                              **filters: Any) -> list[tuple[CallLog, str | None, str | None]]:
        """A page of calls with their lead's name and CRM id (the export's rows)."""
        stmt = (calls_filtered(self.scoped_select(), **filters)
                .join(Lead, Lead.id == CallLog.lead_id).add_columns(Lead.name, Lead.external_id))
        if after is not None:
            stmt = stmt.where(tuple_(CallLog.created_at, CallLog.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(CallLog.created_at.desc(), CallLog.id.desc()).limit(limit)
        return [(row[0], row[1], row[2]) for row in (await self.session.execute(stmt)).all()]
