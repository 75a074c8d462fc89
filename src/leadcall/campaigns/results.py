"""A campaign's results: its attempts, the CSV of them, and the report (connect rate without voicemail,
interested leads, callbacks, opt-outs, minutes, cost and cost per interested lead, by agent and by the
hour of the lead's local day)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.campaigns import repository, schemas
from leadcall.campaigns.models import AttemptState, CampaignAttempt
from leadcall.campaigns.service import attempt_wire, page_after, wire_state
from leadcall.core.db import transaction
from leadcall.kit.pagination import encode_cursor
from leadcall.kit.spreadsheet import csv_stream
from leadcall.leads.models import Lead
from leadcall.rules.service import iso
from leadcall.tenancy.models import Tenant
from leadcall.tenancy.principal import Principal


async def attempts(session: AsyncSession, principal: Principal, campaign_id: str, now: datetime, *,
                   limit: int, cursor: str | None, state: str | None,
                   lead_id: str | None) -> schemas.AttemptPage:
    row = await repository.CampaignRepository(session, principal.scope).get(campaign_id)
    limit = max(1, min(limit, 500))
    stored = "pending" if state == "due" else state
    rows = await repository.AttemptRepository(session, principal.scope).page(
        row.id, limit=limit + 1, after=page_after(cursor), state=stored, lead_id=lead_id)
    if state == "due":
        rows = [r for r in rows if r.due_at <= now]
    more = len(rows) > limit
    rows = rows[:limit]
    names = dict((await session.execute(select(Lead.id, Lead.name).where(
        Lead.tenant_id == principal.tenant_id, Lead.erased_at.is_(None),
        Lead.id.in_({r.lead_id for r in rows})))).all()) if rows else {}
    return schemas.AttemptPage(items=[attempt_wire(r, now, names.get(r.lead_id)) for r in rows],
                               next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)


EXPORT_HEADER = ("leadId", "leadName", "company", "phone", "attempt", "state", "dueAt", "callId", "agentId",
                 "phoneResult", "outcome", "code", "detail", "cost", "durationSeconds")
EXPORT_CHUNK = 1000


async def export(session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], principal: Principal,
                 campaign_id: str, now: datetime) -> AsyncIterator[bytes]:
    """The campaign's attempts as CSV (one row each, by lead and attempt), streamed: read in keyset chunks, each
    in a short transaction of its own, so memory is one chunk's whatever the campaign's size. The campaign is
    looked up first (another tenant's answers 404 before anything is sent)."""
    row = await repository.CampaignRepository(session, principal.scope).get(campaign_id)
    return csv_stream(EXPORT_HEADER, _attempt_batches(sessionmaker, principal, row.id, now, EXPORT_CHUNK))


async def _attempt_batches(sessionmaker: async_sessionmaker[AsyncSession], principal: Principal, campaign_id: str,
                           now: datetime, chunk: int) -> AsyncIterator[list[list[object]]]:
    after: tuple[str, int] | None = None
    while True:
        async with transaction(sessionmaker) as session:
            stmt = (repository.AttemptRepository(session, principal.scope).scoped_select()
                    .where(CampaignAttempt.campaign_id == campaign_id)
                    .outerjoin(Lead, Lead.id == CampaignAttempt.lead_id)
                    .add_columns(Lead.name, Lead.company, Lead.phone))
            if after is not None:
                stmt = stmt.where(tuple_(CampaignAttempt.lead_id, CampaignAttempt.attempt) > tuple_(*after))
            rows = (await session.execute(stmt.order_by(CampaignAttempt.lead_id, CampaignAttempt.attempt)
                                          .limit(chunk))).all()
            batch: list[list[object]] = [
                [a.lead_id, name or "", company or "", phone or "", a.attempt, wire_state(a, now), iso(a.due_at),
                 a.call_id or "", a.agent_id or "", a.phone_result or "", a.outcome or "", a.code or "",
                 a.detail or "", "" if a.cost is None else a.cost,
                 "" if a.duration_seconds is None else a.duration_seconds]
                for a, name, company, phone in rows]
        if batch:
            yield batch
        if len(rows) < chunk:
            return
        after = (rows[-1][0].lead_id, rows[-1][0].attempt)


async def report(session: AsyncSession, principal: Principal, campaign_id: str) -> schemas.Report:
    row = await repository.CampaignRepository(session, principal.scope).get(campaign_id)
    done = (await session.execute(select(CampaignAttempt).where(
        CampaignAttempt.campaign_id == row.id, CampaignAttempt.call_id.is_not(None)))).scalars()
    total = schemas.Figures()
    agents: dict[str, schemas.AgentFigures] = {}
    hours: dict[int, schemas.HourFigures] = {}
    for a in done:
        if a.state != AttemptState.done.value:
            continue
        for figures in (total, agents.setdefault(a.agent_id or "", schemas.AgentFigures(agent_id=a.agent_id or "")),
                        hours.setdefault(a.lead_local_hour or 0, schemas.HourFigures(hour=a.lead_local_hour or 0))):
            _count(figures, a)
    for figures in (total, *agents.values(), *hours.values()):
        _rates(figures)
    currency = (await session.execute(select(Tenant.currency).where(Tenant.id == row.tenant_id))).scalar_one()
    return schemas.Report(total=total, by_agent=sorted(agents.values(), key=lambda f: f.agent_id),
                          by_local_hour=sorted(hours.values(), key=lambda f: f.hour), cost_currency=currency)


def _count(figures: schemas.Figures, a: CampaignAttempt) -> None:
    if a.phone_result == "voicemail":
        figures.voicemail += 1
    else:
        figures.dialled += 1
        figures.reached += a.phone_result == "answered"
    figures.interested += a.outcome == "interested"
    figures.callbacks += a.outcome == "callback_requested"
    figures.opt_outs += a.code == "opted_out"
    figures.minutes = round(figures.minutes + (a.duration_seconds or 0) / 60, 2)
    figures.cost = round(figures.cost + (a.cost or 0), 4)


def _rates(figures: schemas.Figures) -> None:
    figures.connect_rate = round(figures.reached / figures.dialled, 4) if figures.dialled else None
    figures.cost_per_interested = round(figures.cost / figures.interested, 4) if figures.interested else None
