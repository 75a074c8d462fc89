"""Budgets, holds, alerts and usage.

Admission (race-free): before a call is dialled, its estimated cost is held on the call log
(`reserved_cost`) inside the placement's reservation transaction, which holds the tenant's placement
lock (below). Admission spending = real costs of ended calls + holds of live calls this month, so
concurrent placements can never together exceed the limit. When the call ends (its real cost known,
or none) the hold is released. Holds are for admission only: alerts, and what "spent" means, are
about real costs.

Alerts are a job: a settled cost enqueues `check_budget_alerts` for its team after commit, and the
job raises each threshold the month's real spending has crossed, once (a unique row per budget,
month and threshold), so a job run twice or by two workers raises nothing twice. The worker's sweep
re-checks every budget now and then, for a check whose job was lost with its process.

Lock order (PostgreSQL; SQLite serializes every writer with BEGIN IMMEDIATE). Every path that
touches tenants, budgets, holds and alerts follows it, and each of its transactions is short (no
provider or Redis request inside):

1. the tenant row, `SELECT … FOR NO KEY UPDATE` — taken only by a placement's reservation, first
   (calls/service.py `_reserve`). It serializes one tenant's admissions; it does not conflict with
   the KEY SHARE locks that foreign-key checks take on the tenant (every insert of a row naming the
   tenant: call events, alerts, holds' call logs), so it never waits for, nor blocks, a job's insert.
   Nothing takes the tenant row `FOR UPDATE`.
2. budget rows are read, never locked, by admission (the tenant lock already serializes it); an
   admin's budget edit updates one budget row in its own request; an alert's insert takes KEY SHARE
   on its budget, which conflicts with no lock that admission or an edit holds.
3. the call's own row: the reservation inserts it; the post-dial record (`_record_ringing`,
   `_record_outcome`) updates only that row and inserts its audit row, so no lock a job can hold
   stands between a dialled call and its conversation id; jobs that end a call (webhook, poll,
   reconciler) lock that call's row first, then release its hold on it (`settle`) in the same
   transaction.
4. the agent's and the lead's counters after a dial: a transaction of their own, after the record.
5. budget alerts: the job reads spending in a read-only transaction, then inserts only the alerts
   due in a second one that holds no other lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.billing.models import DEFAULT_THRESHOLDS, Budget, BudgetAlert
from leadcall.calls.models import CallLog
from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import BudgetExceeded, Invalid, RateLimited
from leadcall.core.events import Event, EventHub
from leadcall.core.jobs import JobQueue
from leadcall.core.ratelimit import Limit, RateLimiter
from leadcall.core.scoping import Scope, ScopedRepository
from leadcall.integrations import outbox
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import OrganizationRepository, unscoped_get_tenant
from leadcall.voice.models import ElevenLabsAccount


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


class BudgetRepository(ScopedRepository[Budget]):
    model = Budget
    label = "budget"

    def scoped_select(self) -> Select[Budget]:
        # Tenant-wide budgets apply to every organization; an organization's only to itself.
        stmt = select(Budget).where(Budget.tenant_id == self.scope.tenant_id)
        if self.scope.organization_id is not None:
            stmt = stmt.where(or_(Budget.organization_id.is_(None), Budget.organization_id == self.scope.organization_id))
        return stmt

    async def list(self) -> list[Budget]:
        return list((await self.session.execute(self.scoped_select().order_by(Budget.created_at))).scalars())


class AlertRepository(ScopedRepository[BudgetAlert]):
    model = BudgetAlert
    label = "alert"

    def scoped_select(self) -> Select[BudgetAlert]:
        # Tenant-wide alerts (no organization) are everyone's; an organization's only its own.
        stmt = select(BudgetAlert).where(BudgetAlert.tenant_id == self.scope.tenant_id)
        if self.scope.organization_id is not None:
            stmt = stmt.where(or_(BudgetAlert.organization_id.is_(None),
                                  BudgetAlert.organization_id == self.scope.organization_id))
        return stmt

    async def recent(self, limit: int = 50) -> list[BudgetAlert]:
        stmt = self.scoped_select().order_by(BudgetAlert.created_at.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    spent: float
    reserved: float
    period_start: datetime
    period_end: datetime
    forecast: float

    @property
    def used_percent(self) -> float:
        return round(100 * (self.spent + self.reserved) / self.budget.monthly_limit, 1) if self.budget.monthly_limit else 0


ALERTS_JOB = "check_budget_alerts"
ALERTS_SWEEP_SECONDS = 300  # how often the sweep re-checks every budget


class BillingService:
    def __init__(self, *, clock: Clock, events: EventHub, limiter: RateLimiter, per_user_per_minute: int,
                 per_tenant_per_minute: int, sessionmaker: async_sessionmaker[AsyncSession],
                 read_sessionmaker: async_sessionmaker[AsyncSession], jobs: JobQueue | None) -> None:
        self.clock = clock
        self.events = events
        self.limiter = limiter
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = read_sessionmaker
        self.jobs = jobs
        self.per_user = per_user_per_minute
        self.per_tenant = per_tenant_per_minute

    # -- rate limits ---------------------------------------------------------------------

    async def admit(self, principal: Principal, idempotency_key: str | None) -> Callable[[], Awaitable[None]]:
        """Counts a placement attempt against the user's and the team's limits (429 when either is
        reached), once per idempotency key; returns how to give it back, for an attempt refused
        afterwards (budget, busy lead, unavailable agent…): only placements count."""
        limits = (Limit(f"place:user:{principal.user_id}", self.per_user, 60.0),
                  Limit(f"place:tenant:{principal.tenant_id}", self.per_tenant, 60.0))
        event = f"key:{principal.user_id}:{idempotency_key}" if idempotency_key is not None else uuid.uuid4().hex
        refused = await self.limiter.hit(*limits, event=event)
        if refused is None:
            async def give_back() -> None:
                await self.limiter.forget(event, *limits)

            return give_back
        who, code = (("you", "placements_limited_user"), ("your team", "placements_limited_tenant"))[refused.index]
        limit, wait = limits[refused.index].limit, int(refused.wait_seconds)
        raise RateLimited(f"{who} placed {limit} calls in the last minute, the most allowed; "
                          f"try again in {wait} s", retry_after_seconds=wait, code=code, params={"limit": limit})

    # -- spending ---------------------------------------------------------------------------

    async def _spending(self, session: AsyncSession, budget: Budget, start: datetime,
                        end: datetime) -> tuple[float, float]:
        """(real costs of ended calls, holds of live calls) in [start, end) for the budget's scope."""
        stmt = select(
            func.coalesce(func.sum(case((CallLog.reserved_cost.is_(None), func.coalesce(CallLog.cost, 0)), else_=0)), 0),
            func.coalesce(func.sum(func.coalesce(CallLog.reserved_cost, 0)), 0),
        ).where(CallLog.tenant_id == budget.tenant_id, CallLog.created_at >= start, CallLog.created_at < end)
        if budget.organization_id is not None:
            stmt = stmt.where(CallLog.organization_id == budget.organization_id)
        spent, reserved = (await session.execute(stmt)).one()
        return float(spent), float(reserved)

    async def _budgets_for(self, session: AsyncSession, tenant_id: str, organization_id: str) -> list[Budget]:
        stmt = (select(Budget).where(Budget.tenant_id == tenant_id,
                                     or_(Budget.organization_id.is_(None), Budget.organization_id == organization_id))
                .order_by(Budget.id))
        return list((await session.execute(stmt)).scalars())

    async def reserve(self, session: AsyncSession, call: CallLog, account: ElevenLabsAccount) -> None:
        """Holds the call's estimated cost, or refuses (402). The caller holds the tenant's placement lock
        (lock order, step 1), so the spending read here cannot be overtaken."""
        now = utc_datetime(self.clock)
        start, end = month_bounds(now)
        hold = 0.0
        budgets = await self._budgets_for(session, call.tenant_id, call.organization_id)
        if not budgets:
            return
        for budget in budgets:
            spent, reserved = await self._spending(session, budget, start, end)
            estimate = float(budget.estimated_call_cost)
            if spent + reserved + estimate > float(budget.monthly_limit) + 1e-9:
                tenant = await unscoped_get_tenant(session, call.tenant_id)
                currency = tenant.currency if tenant else ""
                which = "your team's" if budget.organization_id else "the"
                raise BudgetExceeded(
                    f"{which} monthly budget of {budget.monthly_limit:.2f} {currency} is spent "
                    f"({spent + reserved:.2f} {currency} used or held for live calls); new calls can be placed "
                    f"again from {end.date().isoformat()}, or an admin can raise the budget",
                    extra={"until": end.isoformat(), "budgetId": budget.id},
                    code="team_budget_spent" if budget.organization_id else "budget_spent",
                    params={"limit": round(float(budget.monthly_limit), 2), "currency": currency,
                            "used": round(spent + reserved, 2), "until": end.date().isoformat()})
            hold = max(hold, estimate)
        call.reserved_cost = hold if hold else None  # a hold changes no alert: alerts are about real spend

    async def settle(self, session: AsyncSession, call: CallLog) -> None:
        """The call has ended: its hold goes, its real cost (if any) is now spending."""
        if call.reserved_cost is None and not call.cost:
            return
        call.reserved_cost = None
        self._check_alerts_after_commit(session, call.tenant_id, call.organization_id)

    # -- alerts (a job) ---------------------------------------------------------------------

    def _check_alerts_after_commit(self, session: AsyncSession, tenant_id: str, organization_id: str) -> None:
        async def enqueue() -> None:
            if self.jobs is not None:
                # Never coalesced with a check already queued or running: that one may have read the
                # spending before this transaction committed.
                await self.jobs.enqueue(ALERTS_JOB, tenant_id, organization_id, unique=False)

        on_commit(session, enqueue)

    async def check_alerts(self, tenant_id: str, organization_id: str) -> int:
        """The job: raise the thresholds this team's budgets (its own and the tenant's) have crossed this
        month and not yet raised. Returns how many it raised."""
        now = utc_datetime(self.clock)
        async with transaction(self.read_sessionmaker) as session:  # most checks find nothing to write
            budgets = await self._budgets_for(session, tenant_id, organization_id)
            due = await self._alerts_due(session, budgets, now)
        return await self._raise(due)

    async def check_all_alerts(self) -> int:
        """The sweep's safety net: every budget of every tenant, for a check whose job was lost."""
        now = utc_datetime(self.clock)
        async with transaction(self.read_sessionmaker) as session:
            budgets = list((await session.execute(select(Budget).order_by(Budget.id))).scalars())
            due = await self._alerts_due(session, budgets, now)
        return await self._raise(due)

    async def _alerts_due(self, session: AsyncSession, budgets: list[Budget], now: datetime) -> list[BudgetAlert]:
        if not budgets:
            return []
        start, end = month_bounds(now)
        period = start.strftime("%Y-%m")
        rows = await session.execute(select(BudgetAlert.budget_id, BudgetAlert.threshold)
                                     .where(BudgetAlert.budget_id.in_([b.id for b in budgets]),
                                            BudgetAlert.period == period))
        raised = {(budget_id, int(threshold)) for budget_id, threshold in rows.all()}
        due = []
        for budget in budgets:
            spent, _held = await self._spending(session, budget, start, end)  # holds are not spending
            for threshold in sorted(int(t) for t in budget.thresholds):
                if (budget.id, threshold) in raised or spent + 1e-9 < float(budget.monthly_limit) * threshold / 100:
                    continue
                due.append(BudgetAlert(tenant_id=budget.tenant_id, budget_id=budget.id,
                                       organization_id=budget.organization_id, period=period, threshold=threshold,
                                       spent=round(spent, 4), monthly_limit=budget.monthly_limit, created_at=now))
        return due

    async def _raise(self, due: list[BudgetAlert]) -> int:
        """Writes the alerts and tells the browsers; one another worker raised first is skipped."""
        if not due:
            return 0
        raised = 0
        async with transaction(self.sessionmaker) as session:
            for alert in due:
                try:
                    async with session.begin_nested():
                        session.add(alert)
                        await session.flush()
                except IntegrityError:
                    continue  # this threshold was raised this month by another check
                raised += 1
                data = {"alertId": alert.id, "budgetId": alert.budget_id, "organizationId": alert.organization_id,
                        "threshold": alert.threshold, "spent": round(float(alert.spent), 2),
                        "monthlyLimit": alert.monthly_limit, "period": alert.period}
                # Its outgoing webhooks in the alert's own transaction (an alert raised twice is written once).
                await outbox.record(session, tenant_id=alert.tenant_id, organization_id=alert.organization_id,
                                    event_type="budget.alert", subject=f"budget:{alert.budget_id}", data=data,
                                    now=alert.created_at)
                event = Event("budget.alert", alert.tenant_id, alert.organization_id, data)

                async def publish(event: Event = event) -> None:
                    await self.events.publish(event)

                on_commit(session, publish)
        return raised

    # -- budgets ------------------------------------------------------------------------------

    async def status(self, session: AsyncSession, budget: Budget) -> BudgetStatus:
        now = utc_datetime(self.clock)
        start, end = month_bounds(now)
        spent, reserved = await self._spending(session, budget, start, end)
        elapsed = max((now - start).total_seconds(), 3600.0)
        forecast = spent / elapsed * (end - start).total_seconds()
        return BudgetStatus(budget, spent, reserved, start, end, round(forecast, 2))

    async def statuses(self, session: AsyncSession, scope: Scope) -> list[BudgetStatus]:
        return [await self.status(session, b) for b in await BudgetRepository(session, scope).list()]

    async def recent_alerts(self, session: AsyncSession, scope: Scope, limit: int = 10) -> list[BudgetAlert]:
        return await AlertRepository(session, scope).recent(limit)

    async def alert(self, session: AsyncSession, scope: Scope, alert_id: str) -> BudgetAlert:
        return await AlertRepository(session, scope).get(alert_id)

    async def put_budget(self, session: AsyncSession, scope: Scope, *, organization_id: str | None,
                         monthly_limit: float, thresholds: list[int] | None, estimated_call_cost: float | None,
                         now: datetime) -> Budget:
        if organization_id is not None:
            await OrganizationRepository(session, scope).get(organization_id)
        if thresholds is not None and any(t <= 0 or t > 100 for t in thresholds):
            raise Invalid("thresholds are percentages between 1 and 100", extra={"field": "thresholds"},
                          code="thresholds_invalid")
        key = organization_id or "tenant"
        repo = BudgetRepository(session, scope)
        existing = (await session.execute(repo.scoped_select().where(Budget.scope_key == key))).scalar_one_or_none()
        budget = existing or Budget(tenant_id=scope.tenant_id, organization_id=organization_id, scope_key=key,
                                    thresholds=list(DEFAULT_THRESHOLDS), created_at=now)
        budget.monthly_limit = monthly_limit
        if thresholds is not None:
            budget.thresholds = sorted(set(thresholds))
        if estimated_call_cost is not None:
            budget.estimated_call_cost = estimated_call_cost
        budget.updated_at = now
        if existing is None:
            repo.add(budget)
        await session.flush()
        return budget

    async def delete_budget(self, session: AsyncSession, scope: Scope, budget_id: str) -> None:
        budget = await BudgetRepository(session, scope).get(budget_id)
        await session.delete(budget)
        await session.flush()
