"""Callbacks' SQL: the scoped repository, and the worker's unscoped reads and atomic claims."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.scoping import ScopedRepository
from leadcall.leads.models import Lead
from leadcall.scheduling import lease
from leadcall.scheduling.models import OPEN, Callback, CallbackStatus


class CallbackRepository(ScopedRepository[Callback]):
    model = Callback
    label = "callback"

    async def listing(self, *, due_before: datetime | None, lead_id: str | None = None,
                      statuses: tuple[str, ...] | None = None, owner_id: str | None = None,
                      limit: int = 200) -> list[Callback]:
        stmt = self.scoped_select()
        if due_before is not None:
            stmt = stmt.where(Callback.due_at < due_before)
        if lead_id is not None:
            stmt = stmt.where(Callback.lead_id == lead_id)
        if statuses:
            stmt = stmt.where(Callback.status.in_(statuses))
        if owner_id is not None:  # the lead's owner, or (an unowned lead) whoever the callback is for
            stmt = stmt.join(Lead, Lead.id == Callback.lead_id).where(or_(
                Lead.owner_id == owner_id, (Lead.owner_id.is_(None)) & (Callback.user_id == owner_id)))
        return list((await self.session.execute(
            stmt.order_by(Callback.due_at, Callback.id).limit(limit))).scalars())

    async def of_source_call(self, call_id: str) -> Callback | None:
        row: Callback | None = (await self.session.execute(
            self.scoped_select().where(Callback.source_call_id == call_id))).scalar_one_or_none()
        return row


SCHEDULED = (Callback.status == CallbackStatus.scheduled.value,)


async def unscoped_due(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Scheduled callbacks whose time has come and that no live worker holds."""
    return await lease.unscoped_due_ids(session, Callback, now, limit, open_where=SCHEDULED)


async def claim(session: AsyncSession, callback_id: str, now: datetime, until: datetime) -> bool:
    """Of two workers racing for a callback, exactly one gets it (`lease.claim`)."""
    return await lease.claim(session, Callback, callback_id, now, until, open_where=SCHEDULED)


async def unscoped_get(session: AsyncSession, callback_id: str) -> Callback | None:
    return await session.get(Callback, callback_id, populate_existing=True)


async def end(session: AsyncSession, callback_id: str, status: CallbackStatus, *, code: str, reason: str,
              now: datetime) -> bool:
    """An open callback ends (canceled or missed); False if it was no longer open."""
    result = await session.execute(update(Callback).where(Callback.id == callback_id, Callback.status.in_(OPEN))
                                   .values(status=status.value, reason_code=code, reason=reason[:500],
                                           claimed_until=None, updated_at=now)
                                   .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
