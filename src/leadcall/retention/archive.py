"""Leads are archived, never deleted; on a privacy request their personal data is erased.

A lead's calls carry what the tenant spent (budget "spent", usage reports, live holds)
and their audit trail, so no lead takes them along: the database refuses to delete a
lead that has calls (no cascade), and `DELETE /api/leads/{id}` archives instead.

* Archive (managers and admins): the lead leaves lists and search (`?archived=true`
  shows the archived ones), cannot be edited or called, and can be restored.
* Erase (admins): the lead's personal data (name, phone, email, company, notes, time
  zone, do-not-call reason) and its calls' content (transcript, summary, recording
  reference, the number called, notes, raw webhook bodies) are removed, and that data
  leaves the audit trails and consent records; the calls' figures stay, and the
  conversations are queued for deletion at ElevenLabs, where the transcript, recording
  and the lead's dynamic variables also live. The tenant's do-not-call list keeps the
  number if it is listed: it is what stops the number from being called again.

Both are refused while the lead is on a live call (409 `lead_on_live_call`): the call
would go on at ElevenLabs for a lead nobody sees. Both first lock the tenant row, as a
placement does before it reads the lead and counts its live calls, so an archive and a
placement racing cannot both succeed: one sees the other's committed result.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import LIVE, CallEvent, CallLog
from leadcall.core.db import on_commit
from leadcall.core.errors import Conflict
from leadcall.core.jobs import JobQueue
from leadcall.core.scoping import Scope
from leadcall.integrations import outbox
from leadcall.leads.models import Lead, LeadEvent
from leadcall.leads.repository import LeadRepository
from leadcall.retention import redaction
from leadcall.tenancy.models import Tenant
from leadcall.tenancy.principal import Principal

DELETE_CONVERSATIONS_JOB = "delete_conversations"


async def _locked_lead(session: AsyncSession, principal: Principal, lead_id: str) -> Lead:
    # As placement takes it (billing's lock order): FOR NO KEY UPDATE, which foreign-key checks pass.
    await session.execute(select(Tenant.id).where(Tenant.id == principal.tenant_id).with_for_update(key_share=True))
    return await LeadRepository(session, principal.scope).get(lead_id)


async def _refuse_live_call(session: AsyncSession, lead: Lead, action: str, *, followed: bool = False) -> None:
    """`followed`: a call that has ended but is still being followed (a canceled call whose final data and
    cost are on their way) counts as live too; erasing it would let that data back in, or leave its hold."""
    live_now = CallLog.status.in_([s.value for s in LIVE])
    condition = or_(live_now, CallLog.next_check_at.is_not(None)) if followed else live_now
    live = (await session.execute(
        select(CallLog.id).where(CallLog.tenant_id == lead.tenant_id, CallLog.lead_id == lead.id,
                                 condition).limit(1))).scalar_one_or_none()
    if live is not None:
        raise Conflict(f"this lead is on a call right now; {action} it once the call has ended (or cancel the call)",
                       code="lead_on_live_call", params={"action": action}, extra={"callId": live})


def _event(session: AsyncSession, principal: Principal, lead: Lead, kind: str, now: datetime,
           detail: str | None = None) -> None:
    session.add(LeadEvent(tenant_id=lead.tenant_id, lead_id=lead.id, at=now, kind=kind, user_id=principal.user_id,
                          actor=principal.email, detail=detail))


async def archive_lead(session: AsyncSession, principal: Principal, lead_id: str, now: datetime) -> Lead:
    """Archives the lead (again: nothing changes)."""
    lead = await _locked_lead(session, principal, lead_id)
    if lead.archived_at is not None:
        return lead
    await _refuse_live_call(session, lead, "archive")
    lead.archived_at = now
    lead.updated_at = now
    _event(session, principal, lead, "archived", now)
    await session.flush()
    return lead


async def restore_lead(session: AsyncSession, principal: Principal, lead_id: str, now: datetime) -> Lead:
    lead = await _locked_lead(session, principal, lead_id)
    if lead.erased_at is not None:
        raise Conflict("this lead's personal data was erased; it stays archived", code="lead_erased")
    if lead.archived_at is None:
        raise Conflict("this lead is not archived", code="lead_not_archived")
    lead.archived_at = None
    lead.updated_at = now
    _event(session, principal, lead, "restored", now)
    await session.flush()
    return lead


async def erase_lead(session: AsyncSession, principal: Principal, lead_id: str, now: datetime,
                     jobs: JobQueue | None) -> Lead:
    """Erases the lead's personal data and its calls' content, keeping their figures (again: nothing changes)."""
    lead = await _locked_lead(session, principal, lead_id)
    if lead.erased_at is not None:
        return lead
    await _refuse_live_call(session, lead, "erase", followed=True)
    calls = (await session.execute(
        select(CallLog.id, CallLog.account_id, CallLog.conversation_id, CallLog.to_number)
        .where(CallLog.tenant_id == lead.tenant_id, CallLog.lead_id == lead.id))).all()
    call_ids = [c.id for c in calls]
    found = {lead.phone or "", lead.email or "", lead.do_not_call_reason or "", *(c.to_number for c in calls)}
    if len(lead.name.strip()) >= 3:
        found.add(lead.name.strip())
    secrets = sorted((s for s in found if s), key=len, reverse=True)  # a longer one first: it may hold a shorter
    await redaction.remove_call_content(session, call_ids, now)
    await redaction.erase_call_details(session, call_ids, secrets)
    await redaction.erase_lead_records(session, lead.id, secrets)
    await redaction.remove_webhook_bodies(
        session, [(c.account_id, c.conversation_id) for c in calls if c.conversation_id], now)
    # Outgoing webhooks not yet sent, and the delivery log's copies, hold the lead's data too.
    await outbox.forget(session, lead.tenant_id, [f"lead:{lead.id}", *(f"call:{i}" for i in call_ids)])
    queued = await redaction.request_provider_deletion(session, lead.tenant_id, call_ids, reason="erasure", now=now)
    for call_id in call_ids:
        session.add(CallEvent(tenant_id=lead.tenant_id, call_id=call_id, at=now, source="user", kind="erased",
                              detail=f"the lead's personal data and this call's content were erased by "
                                     f"{principal.email}"))
    lead.name = ""
    lead.company = lead.phone = lead.email = lead.notes = lead.timezone = lead.do_not_call_reason = None
    lead.archived_at = lead.archived_at or now
    lead.erased_at = now
    lead.updated_at = now
    _event(session, principal, lead, "erased", now,
           detail=f"{len(call_ids)} call(s) redacted; {queued} conversation(s) to delete at ElevenLabs")
    await session.flush()
    if queued and jobs is not None:
        tenant_id = lead.tenant_id

        async def delete_soon() -> None:
            await jobs.enqueue(DELETE_CONVERSATIONS_JOB, tenant_id)

        on_commit(session, delete_soon)
    return lead


async def lead_events(session: AsyncSession, scope: Scope, lead_id: str) -> list[LeadEvent]:
    lead = await LeadRepository(session, scope).get(lead_id)
    stmt = (select(LeadEvent).where(LeadEvent.tenant_id == lead.tenant_id, LeadEvent.lead_id == lead.id)
            .order_by(LeadEvent.at, LeadEvent.seq))
    return list((await session.execute(stmt)).scalars())
