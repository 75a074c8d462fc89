"""The one pattern of future dials, shared by callbacks and campaign attempts: a row is the truth of one dial
to come (its due time and state); a worker claims a due row with a lease (`claimed_until`) in one conditional
statement, so of two workers racing for it exactly one gets it, and a worker killed while holding it only
delays it until the lease lapses. The dial itself then goes through `CallService.place_call` with an
idempotency key derived from the row (`watch.py` binds the reserved call to its row inside the reservation),
so a second run after a crash replays the same call instead of dialling again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession


def unclaimed(model: Any, now: datetime) -> ColumnElement[bool]:
    """No live worker holds the row."""
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def due(model: Any, now: datetime, open_where: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    return [*open_where, model.due_at <= now, unclaimed(model, now)]


async def unscoped_due_ids(session: AsyncSession, model: Any, now: datetime, limit: int, *,
                           open_where: Sequence[ColumnElement[bool]]) -> list[str]:
    """Open rows whose time has come and that no live worker holds, soonest first."""
    return list((await session.execute(select(model.id).where(*due(model, now, open_where))
                                       .order_by(model.due_at).limit(limit))).scalars())


async def claim(session: AsyncSession, model: Any, row_id: str, now: datetime, until: datetime, *,
                open_where: Sequence[ColumnElement[bool]]) -> bool:
    """One conditional UPDATE: of two workers racing for the row, exactly one gets it."""
    result = await session.execute(update(model).where(model.id == row_id, *due(model, now, open_where))
                                   .values(claimed_until=until).execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def claim_next(session: AsyncSession, model: Any, now: datetime, until: datetime, *,
                     open_where: Sequence[ColumnElement[bool]]) -> str | None:
    """The soonest due row among `open_where`, claimed: PostgreSQL skips rows another worker is claiming
    (`FOR UPDATE SKIP LOCKED`), SQLite has one writer at a time; the conditional UPDATE makes it exact on
    both. None when nothing is due."""
    row_id = (await session.execute(select(model.id).where(*due(model, now, open_where)).order_by(
        model.due_at, model.id).limit(1).with_for_update(skip_locked=True))).scalar_one_or_none()
    if row_id is None or not await claim(session, model, row_id, now, until, open_where=open_where):
        return None
    return str(row_id)


async def claim_due(session: AsyncSession, model: Any, now: datetime, until: datetime, limit: int, *,
                    open_where: Sequence[ColumnElement[bool]], values: dict[str, Any] | None = None,
                    returning: Sequence[Any] = ()) -> list[Any]:
    """Up to `limit` of the soonest due rows among `open_where`, claimed together: picked with `FOR UPDATE
    SKIP LOCKED` on PostgreSQL (SQLite has one writer at a time), then one UPDATE that re-checks each is still
    due and unclaimed, so of two workers racing exactly one gets each row. (Picked in a statement of its own:
    as `IN (subquery)` PostgreSQL may run a `SKIP LOCKED ... LIMIT` subquery more than once and claim more
    than `limit`.) `values` are set with the lease; returns `returning`'s columns of the claimed rows (their
    ids when none are given)."""
    ids = list((await session.execute(select(model.id).where(*due(model, now, open_where)).order_by(
        model.due_at, model.id).limit(limit).with_for_update(skip_locked=True))).scalars())
    if not ids:
        return []
    stmt = (update(model).where(model.id.in_(ids), *due(model, now, open_where))
            .values(claimed_until=until, **(values or {})).returning(*(returning or (model.id,)))
            .execution_options(synchronize_session=False))
    return list((await session.execute(stmt)).all())
