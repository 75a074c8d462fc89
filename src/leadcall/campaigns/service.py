"""Campaigns: their settings, the preview of who will be called, their life cycle and their results.

Life cycle: draft → scheduled (started, before its start time) → running ⇄ paused → completed | canceled.
Starting writes one attempt per lead (pending at the lead's first allowed time, or skipped with the rule's
code); from then on the attempts are the truth and the dispatcher (`dispatcher.py`) works from them. A pause
or cancel takes the tenant's placement lock (the one every reservation takes first, calls.service `_reserve`),
so a reservation either committed before it (a live call, which finishes) or sees the campaign stopped and
dials nobody: nobody is dialled for a stopped campaign after its answer.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.calls.service import CallService
from leadcall.campaigns import repository, schemas
from leadcall.campaigns.models import (
    EDITABLE,
    ENDED,
    AttemptState,
    Campaign,
    CampaignAttempt,
    CampaignState,
)
from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import Conflict, Invalid, LeadcallError, NotFound
from leadcall.core.scoping import Scope
from leadcall.integrations import outbox
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor
from leadcall.leads import csv_import
from leadcall.leads.models import Lead
from leadcall.leads.repository import LeadRepository
from leadcall.leads.schemas import ImportReport
from leadcall.rules.hours import Window, allowed_at, next_allowed_at, window
from leadcall.rules.service import DialMemo, RulesService, dial_memo, iso, zones_for
from leadcall.scheduling.service import MOVABLE
from leadcall.tenancy.models import Role, Tenant
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import OrganizationRepository
from leadcall.voice.models import VoiceAgent

NO_WINDOW = "no_calling_window"
PREVIEW_PAGE = 200
CHUNK = 1000


def campaign_windows(campaign: Campaign) -> list[Window] | None:
    if not campaign.windows:
        return None
    return [window(w["days"], str(w["start"]), str(w["end"])) for w in campaign.windows]


def lead_local_hour(lead: Lead, tenant: Tenant, at: datetime) -> int:
    return at.astimezone(zones_for(lead, tenant)[0][0]).hour


def wire_state(row: CampaignAttempt, now: datetime) -> str:
    if row.state == AttemptState.pending.value and row.due_at <= now:
        return "due"
    return row.state


def attempt_wire(row: CampaignAttempt, now: datetime, lead_name: str | None = None) -> schemas.Attempt:
    return schemas.Attempt(id=row.id, campaign_id=row.campaign_id, lead_id=row.lead_id, lead_name=lead_name,
                           attempt=row.attempt,
                           state=wire_state(row, now), due_at=row.due_at,
                           call_id=row.call_id, agent_id=row.agent_id, phone_result=row.phone_result,
                           outcome=row.outcome, code=row.code, detail=row.detail, cost=row.cost,
                           updated_at=row.updated_at)


async def to_wire(session: AsyncSession, row: Campaign) -> schemas.Campaign:
    states = await repository.state_counts(session, row.id)
    counts = schemas.Counts(total=sum(states.values()), pending=states.get(AttemptState.pending.value, 0),
                            live=states.get(AttemptState.dialing.value, 0),
                            done=states.get(AttemptState.done.value, 0),
                            skipped=states.get(AttemptState.skipped.value, 0),
                            canceled=states.get(AttemptState.canceled.value, 0))
    currency = (await session.execute(select(Tenant.currency).where(Tenant.id == row.tenant_id))).scalar_one()
    leads: dict[str, Any] = ({"ids": row.lead_ids} if row.lead_ids is not None else {"filter": row.lead_filter})
    return schemas.Campaign(
        id=row.id, name=row.name, state=CampaignState(row.state), organization_id=row.organization_id,
        agent_ids=row.agent_ids, call_type=row.call_type, leads=leads, start_at=row.start_at, end_at=row.end_at,
        windows=row.windows, max_live_calls=row.max_live_calls, calls_per_second=row.calls_per_second,
        retry=row.retry, stop_on=row.stop_on, spending_cap=row.spending_cap, counts=counts,
        by_outcome=await repository.outcome_counts(session, row.id), live_calls=counts.live,
        cost=round(await repository.attempts_cost(session, row.id), 4), cost_currency=currency,
        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
        started_at=row.started_at, ended_at=row.ended_at, end_code=row.end_code)


def csv_rejected(report: ImportReport) -> Invalid:
    first = report.errors[0]
    return Invalid(f"{report.rejected} rows of the file cannot be imported (the first: line {first.row}, "
                   f"{'; '.join(first.errors)}); nothing was written, the campaign was not created",
                   code="campaign_csv_rejected", params={"rejected": report.rejected, "row": first.row},
                   extra={"rows": [e.model_dump(mode="json", by_alias=True) for e in report.errors]})


def page_after(cursor: str | None) -> tuple[datetime, str] | None:
    try:
        return decode_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise Invalid(str(exc), extra={"field": "cursor"}, code="cursor_invalid") from exc


async def announce(session: AsyncSession, row: Campaign, event_type: str, now: datetime) -> None:
    """The campaign's life-cycle event for the tenant's outgoing webhooks, in the change's transaction."""
    await session.flush()
    await outbox.record(session, tenant_id=row.tenant_id, organization_id=row.organization_id, event_type=event_type,
                        subject=f"campaign:{row.id}",
                        data=(await to_wire(session, row)).model_dump(mode="json", by_alias=True), now=now)


class CampaignService:
    """The campaigns' logic (no HTTP); `wake` asks the dispatcher to look for work after a commit."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], rules: RulesService, calls: CallService,
                 clock: Clock, wake: Callable[[], Awaitable[None]]) -> None:
        self.sessionmaker = sessionmaker
        self.rules = rules
        self.calls = calls
        self.clock = clock
        self.wake = wake

    def wake_after_commit(self, session: AsyncSession) -> None:
        on_commit(session, self.wake)

    # -- settings ------------------------------------------------------------------------------------

    async def _org_for(self, session: AsyncSession, principal: Principal, wanted: str | None) -> str:
        if wanted is None or wanted == principal.organization_id:
            return principal.organization_id
        if principal.role is not Role.admin:
            raise NotFound("organization not found", code="not_found", params={"what": "organization"})
        await OrganizationRepository(session, principal.tenant_scope).get(wanted)
        return wanted

    async def _check_agents(self, session: AsyncSession, tenant_id: str, agent_ids: list[str]) -> None:
        known = set((await session.execute(select(VoiceAgent.agent_id).where(
            VoiceAgent.tenant_id == tenant_id, VoiceAgent.agent_id.in_(agent_ids)))).scalars())
        missing = [a for a in agent_ids if a not in known]
        if missing:
            raise Invalid(f"agent {missing[0]} is not one of your team's agents", code="campaign_agent_unknown",
                          extra={"field": "agentIds"}, params={"agentId": missing[0][:100]})

    async def _check_leads(self, session: AsyncSession, scope: Scope, leads: schemas.CampaignLeads) -> None:
        if leads.ids is None:
            return
        ids = list(dict.fromkeys(leads.ids))
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            found.update((await session.execute(LeadRepository(session, scope).scoped_select().with_only_columns(
                Lead.id).where(Lead.id.in_(chunk)))).scalars())
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"lead {missing[0][:36]} not found", code="not_found",
                           params={"what": "lead", "leadId": missing[0][:36], "missing": len(missing)})

    async def create(self, session: AsyncSession, principal: Principal, body: schemas.CampaignCreate,
                     now: datetime) -> Campaign:
        org_id = await self._org_for(session, principal, body.organization_id)
        await self._check_agents(session, principal.tenant_id, body.agent_ids)
        await self._check_leads(session, Scope(principal.tenant_id, org_id), body.leads)
        row = Campaign(tenant_id=principal.tenant_id, organization_id=org_id, name=body.name,
                       state=CampaignState.draft.value, created_by=principal.user_id, created_at=now,
                       updated_at=now, agent_turn=0)
        self._apply(row, body, set(body.model_fields_set) | {"leads", "agent_ids", "call_type", "max_live_calls",
                                                               "calls_per_second", "retry", "stop_on"})
        session.add(row)
        await session.flush()
        return row

    async def create_from_csv(self, session: AsyncSession, principal: Principal, settings: schemas.CampaignSettings,
                              content: bytes, now: datetime) -> schemas.CampaignImported:
        """A draft whose leads are the rows of a CSV file, imported as the leads import does it (a row updates the
        lead it matches by externalId, then by phone, or adds one). All or nothing: when any row is rejected,
        nothing is written and the error lists every rejected row with its problems' codes."""
        org_id = await self._org_for(session, principal, settings.organization_id)
        await self._check_agents(session, principal.tenant_id, settings.agent_ids)
        importer = dataclasses.replace(principal, organization_id=org_id)
        plan = await csv_import.import_csv(session, importer, content, now, dry_run=True)
        if plan.rejected:
            raise csv_rejected(plan)
        report = await csv_import.import_csv(session, importer, content, now)
        if report.rejected:  # a row the plan accepted failed when written (the request rolls everything back)
            raise csv_rejected(report)
        ids = list(dict.fromkeys([*report.lead_ids, *report.updated_ids, *report.unchanged_ids]))
        if len(ids) > schemas.MAX_LEADS:
            raise Invalid(f"a campaign calls {schemas.MAX_LEADS} leads at most; the file names {len(ids)}",
                          code="campaign_too_many_leads", params={"most": schemas.MAX_LEADS, "found": len(ids)})
        body = schemas.CampaignCreate.model_validate(
            {**settings.model_dump(by_alias=True, exclude_unset=True), "organizationId": org_id,
             "leads": {"ids": ids}})
        row = await self.create(session, principal, body, now)
        return schemas.CampaignImported(campaign=await to_wire(session, row), imported=report)

    def _apply(self, row: Campaign, body: schemas.CampaignCreate | schemas.CampaignUpdate, given: set[str]) -> None:
        if "name" in given and body.name is not None:
            row.name = body.name
        if "leads" in given and body.leads is not None:
            row.lead_ids = list(dict.fromkeys(body.leads.ids)) if body.leads.ids is not None else None
            row.lead_filter = (body.leads.filter.model_dump(mode="json", by_alias=True, exclude_none=True)
                               if body.leads.filter is not None else None)
        if "agent_ids" in given and body.agent_ids is not None:
            row.agent_ids = list(dict.fromkeys(body.agent_ids))
        if "call_type" in given and body.call_type is not None:
            row.call_type = body.call_type.value
        for name in ("start_at", "end_at", "spending_cap"):
            if name in given:
                setattr(row, name, getattr(body, name))
        if "windows" in given:
            row.windows = [w.model_dump() for w in body.windows] if body.windows else None
        for name in ("max_live_calls", "calls_per_second"):
            if name in given and getattr(body, name) is not None:
                setattr(row, name, getattr(body, name))
        if "retry" in given and body.retry is not None:
            row.retry = body.retry.model_dump(by_alias=True)
        if "stop_on" in given and body.stop_on is not None:
            row.stop_on = list(dict.fromkeys(body.stop_on))

    async def get(self, session: AsyncSession, principal: Principal, campaign_id: str) -> Campaign:
        return await repository.CampaignRepository(session, principal.scope).get(campaign_id)

    async def page(self, session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None,
                   state: str | None) -> tuple[list[Campaign], str | None]:
        limit = max(1, min(limit, 100))
        rows = await repository.CampaignRepository(session, principal.scope).page(
            limit=limit + 1, after=page_after(cursor), state=state)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None

    async def update(self, session: AsyncSession, principal: Principal, campaign_id: str,
                     body: schemas.CampaignUpdate, now: datetime) -> Campaign:
        row = await self.get(session, principal, campaign_id)
        if row.state not in EDITABLE:
            raise Conflict(f"a campaign can be edited while it is a draft or paused, not {row.state}",
                           code="campaign_not_editable", params={"state": row.state})
        given = set(body.model_fields_set)
        if "leads" in given and row.state != CampaignState.draft.value:
            raise Conflict("its leads are fixed once a campaign has started", code="campaign_leads_fixed",
                           params={"state": row.state})
        start, end = (body.start_at if "start_at" in given else row.start_at,
                      body.end_at if "end_at" in given else row.end_at)
        if start is not None and end is not None and end <= start:
            raise Invalid("endAt must come after startAt", code="campaign_times_invalid", extra={"field": "endAt"})
        if body.agent_ids is not None:
            await self._check_agents(session, principal.tenant_id, body.agent_ids)
        if body.leads is not None:
            await self._check_leads(session, Scope(row.tenant_id, row.organization_id), body.leads)
        self._apply(row, body, given)
        row.updated_at = now
        await session.flush()
        return row

    async def delete(self, session: AsyncSession, principal: Principal, campaign_id: str) -> None:
        row = await self.get(session, principal, campaign_id)
        if row.state in (CampaignState.running.value, CampaignState.scheduled.value, CampaignState.paused.value):
            raise Conflict(f"a {row.state} campaign cannot be deleted; cancel it first", code="campaign_active",
                           params={"state": row.state})
        await session.execute(delete(CampaignAttempt).where(CampaignAttempt.campaign_id == row.id))
        await session.delete(row)

    # -- who will be called -------------------------------------------------------------------------

    async def _leads(self, session: AsyncSession, row: Campaign) -> list[Lead]:
        repo = LeadRepository(session, Scope(row.tenant_id, row.organization_id))
        stmt = repo.scoped_select().where(Lead.archived_at.is_(None))
        if row.lead_ids is not None:
            found: list[Lead] = []
            for start in range(0, len(row.lead_ids), CHUNK):
                found.extend((await session.execute(stmt.where(Lead.id.in_(row.lead_ids[start:start + CHUNK]))))
                             .scalars())
            return sorted(found, key=lambda lead: lead.id)
        wanted = row.lead_filter or {}
        stmt = repo.filtered(search=wanted.get("q"), status=wanted.get("status"), owner_id=wanted.get("ownerId"),
                             organization_id=None)
        return list((await session.execute(stmt.order_by(Lead.id))).scalars())

    async def first_time(self, session: AsyncSession, row: Campaign, lead: Lead, tenant: Tenant,
                         at: datetime, memo: DialMemo | None = None) -> tuple[datetime | None, str, dict[str, Any]]:
        """When the lead may first be called from `at`: the calling rules (the one eligibility check) and the
        campaign's own windows together, before its end; or None with the refusal's code and values."""
        narrowed = campaign_windows(row)
        zones: list[ZoneInfo] = zones_for(lead, tenant)[0]
        for _ in range(6):  # each turn moves to a later window; the rules and the narrowing meet quickly
            verdict = await self.rules.may_dial(session, lead, at, path="campaign", memo=memo)
            if not verdict.allowed:
                blocking = [r for r in verdict.refusals if r.code not in MOVABLE]
                if blocking:
                    return None, blocking[0].code, blocking[0].params
                if verdict.next_allowed_at is None:
                    first = verdict.refusals[0]
                    return None, NO_WINDOW, {"because": first.code, "timezone": verdict.timezone}
                at = verdict.next_allowed_at
                # The rules' next allowed time already meets their windows and caps: only the campaign's own
                # windows can still move it (asking the rules again there would answer the same).
                if (narrowed is None or allowed_at(at, zones, [narrowed])) and (row.end_at is None or at < row.end_at):
                    return at, "", {}
            elif narrowed is not None and not allowed_at(at, zones, [narrowed]):
                following = next_allowed_at(at, zones, [narrowed])
                if following is None:
                    return None, NO_WINDOW, {"because": "campaign_windows", "timezone": verdict.timezone}
                at = following
            else:
                if row.end_at is not None and at >= row.end_at:
                    break
                return at, "", {}
            if row.end_at is not None and at >= row.end_at:
                break
        return None, NO_WINDOW, {"endAt": iso(row.end_at), "timezone": zones[0].key}

    async def _evaluate(self, session: AsyncSession, row: Campaign,
                        now: datetime) -> list[tuple[Lead, datetime | None, str, dict[str, Any]]]:
        tenant = (await session.execute(select(Tenant).where(Tenant.id == row.tenant_id))).scalar_one()
        start = max(now, row.start_at) if row.start_at is not None else now
        leads = await self._leads(session, row)
        memo = await dial_memo(session, row.tenant_id, leads)
        return [(lead, *await self.first_time(session, row, lead, tenant, start, memo)) for lead in leads]

    async def preview(self, session: AsyncSession, principal: Principal, campaign_id: str, now: datetime, *,
                      code: str | None, cursor: str | None, limit: int) -> schemas.Preview:
        row = await self.get(session, principal, campaign_id)
        if row.state == CampaignState.draft.value:
            found = [(lead.id, lead.name, due, c, p) for lead, due, c, p in await self._evaluate(session, row, now)]
        else:  # started: the attempts say it
            names = dict((await session.execute(select(Lead.id, Lead.name).where(
                Lead.tenant_id == row.tenant_id, Lead.id.in_(select(CampaignAttempt.lead_id).where(
                    CampaignAttempt.campaign_id == row.id))))).all())
            firsts = (await session.execute(select(CampaignAttempt).where(
                CampaignAttempt.campaign_id == row.id, CampaignAttempt.attempt == 1))).scalars()
            found = [(a.lead_id, names.get(a.lead_id, ""), a.due_at if a.state != AttemptState.skipped.value
                      else None, a.code or "", {}) for a in firsts]
        skipped = sorted((f for f in found if f[2] is None), key=lambda f: f[0])
        counts: dict[str, int] = {}
        for f in skipped:
            counts[f[3]] = counts.get(f[3], 0) + 1
        listed = [f for f in skipped if (code is None or f[3] == code) and (cursor is None or f[0] > cursor)]
        limit = max(1, min(limit, 500))
        page = listed[:limit]
        return schemas.Preview(
            total=len(found), will_call=len(found) - len(skipped),
            skipped=[schemas.SkippedCount(code=c, count=n) for c, n in sorted(counts.items(), key=lambda i: -i[1])],
            skipped_leads=[schemas.SkippedLead(lead_id=f[0], name=f[1], code=f[3], params=f[4]) for f in page],
            next_cursor=page[-1][0] if len(listed) > limit else None)

    # -- life cycle ---------------------------------------------------------------------------------

    async def _placement_lock(self, session: AsyncSession, tenant_id: str) -> None:
        """The tenant's placement lock (calls.service `_reserve` takes it first): a reservation racing this
        change either committed before it or sees it."""
        await session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True))

    async def start(self, session: AsyncSession, principal: Principal, campaign_id: str, now: datetime) -> Campaign:
        row = await self.get(session, principal, campaign_id)
        if row.state != CampaignState.draft.value:
            raise Conflict(f"only a draft can be started; this campaign is {row.state}", code="campaign_not_draft",
                           params={"state": row.state})
        if row.end_at is not None and row.end_at <= now:
            raise Invalid("the campaign's end is in the past; move endAt first", code="campaign_ended_already",
                          extra={"field": "endAt"})
        found = await self._evaluate(session, row, now)
        if not found:
            raise Invalid("the campaign has no leads to call (the selection is empty)", code="campaign_no_leads")
        rows = []
        tenant = (await session.execute(select(Tenant).where(Tenant.id == row.tenant_id))).scalar_one()
        for lead, due, code, params in found:
            rows.append({"id": str(uuid.uuid4()), "tenant_id": row.tenant_id, "organization_id": lead.organization_id,
                         "campaign_id": row.id, "lead_id": lead.id, "attempt": 1,
                         "state": AttemptState.pending.value if due else AttemptState.skipped.value,
                         "due_at": due or now, "code": code or None,
                         "detail": (str(params.get("because") or "") or None) if not due else None,
                         "lead_local_hour": lead_local_hour(lead, tenant, due) if due else None,
                         "lead_owner_id": lead.owner_id, "created_at": now, "updated_at": now})
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(CampaignAttempt), rows[start:start + CHUNK])
        row.started_at = row.updated_at = now
        if not any(due for _l, due, _c, _p in found):
            row.state, row.ended_at, row.end_code = CampaignState.completed.value, now, "nobody_to_call"
        elif row.start_at is not None and row.start_at > now:
            row.state = CampaignState.scheduled.value
        else:
            row.state = CampaignState.running.value
        await session.flush()
        await announce(session, row, "campaign.started", now)
        self.wake_after_commit(session)
        return row

    async def pause(self, session: AsyncSession, principal: Principal, campaign_id: str, now: datetime) -> Campaign:
        await self._placement_lock(session, principal.tenant_id)
        row = await self.get(session, principal, campaign_id)
        await session.refresh(row)
        if row.state not in (CampaignState.running.value, CampaignState.scheduled.value):
            raise Conflict(f"only a running or scheduled campaign can be paused; this one is {row.state}",
                           code="campaign_not_running", params={"state": row.state})
        row.state, row.updated_at = CampaignState.paused.value, now
        # Claims of this campaign end with it: nothing claimed before the pause is dialled after it.
        await session.execute(update(CampaignAttempt).where(
            CampaignAttempt.campaign_id == row.id, CampaignAttempt.state == AttemptState.pending.value,
            CampaignAttempt.claimed_until.is_not(None)).values(claimed_until=None))
        await announce(session, row, "campaign.paused", now)
        return row

    async def resume(self, session: AsyncSession, principal: Principal, campaign_id: str, now: datetime) -> Campaign:
        row = await self.get(session, principal, campaign_id)
        if row.state != CampaignState.paused.value:
            raise Conflict(f"only a paused campaign can be resumed; this one is {row.state}",
                           code="campaign_not_paused", params={"state": row.state})
        row.state = (CampaignState.scheduled.value if row.start_at is not None and row.start_at > now
                     else CampaignState.running.value)
        row.updated_at = now
        await announce(session, row, "campaign.resumed", now)
        self.wake_after_commit(session)
        return row

    async def cancel(self, session: AsyncSession, principal: Principal, campaign_id: str,
                     now: datetime) -> tuple[Campaign, list[str]]:
        """Cancels it (its pending attempts end as canceled); answers the calls still live, for a hang-up."""
        await self._placement_lock(session, principal.tenant_id)
        row = await self.get(session, principal, campaign_id)
        await session.refresh(row)
        if row.state in ENDED:
            raise Conflict(f"the campaign has already ended ({row.state})", code="campaign_already_ended",
                           params={"state": row.state})
        await self.finish(session, row, CampaignState.canceled, "canceled_by_user", now)
        live = list((await session.execute(select(CampaignAttempt.call_id).where(
            CampaignAttempt.campaign_id == row.id, CampaignAttempt.state == AttemptState.dialing.value,
            CampaignAttempt.call_id.is_not(None)))).scalars())
        return row, [c for c in live if c]

    async def cancel_and_hang_up(self, principal: Principal, campaign_id: str, *,
                                 hang_up: bool) -> schemas.CancelResult:
        """Cancel in its own committed transaction, then (if asked) hang up its live calls through the one
        cancel path of calls, each saying whether it could."""
        async with transaction(self.sessionmaker) as session:
            row, live = await self.cancel(session, principal, campaign_id, utc_datetime(self.clock))
        hung_up, refused = 0, []
        for call_id in live if hang_up else []:
            try:
                result = await self.calls.cancel(principal, call_id)
            except LeadcallError as exc:
                refused.append({"callId": call_id, "code": exc.code or "refused", "detail": exc.detail})
                continue
            if result.canceled:
                hung_up += 1
            else:
                refused.append({"callId": call_id, "code": "not_hung_up", "detail": result.detail})
        async with transaction(self.sessionmaker) as session:
            wire = await to_wire(session, await self.get(session, principal, campaign_id))
        return schemas.CancelResult(campaign=wire, hung_up=hung_up, not_hung_up=refused)

    async def finish(self, session: AsyncSession, row: Campaign, state: CampaignState, code: str,
                     now: datetime) -> None:
        """The campaign ends (completed or canceled): attempts still pending are canceled with the reason."""
        row.state, row.ended_at, row.end_code, row.updated_at = state.value, now, code, now
        await session.execute(update(CampaignAttempt).where(
            CampaignAttempt.campaign_id == row.id, CampaignAttempt.state == AttemptState.pending.value).values(
            state=AttemptState.canceled.value, code=code, claimed_until=None, updated_at=now))
        await announce(session, row, f"campaign.{state.value}", now)


RETRY_SOON = timedelta(seconds=30)
