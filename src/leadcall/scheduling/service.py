"""The one scheduler of future dials. Today: the callbacks leads ask for; campaigns' attempts will use the
same rows-are-the-truth pattern (atomic claim, placement through `CallService.place_call` with a key derived
from the row, so a worker killed at the due moment dials exactly once).

- A call that ends with a callback request (`CallLog.callback_at`) schedules one at that time, moved into the
  calling hours by the one eligibility check (`RulesService.may_dial`); a time in the past, unreadable or
  outside any window is moved to the next allowed time and says so (`moved`).
- At its time the worker's sweep claims it (`repository.claim`): in auto mode it is placed as the seller it
  belongs to, with the same agent; in manual mode it becomes `due` for the lead's owner (SSE `callback.updated`).
- Cancellation when the lead is called otherwise, opts out or is archived: see `watch.py`.
- `settle` is the placement hook run when a call ends: opt-out → do-not-call list with the call as evidence;
  callback requested → scheduled; interested → the owner is told (SSE `lead.interested`, the lead's trail).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from leadcall.calls.models import CallLog, CallType, SalesResult
from leadcall.calls.service import CallService
from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import Conflict, Forbidden, Invalid, LeadcallError
from leadcall.core.events import Event, EventHub
from leadcall.core.scoping import Scope
from leadcall.integrations import outbox
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.leads.dnc import DncRepository, lead_event, list_number
from leadcall.leads.models import DncSource, Lead, LeadEvent
from leadcall.leads.repository import LeadRepository
from leadcall.leads.service import announce_lead, refuse_archived
from leadcall.rules import records
from leadcall.rules.service import DialRefused, RulesService, iso
from leadcall.scheduling import repository, watch
from leadcall.scheduling import schemas as wire
from leadcall.scheduling.models import OPEN, Callback, CallbackMode, CallbackStatus
from leadcall.tenancy.models import Role, Tenant
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import unscoped_get_tenant, unscoped_get_user
from leadcall.tenancy.service import principal_for

log = logging.getLogger("leadcall.scheduling")

CLAIM_SECONDS = 120  # a worker placing a callback holds it this long (a dial answers well within it)
SWEEP_SECONDS = 5.0
BATCH = 50
# Refusals that waiting cures: the callback moves to when the rules allow it instead of being missed.
MOVABLE = ("outside_calling_hours", "attempts_exhausted")


def to_wire(row: Callback) -> wire.Callback:
    moved = wire.Moved(code=row.moved_code, params=row.moved_params or {}) if row.moved_code else None
    return wire.Callback(
        id=row.id, lead_id=row.lead_id, organization_id=row.organization_id, call_id=row.call_id,
        source_call_id=row.source_call_id, due_at=row.due_at, requested_at=row.requested_at,
        requested_text=row.requested_text, lead_timezone=row.lead_timezone, mode=CallbackMode(row.mode),
        status=CallbackStatus(row.status), agent_id=row.agent_id, note=row.note, moved=moved,
        reason_code=row.reason_code, reason=row.reason, user_id=row.user_id, created_at=row.created_at,
        updated_at=row.updated_at)


def system_principal(lead: Lead, user_id: str, language: str) -> Principal:
    """leadcall acting on what a call said (an opt-out), on behalf of the seller whose call it was."""
    return Principal(tenant_id=lead.tenant_id, organization_id=lead.organization_id, user_id=user_id,
                     role=Role.admin, email="leadcall (call analysis)", name="leadcall (call analysis)",
                     language=language, via="session")


class SchedulingService:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], calls: CallService, rules: RulesService,
                 events: EventHub, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.calls = calls
        self.rules = rules
        self.events = events
        self.clock = clock
        watch.install()
        bind = sessionmaker.kw.get("bind")
        self.engine = bind.sync_engine if bind is not None else None
        self._tasks: set[asyncio.Task[None]] = set()
        event.listen(Session, "after_commit", self._committed)

    def now(self) -> datetime:
        return utc_datetime(self.clock)

    # -- events ----------------------------------------------------------------------------------

    def _changed(self, session: AsyncSession, callback_id: str) -> None:
        session.info.setdefault(watch.CHANGED, set()).add(callback_id)

    def _committed(self, session: Session) -> None:
        """After any commit of this database: `callback.updated` for every callback the unit of work changed,
        here or in `watch` (a placement, an opt-out, an archive), so pages follow whichever path changed it."""
        if session.get_bind() is not self.engine:  # another app's database (tests run several)
            return
        ids = session.info.pop(watch.CHANGED, None)
        if not ids:
            return
        task = asyncio.get_running_loop().create_task(self._publish(sorted(ids)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, ids: list[str]) -> None:
        try:
            async with transaction(self.sessionmaker) as reader:
                rows = list((await reader.execute(select(Callback).where(Callback.id.in_(ids)))).scalars())
            for row in rows:
                await self.events.publish(Event("callback.updated", row.tenant_id, row.organization_id,
                                                to_wire(row).model_dump(mode="json", by_alias=True)))
        except Exception:  # noqa: BLE001 - live news is best effort; the pages re-read on reconnect
            log.exception("publishing callback updates failed")

    def close(self) -> None:
        if event.contains(Session, "after_commit", self._committed):
            event.remove(Session, "after_commit", self._committed)

    # -- scheduling ------------------------------------------------------------------------------

    async def schedule(self, session: AsyncSession, lead: Lead, *, wanted: datetime | None, text: str | None,
                       now: datetime, agent_id: str | None, call_type: str, user_id: str | None,
                       source_call_id: str | None = None, note: str | None = None,
                       actor_name: str | None = None) -> Callback:
        """A callback at `wanted` (the lead's time), or the next time the calling rules allow; refuses (409)
        a lead the rules will not let be called by waiting (do-not-call list, no consent)."""
        tenant = (await session.execute(select(Tenant).where(Tenant.id == lead.tenant_id))).scalar_one()
        verdict = await self.rules.may_dial(session, lead, now, path="callback")
        zone = ZoneInfo(verdict.timezone)
        if wanted is not None and wanted.tzinfo is None:  # a time without offset is the lead's local time
            wanted = wanted.replace(tzinfo=zone)
        moved_code: str | None = None
        moved_params: dict[str, object] = {}
        start: datetime = now
        if wanted is None:
            moved_code, moved_params = "callback_time_unreadable", {"text": (text or "")[:200]}
        elif wanted < now:
            moved_code, moved_params = "callback_time_past", {"requestedAt": iso(wanted)}
        else:
            start = wanted
        verdict = await self.rules.may_dial(session, lead, start, path="callback")
        due_at = start
        if not verdict.allowed:
            blocking = [r for r in verdict.refusals if r.code not in MOVABLE]
            if blocking or verdict.next_allowed_at is None:
                raise verdict.error()
            due_at = verdict.next_allowed_at
            first = verdict.refusals[0]
            moved_params = {**moved_params, "requestedAt": iso(wanted) if wanted else None, "because": first.code,
                            "detail": first.detail}
            moved_code = moved_code or first.code
        if moved_code is not None:
            moved_params["dueAt"] = iso(due_at)
            moved_params["dueLocal"] = f"{due_at.astimezone(zone):%Y-%m-%d %H:%M}"
        mode = CallbackMode(tenant.callback_mode) if agent_id else CallbackMode.manual
        row = Callback(tenant_id=lead.tenant_id, organization_id=lead.organization_id, lead_id=lead.id,
                       source_call_id=source_call_id, due_at=due_at, requested_at=wanted,
                       requested_text=(text or None) and text[:200], lead_timezone=verdict.timezone, mode=mode.value,
                       status=CallbackStatus.scheduled.value, moved_code=moved_code,
                       moved_params=moved_params or None, agent_id=agent_id, call_type=call_type, user_id=user_id,
                       note=note, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
        session.add(lead_event(lead, at=now, kind="callback_scheduled", code=moved_code or "as_requested",
                               params={"callbackId": row.id, "dueAt": iso(due_at), "mode": mode.value},
                               detail=note, actor_id=user_id if actor_name else None, actor_name=actor_name))
        self._changed(session, row.id)
        await outbox.record(session, tenant_id=row.tenant_id, organization_id=row.organization_id,
                            event_type="callback.scheduled", subject=f"lead:{lead.id}",
                            data=to_wire(row).model_dump(mode="json", by_alias=True), now=now)
        return row

    async def create(self, session: AsyncSession, principal: Principal, lead_id: str, body: wire.CallbackCreate,
                     now: datetime) -> Callback:
        lead = await LeadRepository(session, principal.scope).get(lead_id)
        refuse_archived(lead)
        last = (await session.execute(select(CallLog.agent_id, CallLog.call_type).where(
            CallLog.tenant_id == lead.tenant_id, CallLog.lead_id == lead.id)
            .order_by(CallLog.created_at.desc()).limit(1))).first()
        agent_id = body.agent_id or (last.agent_id if last else None)
        call_type = last.call_type if last else CallType.follow_up.value
        return await self.schedule(session, lead, wanted=body.at, text=None, now=now, agent_id=agent_id,
                                   call_type=call_type, user_id=principal.user_id, note=body.note,
                                   actor_name=principal.email)

    async def listing(self, session: AsyncSession, principal: Principal, *, due: str | None,
                      lead_id: str | None = None) -> list[Callback]:
        before = parse_due(due)
        if lead_id is not None:
            await LeadRepository(session, principal.scope).get(lead_id)
        return await repository.CallbackRepository(session, principal.scope).listing(
            due_before=before, lead_id=lead_id)

    async def due_for(self, session: AsyncSession, principal: Principal) -> list[Callback]:
        """The "Callbacks due" list: the caller's own (the leads they own); managers and admins see their
        whole scope's."""
        owner = principal.user_id if principal.role is Role.member else None
        return await repository.CallbackRepository(session, principal.scope).listing(
            due_before=None, statuses=(CallbackStatus.due.value,), owner_id=owner)

    async def open_for_day(self, session: AsyncSession, principal: Principal, until: datetime) -> list[Callback]:
        """The caller's own open callbacks (scheduled or due) due before `until`, the overdue ones included,
        soonest first: the "my day" list (for every role: it is the viewer's own day)."""
        return await repository.CallbackRepository(session, principal.scope).listing(
            due_before=until, statuses=OPEN, owner_id=principal.user_id)

    async def cancel(self, session: AsyncSession, principal: Principal, callback_id: str, now: datetime) -> Callback:
        row = await repository.CallbackRepository(session, principal.scope).get(callback_id)
        if principal.role is Role.member and row.user_id != principal.user_id:
            lead = await LeadRepository(session, principal.scope).get(row.lead_id)
            if lead.owner_id != principal.user_id:
                raise Forbidden("only the lead's owner, whoever scheduled the callback, or a manager may cancel it",
                                code="callback_not_yours")
        if row.status not in OPEN:
            raise Conflict(f"the callback has already ended ({row.status})", code="callback_already_ended",
                           params={"status": row.status})
        await repository.end(session, row.id, CallbackStatus.canceled, code="canceled_by_user",
                             reason=f"canceled by {principal.name}", now=now)
        lead = await LeadRepository(session, principal.scope).get(row.lead_id)
        session.add(lead_event(lead, at=now, kind="callback_canceled", code="canceled_by_user",
                               params={"callbackId": row.id}, actor_id=principal.user_id,
                               actor_name=principal.email))
        self._changed(session, row.id)
        await session.refresh(row)
        return row

    # -- the tenant's setting ----------------------------------------------------------------------

    async def mode_of(self, session: AsyncSession, tenant_id: str) -> CallbackMode:
        tenant = await unscoped_get_tenant(session, tenant_id)
        return CallbackMode(tenant.callback_mode if tenant else CallbackMode.manual.value)

    async def set_mode(self, session: AsyncSession, tenant_id: str, mode: CallbackMode) -> CallbackMode:
        tenant = await unscoped_get_tenant(session, tenant_id)
        assert tenant is not None
        tenant.callback_mode = mode.value
        await session.flush()
        return mode

    # -- when a call ends --------------------------------------------------------------------------

    async def settle(self, session: AsyncSession, call: CallLog) -> None:
        """Follow-through of an ended call (placement hook; runs every time an ended call changes, so each
        step happens once: the list entry, the callback of this call, the notice)."""
        lead = await session.get(Lead, call.lead_id)
        if lead is None or lead.archived_at is not None:
            return
        now = self.now()
        if call.opted_out:
            await self._opt_out(session, lead, call, now)
            return
        if call.sales_result == SalesResult.callback_requested.value and (call.callback_at or call.callback_text):
            await self._callback_of(session, lead, call, now)
        if call.sales_result == SalesResult.interested.value:
            await self._interested(session, lead, call, now)

    async def _opt_out(self, session: AsyncSession, lead: Lead, call: CallLog, now: datetime) -> None:
        if not lead.phone or await DncRepository(session, Scope(lead.tenant_id)).by_phone(lead.phone):
            return
        if call.user_id is None:  # the seller was removed since: listed without them
            list_number(session, lead.tenant_id, lead.phone, reason="opted out", source=DncSource.opt_out.value,
                        now=now, actor_id=None, actor_name="leadcall (call analysis)", call_id=call.id)
            session.add(lead_event(lead, at=now, kind="opted_out", params={"callId": call.id}))
            await announce_lead(session, lead, now, event_type="lead.opted_out")
        else:
            tenant = await unscoped_get_tenant(session, lead.tenant_id)
            principal = system_principal(lead, call.user_id, tenant.default_language if tenant else "en")
            await records.opt_out(session, principal, lead.id, now, call_id=call.id)

    async def _callback_of(self, session: AsyncSession, lead: Lead, call: CallLog, now: datetime) -> None:
        scope = Scope(lead.tenant_id)
        if await repository.CallbackRepository(session, scope).of_source_call(call.id) is not None:
            return
        try:
            row = await self.schedule(session, lead, wanted=call.callback_at, text=call.callback_text, now=now,
                                      agent_id=call.agent_id, call_type=call.call_type, user_id=call.user_id,
                                      source_call_id=call.id)
            call.callback_id = row.id
        except DialRefused as exc:  # e.g. the number is on the list: nobody will be called back
            session.add(lead_event(lead, at=now, kind="callback_refused", code=exc.code, params=exc.params,
                                   detail=exc.detail))

    async def _interested(self, session: AsyncSession, lead: Lead, call: CallLog, now: datetime) -> None:
        told = (await session.execute(select(LeadEvent.params).where(
            LeadEvent.tenant_id == lead.tenant_id, LeadEvent.lead_id == lead.id,
            LeadEvent.kind == "interested"))).scalars()
        if any((p or {}).get("callId") == call.id for p in told):
            return
        params: dict[str, object] = {"callId": call.id, "ownerId": lead.owner_id or call.user_id,
                                     "agentName": call.agent_name}
        session.add(lead_event(lead, at=now, kind="interested", code="interested", params=params,
                               detail=call.summary))
        event = Event("lead.interested", lead.tenant_id, lead.organization_id,
                      {"leadId": lead.id, "leadName": lead.name, **params, "summary": call.summary})

        async def publish() -> None:
            await self.events.publish(event)

        on_commit(session, publish)

    # -- at their time -----------------------------------------------------------------------------

    async def run_due(self) -> int:
        """The sweep's chore: every callback whose time has come, each claimed by exactly one worker."""
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            ids = await repository.unscoped_due(session, now, BATCH)
        done = 0
        for callback_id in ids:
            try:
                done += await self.fire(callback_id)
            except Exception:  # noqa: BLE001 - one bad callback must not stop the others
                log.exception("callback %s failed", callback_id)
        return done

    async def fire(self, callback_id: str) -> int:
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            if not await repository.claim(session, callback_id, now, now + timedelta(seconds=CLAIM_SECONDS)):
                return 0  # another worker has it, or it is no longer scheduled
            row = await repository.unscoped_get(session, callback_id)
            assert row is not None
            if row.mode == CallbackMode.manual.value or not row.agent_id:
                row.status, row.claimed_until, row.updated_at = CallbackStatus.due.value, None, now
                self._changed(session, row.id)
                return 1
            user = await unscoped_get_user(session, row.user_id) if row.user_id else None
            tenant = await unscoped_get_tenant(session, row.tenant_id)
            if user is None or not user.is_active or tenant is None:
                await repository.end(session, row.id, CallbackStatus.missed, code="seller_unavailable",
                                     reason="the seller it was for is no longer active", now=now)
                self._changed(session, row.id)
                return 1
            principal = principal_for(user, tenant, "session")
            lead_id, agent_id, call_type = row.lead_id, row.agent_id, row.call_type
        await self._place(principal, callback_id, lead_id=lead_id, agent_id=agent_id, call_type=call_type)
        return 1

    async def place_now(self, principal: Principal, callback_id: str) -> str:
        """A seller's click on a due callback: placed as that seller, with its agent. Answers the call's id."""
        async with transaction(self.sessionmaker) as session:
            row = await repository.CallbackRepository(session, principal.scope).get(callback_id)
            if row.status not in OPEN:
                raise Conflict(f"the callback has already ended ({row.status})", code="callback_already_ended",
                               params={"status": row.status})
            if not row.agent_id:
                raise Invalid("this callback has no agent; call the lead from its panel", code="callback_no_agent")
            lead_id, agent_id, call_type = row.lead_id, row.agent_id, row.call_type
        placed = await self.calls.place_call(principal, lead_id=lead_id, agent_id=agent_id, call_type=call_type,
                                             idempotency_key=watch.idempotency_key(callback_id))
        return placed.call_log.id

    async def _place(self, principal: Principal, callback_id: str, *, lead_id: str, agent_id: str,
                     call_type: str) -> None:
        """Placement through the normal path; its reservation marks the callback placed (`watch`), so a
        second run of this (a worker killed after the reservation) replays the same call."""
        try:
            await self.calls.place_call(principal, lead_id=lead_id, agent_id=agent_id, call_type=call_type,
                                        idempotency_key=watch.idempotency_key(callback_id), path="callback")
        except LeadcallError as exc:
            await self._refused(callback_id, exc)

    async def _refused(self, callback_id: str, exc: LeadcallError) -> None:
        """A refused placement: moved to when the rules allow it, else missed, with the reason."""
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            row = await repository.unscoped_get(session, callback_id)
            if row is None or row.status not in OPEN:
                return
            next_at = exc.verdict.next_allowed_at if isinstance(exc, DialRefused) else None
            if isinstance(exc, DialRefused) and exc.code in MOVABLE and next_at is not None:
                row.due_at, row.claimed_until, row.updated_at = next_at, None, now
                row.moved_code, row.moved_params = exc.code, {"because": exc.code, "detail": exc.detail,
                                                              "dueAt": iso(next_at)}
            else:
                await repository.end(session, row.id, CallbackStatus.missed, code=exc.code or "refused",
                                     reason=exc.detail, now=now)
            self._changed(session, row.id)


def parse_due(due: str | None) -> datetime | None:
    """`?due=before:<iso>` (an offset or Z required)."""
    if due is None:
        return None
    prefix = "before:"
    if not due.startswith(prefix):
        raise Invalid("due takes the form before:<ISO 8601 time>, e.g. before:2026-12-01T18:00:00Z",
                      extra={"field": "due"}, code="due_invalid", params={"due": due[:60]})
    try:
        at = datetime.fromisoformat(due[len(prefix):].replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise Invalid("due takes the form before:<ISO 8601 time>, e.g. before:2026-12-01T18:00:00Z",
                      extra={"field": "due"}, code="due_invalid", params={"due": due[:60]}) from exc
    if at.tzinfo is None:
        raise Invalid("the time in due needs its offset (Z or +01:00)", extra={"field": "due"}, code="due_invalid",
                      params={"due": due[:60]})
    return at
