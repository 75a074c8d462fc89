"""Callbacks end by themselves when what they were for is gone, whichever path made it so.

Every unit of work is watched as it flushes (SQLAlchemy `after_flush`, in the same transaction, so a change
and its consequence commit or roll back together):
- a number put on the do-not-call list (opt-out, manual, API, import, a lead's flag): the open callbacks of
  every lead with that number are canceled;
- a lead archived: its open callbacks are canceled;
- a call reserved for a lead: the callback it was placed for (its idempotency key `callback:<id>`) becomes
  `placed` with that call, or the reservation fails when that callback is no longer open; any other open
  callback of the lead is canceled (the lead was called otherwise).
The ids of callbacks changed here are kept in `session.info[CHANGED]` for whoever publishes their events.

Other rows of the scheduler (campaign attempts) bind their reserved calls the same way: `bind_key` names the
prefix of their idempotency keys and the function that binds the call to its row in the reservation (or
refuses it, raising, when that row may no longer be dialled), so the row and its call commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from leadcall.calls.models import CallLog
from leadcall.core.errors import Conflict
from leadcall.leads.models import DncEntry, Lead
from leadcall.scheduling.models import OPEN, Callback, CallbackStatus

KEY_PREFIX = "callback:"
CHANGED = "leadcall.callbacks_changed"


# Key prefix → binds a reserved call to the scheduler row its key names; answers that row's id.
Binder = Callable[[Session, CallLog, str], str]
_BINDERS: dict[str, Binder] = {}


def bind_key(prefix: str, binder: Binder) -> None:
    """Calls whose idempotency key starts with `prefix` are bound by `binder` (given the rest of the key)."""
    _BINDERS[prefix] = binder


def idempotency_key(callback_id: str) -> str:
    return f"{KEY_PREFIX}{callback_id}"


def _cancel(session: Session, where: list[Any], *, code: str, reason: str, at: Any) -> None:
    ids = list(session.execute(select(Callback.id).where(Callback.status.in_(OPEN), *where)).scalars())
    if not ids:
        return
    session.execute(update(Callback).where(Callback.id.in_(ids), Callback.status.in_(OPEN)).values(
        status=CallbackStatus.canceled.value, reason_code=code, reason=reason, claimed_until=None, updated_at=at))
    session.info.setdefault(CHANGED, set()).update(ids)


def _placed(session: Session, call: CallLog) -> str | None:
    """Marks the callback a call was reserved for as placed; its id (None: the call is not a callback's)."""
    key = call.idempotency_key or ""
    if not key.startswith(KEY_PREFIX):
        return None
    callback_id = key[len(KEY_PREFIX):]
    done = session.execute(update(Callback).where(
        Callback.id == callback_id, Callback.tenant_id == call.tenant_id, Callback.lead_id == call.lead_id,
        Callback.status.in_(OPEN)).values(status=CallbackStatus.placed.value, call_id=call.id, claimed_until=None,
                                          reason_code=None, reason=None, updated_at=call.created_at))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this callback is no longer scheduled (it was placed, canceled or missed meanwhile)",
                       code="callback_not_open", params={"callbackId": callback_id})
    session.info.setdefault(CHANGED, set()).add(callback_id)
    return callback_id


def _after_flush(session: Session, _context: object) -> None:
    for row in list(session.new):
        if isinstance(row, CallLog):
            key = row.idempotency_key or ""
            for prefix, binder in _BINDERS.items():
                if key.startswith(prefix):
                    binder(session, row, key[len(prefix):])
            own = _placed(session, row)
            where = [Callback.tenant_id == row.tenant_id, Callback.lead_id == row.lead_id]
            if own is not None:
                where.append(Callback.id != own)
            _cancel(session, where, code="called_otherwise", at=row.created_at,
                    reason="the lead was called otherwise before its callback was due")
        elif isinstance(row, DncEntry):
            leads = select(Lead.id).where(Lead.tenant_id == row.tenant_id, Lead.phone == row.phone)
            _cancel(session, [Callback.tenant_id == row.tenant_id, Callback.lead_id.in_(leads)],
                    code="number_on_dnc", at=row.created_at,
                    reason=f"{row.phone} was put on the do-not-call list ({row.reason or row.source})")
    for row in list(session.dirty):
        if isinstance(row, Lead) and row.archived_at is not None:
            _cancel(session, [Callback.tenant_id == row.tenant_id, Callback.lead_id == row.id],
                    code="lead_archived", reason="the lead was archived", at=row.archived_at)


def _rolled_back(session: Session) -> None:
    session.info.pop(CHANGED, None)  # nothing of it happened


def install() -> None:
    """Watches every session (idempotent; called when the scheduler is built)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_rollback", _rolled_back)
