"""The tenant's do-not-call list, by E.164 number. Its rules of use (who may list and unlist, the
import, the eligibility check) live in `leadcall.rules`; this module keeps the rows, so that the
leads domain can turn a lead's own do-not-call flag into an entry (source `lead_flag`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.db import fold
from leadcall.core.scoping import Scope, ScopedRepository
from leadcall.leads.models import DncChange, DncEntry, DncSource, Lead, LeadEvent


class DncRepository(ScopedRepository[DncEntry]):
    model = DncEntry
    label = "do-not-call entry"

    async def by_phone(self, phone: str) -> DncEntry | None:
        row: DncEntry | None = (await self.session.execute(
            self.scoped_select().where(DncEntry.phone == phone))).scalar_one_or_none()
        return row

    async def by_phones(self, phones: Sequence[str]) -> dict[str, DncEntry]:
        if not phones:
            return {}
        rows = (await self.session.execute(self.scoped_select().where(DncEntry.phone.in_(set(phones))))).scalars()
        return {row.phone: row for row in rows}

    async def page(self, *, limit: int, after: tuple[datetime, str] | None,
                   search: str | None) -> list[DncEntry]:
        """Newest first, keyset-paginated on (created_at, id)."""
        stmt: Select[DncEntry] = self.scoped_select()
        if search:
            like = f"%{search.strip().lower()}%"
            stmt = stmt.where(or_(DncEntry.phone.like(like), fold(DncEntry.reason).like(like)))
        if after is not None:
            stmt = stmt.where(tuple_(DncEntry.created_at, DncEntry.id) < tuple_(after[0], after[1]))
        stmt = stmt.order_by(DncEntry.created_at.desc(), DncEntry.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())


def list_number(session: AsyncSession, tenant_id: str, phone: str, *, reason: str | None, source: str,
                now: datetime, actor_id: str | None, actor_name: str | None, call_id: str | None = None) -> DncEntry:
    """Adds an entry (the caller has checked that the number is not listed yet) and its audit row."""
    entry = DncEntry(tenant_id=tenant_id, phone=phone, reason=reason, source=source, call_id=call_id,
                     created_by=actor_id, created_by_name=actor_name, created_at=now)
    session.add(entry)
    session.add(DncChange(tenant_id=tenant_id, phone=phone, action="added", source=source, reason=reason,
                          actor_id=actor_id, actor_name=actor_name, at=now))
    return entry


async def unlist_number(session: AsyncSession, entry: DncEntry, *, now: datetime, actor_id: str | None,
                        actor_name: str | None, source: str) -> None:
    await session.execute(delete(DncEntry).where(DncEntry.id == entry.id))
    session.add(DncChange(tenant_id=entry.tenant_id, phone=entry.phone, action="removed", source=source,
                          reason=entry.reason, actor_id=actor_id, actor_name=actor_name, at=now))


def lead_event(lead: Lead, *, at: datetime, kind: str, code: str | None = None,
               params: dict[str, object] | None = None, detail: str | None = None,
               actor_id: str | None = None, actor_name: str | None = None) -> LeadEvent:
    """`actor_name` is how the event names who did it (the user's email at the time)."""
    return LeadEvent(tenant_id=lead.tenant_id, lead_id=lead.id, at=at, kind=kind, code=code, params=params,
                     detail=detail[:500] if detail else None, user_id=actor_id, actor=actor_name or "leadcall")


async def sync_lead_flag(session: AsyncSession, lead: Lead, *, now: datetime, actor_id: str | None,
                         actor_name: str | None) -> None:
    """A flagged lead's number is on the list (source lead_flag); unflagging removes an entry that
    came only from lead flags, once no other lead with that number is flagged."""
    if not lead.phone:
        return
    repo = DncRepository(session, _tenant_scope(lead))
    entry = await repo.by_phone(lead.phone)
    if lead.do_not_call:
        if entry is None:
            list_number(session, lead.tenant_id, lead.phone, reason=lead.do_not_call_reason,
                        source=DncSource.lead_flag.value, now=now, actor_id=actor_id, actor_name=actor_name)
            session.add(lead_event(lead, at=now, kind="dnc_added", code=DncSource.lead_flag.value,
                                   params={"phone": lead.phone}, detail=lead.do_not_call_reason,
                                   actor_id=actor_id, actor_name=actor_name))
        return
    if entry is None or entry.source != DncSource.lead_flag.value:
        return
    others = (await session.execute(select(func.count()).select_from(Lead).where(
        Lead.tenant_id == lead.tenant_id, Lead.phone == lead.phone, Lead.do_not_call.is_(True),
        Lead.id != lead.id))).scalar_one()
    if others == 0:
        await unlist_number(session, entry, now=now, actor_id=actor_id, actor_name=actor_name,
                            source=DncSource.lead_flag.value)
        session.add(lead_event(lead, at=now, kind="dnc_removed", code=DncSource.lead_flag.value,
                               params={"phone": lead.phone}, actor_id=actor_id, actor_name=actor_name))


def _tenant_scope(lead: Lead) -> Scope:
    return Scope(lead.tenant_id, None)
