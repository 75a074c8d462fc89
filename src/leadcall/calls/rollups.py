"""The daily usage rollups (`UsageRollup`), kept exact in the transaction of every change of a call.

What a call adds to the usage report is its `Contribution`: its UTC day, organization, agent, user and
outcome, one call, answered or not, its seconds and its cost. Every change of it reaches
`record_change(old, new)`, the one function that turns it into rollup differences:
- every ORM write of a CallLog (its creation, a status or outcome move, its duration, a late cost from a
  webhook, a poll or the reconciler, a seller's correction, a deletion) through the flush watch below,
  old and new read from the row's own state before it is written;
- the one Core UPDATE that moves a status (calls/service.py `_record_ringing`), with the row it returns.
Other UPDATEs of call_logs (retention, erasure, polling claims) write none of the fields a contribution
reads. A lead's archival or erasure leaves its calls in place, so their spend stays in the rollups too.

Differences wait in the session until its transaction commits and then go in as one
INSERT … ON CONFLICT DO UPDATE SET calls = calls + excluded.calls, … with rows in key order: increments,
never read-modify-write, so two transactions changing calls of one day both count (PostgreSQL queues the
second on the row, SQLite has one writer), and today's rows, which every call of a team touches, are
locked last, only for the commit, always in one order (two such transactions cannot deadlock on them).
Inside a savepoint they are applied at once instead, so that they share its fate.

`differences` compares the rollups with the same GROUP BY over the raw calls (`leadcall usage verify`);
`rebuild` writes a tenant's rollups from its raw calls (after a bulk load that bypassed the ORM).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from typing import cast as typed

from sqlalchemy import BigInteger, ColumnElement, Table, case, cast, delete, event, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.session import SessionTransaction
from sqlalchemy.sql import Select

from leadcall.calls.models import CallLog, UsageRollup

# The call fields a contribution reads.
FIELDS = ("tenant_id", "organization_id", "created_at", "agent_ref_id", "agent_name", "user_id", "status",
          "phone_result", "sales_result", "duration_seconds", "cost")
DIMENSIONS = ("agent", "user", "outcome")
KEY_COLUMNS = ("tenant_id", "day", "organization_id", "dimension", "key", "label")
METRICS = ("calls", "answered", "seconds", "cost_units")
COST_UNITS = 10_000  # call_logs.cost has four decimals
PENDING = "leadcall.usage_rollups_pending"

Key = tuple[str, date, str, str, str, str]  # KEY_COLUMNS
Figures = tuple[int, int, int, int]  # METRICS


@dataclass(frozen=True)
class Contribution:
    tenant_id: str
    organization_id: str
    day: date
    agent: tuple[str, str]  # agent_ref_id, agent_name ('' for none)
    user: str  # '' for none
    outcome: str
    answered: int
    seconds: int
    cost_units: int

    def rows(self) -> Iterable[tuple[Key, Figures]]:
        figures = (1, self.answered, self.seconds, self.cost_units)
        for dimension, (key, label) in (("agent", self.agent), ("user", (self.user, "")),
                                        ("outcome", (self.outcome, ""))):
            yield (self.tenant_id, self.day, self.organization_id, dimension, key, label), figures


def cost_units(cost: float | None) -> int:
    return round(cost * COST_UNITS) if cost is not None else 0


def contribution(values: Mapping[str, Any]) -> Contribution:
    """What a call with these field values (FIELDS) adds to the usage report."""
    created: datetime = values["created_at"]
    return Contribution(
        tenant_id=values["tenant_id"], organization_id=values["organization_id"],
        day=created.astimezone(UTC).date(), agent=(values["agent_ref_id"], values["agent_name"] or ""),
        user=values["user_id"] or "", outcome=values["sales_result"] or values["phone_result"] or values["status"],
        answered=1 if values["phone_result"] == "answered" else 0, seconds=int(values["duration_seconds"] or 0),
        cost_units=cost_units(values["cost"]))


def _sync(session: Session | AsyncSession) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def record_change(session: Session | AsyncSession, old: Contribution | None, new: Contribution | None) -> None:
    """A call's contribution went from `old` to `new` (None: the call did not exist / no longer exists) in
    this session's transaction; the rollups follow when it commits (at once inside a savepoint)."""
    if old == new:
        return
    deltas: dict[Key, list[int]] = {}
    for contrib, sign in ((old, -1), (new, 1)):
        if contrib is None:
            continue
        for key, figures in contrib.rows():
            row = deltas.setdefault(key, [0, 0, 0, 0])
            for i, value in enumerate(figures):
                row[i] += sign * value
    sync = _sync(session)
    if sync.in_nested_transaction():
        _apply(sync, deltas)
        return
    pending: dict[Key, list[int]] = sync.info.setdefault(PENDING, {})
    for key, row in deltas.items():
        into = pending.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(row):
            into[i] += value


def _apply(session: Session, deltas: Mapping[Key, list[int]]) -> None:
    rows = [dict(zip(KEY_COLUMNS, key, strict=True)) | dict(zip(METRICS, figures, strict=True))
            for key, figures in sorted(deltas.items()) if any(figures)]
    if not rows:
        return
    table = _table()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY_COLUMNS),
                                      set_={m: table.c[m] + stmt.excluded[m] for m in METRICS})
    session.execute(stmt)


def _table() -> Table:
    return typed(Table, UsageRollup.__table__)


# -- the watch: every ORM write of a call ------------------------------------------------------------


def _values_before(session: Session, row: CallLog) -> dict[str, Any] | None:
    """The row's FIELDS as the database holds them before this flush; None if the flush changes none."""
    state = row.__dict__["_sa_instance_state"]
    committed: Mapping[str, Any] = state.committed_state
    if not any(f in committed for f in FIELDS):
        return None
    values = {f: committed[f] if f in committed else state.dict.get(f, NO_VALUE) for f in FIELDS}
    if any(v is NO_VALUE for v in values.values()):  # not loaded (expired): the database still has them
        columns = [getattr(CallLog, f) for f in FIELDS]
        values = dict(session.execute(select(*columns).where(CallLog.id == row.id)).one()._mapping)
    return values


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    for row in list(session.dirty):
        if isinstance(row, CallLog):
            old = _values_before(session, row)
            if old is not None:
                new = {f: row.__dict__.get(f, old[f]) for f in FIELDS}
                record_change(session, contribution(old), contribution(new))
    for row in list(session.deleted):
        if isinstance(row, CallLog):
            old = _values_before(session, row) or {f: getattr(row, f) for f in FIELDS}
            record_change(session, contribution(old), None)


def _after_flush(session: Session, _context: object) -> None:
    for row in list(session.new):  # after the insert: column defaults (the first status) are set
        if isinstance(row, CallLog):
            record_change(session, None, contribution({f: getattr(row, f) for f in FIELDS}))


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # what the commit would flush, so that its differences go in with the rest
    pending = session.info.pop(PENDING, None)
    if pending:
        _apply(session, pending)


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:
        session.info.pop(PENDING, None)  # none of it happened


def install() -> None:
    """Watches every session (idempotent; called when the app is built)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)


# -- the same figures from the raw calls -------------------------------------------------------------


def _day_of_call(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", CallLog.created_at))
    return func.substr(CallLog.created_at, 1, 10)  # SQLite keeps UTC datetimes as ISO text


def _raw_selects(dialect: str, tenant_id: str) -> list[Select[Any]]:
    day = _day_of_call(dialect)
    keys: dict[str, tuple[Any, Any]] = {  # (key, label); a label of None is the constant ''
        "agent": (CallLog.agent_ref_id, func.coalesce(CallLog.agent_name, "")),
        "user": (func.coalesce(CallLog.user_id, ""), None),
        "outcome": (func.coalesce(CallLog.sales_result, CallLog.phone_result, CallLog.status), None),
    }
    units = cast(func.round(CallLog.cost * COST_UNITS), BigInteger)
    return [select(CallLog.tenant_id, day, CallLog.organization_id, literal(dimension), key,
                   label if label is not None else literal(""), func.count(),
                   func.sum(case((CallLog.phone_result == "answered", 1), else_=0)),
                   func.coalesce(func.sum(CallLog.duration_seconds), 0), func.coalesce(func.sum(units), 0))
            .where(CallLog.tenant_id == tenant_id)
            .group_by(CallLog.tenant_id, day, CallLog.organization_id, key, *([label] if label is not None else []))
            for dimension, (key, label) in keys.items()]


def _as_key(row: Any) -> Key:
    day = row[1] if isinstance(row[1], date) else date.fromisoformat(str(row[1]))
    return (str(row[0]), day, str(row[2]), str(row[3]), str(row[4]), str(row[5]))


def _figures(row: Any) -> Figures:
    return (int(row[6]), int(row[7] or 0), int(row[8] or 0), int(round(float(row[9] or 0))))


async def raw_groups(session: AsyncSession, tenant_id: str) -> dict[Key, Figures]:
    """What the rollups of a tenant must hold, grouped in SQL over its raw calls."""
    dialect = session.get_bind().dialect.name
    groups: dict[Key, Figures] = {}
    for stmt in _raw_selects(dialect, tenant_id):
        for row in (await session.execute(stmt)).all():
            groups[_as_key(row)] = _figures(row)
    return groups


async def rollup_groups(session: AsyncSession, tenant_id: str) -> dict[Key, Figures]:
    """The tenant's rollups (rows that count no call left, after calls moved away from them, are skipped)."""
    r = UsageRollup
    rows = (await session.execute(select(r.tenant_id, r.day, r.organization_id, r.dimension, r.key, r.label,
                                         r.calls, r.answered, r.seconds, r.cost_units)
                                  .where(r.tenant_id == tenant_id, r.calls != 0))).all()
    return {_as_key(row): _figures(row) for row in rows}


async def differences(session: AsyncSession, tenant_id: str) -> list[tuple[Key, Figures | None, Figures | None]]:
    """(key, rollup figures, raw figures) wherever the rollups and the raw calls disagree; empty when exact."""
    rolled, raw = await rollup_groups(session, tenant_id), await raw_groups(session, tenant_id)
    return [(key, rolled.get(key), raw.get(key)) for key in sorted(rolled.keys() | raw.keys())
            if rolled.get(key) != raw.get(key)]


async def rebuild(session: AsyncSession, tenant_id: str) -> None:
    """Writes the tenant's rollups afresh from its raw calls (one GROUP BY per dimension)."""
    dialect = session.get_bind().dialect.name
    await session.execute(delete(UsageRollup).where(UsageRollup.tenant_id == tenant_id))
    columns = [*KEY_COLUMNS, *METRICS]
    for stmt in _raw_selects(dialect, tenant_id):
        await session.execute(_table().insert().from_select(columns, stmt))


async def unscoped_tenant_ids(session: AsyncSession) -> list[str]:
    """Every tenant with calls or rollups (the operator's check runs over all of them)."""
    calls = select(CallLog.tenant_id).distinct()
    rolled = select(UsageRollup.tenant_id).distinct()
    return sorted({str(t) for t in (await session.execute(calls.union(rolled))).scalars()})
