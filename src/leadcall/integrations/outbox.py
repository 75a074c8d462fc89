"""Writing events to the outbox, in the transaction of the change they report.

`record` is called by each domain where its change is made (calls: `CallService.publish_after_commit`;
leads: `leads.service.announce_lead`; opt-outs: `rules.records.opt_out`; callbacks:
`SchedulingService.schedule`; budget alerts: `BillingService._raise`). It writes the event and one
delivery per endpoint of the tenant subscribed to its type, in the caller's session: a change that rolls
back sends nothing, a change that commits is delivered even if the process dies right after. The worker
finds due deliveries by itself (`delivery.WebhookDeliveries.enqueue_due`), so nothing is enqueued here.

Ordering: each subject (a call, a lead, a budget) has a counter (`outbox_sequences`) increased under its
row's lock in the same transaction, so a subject's `sequence` numbers follow the order its changes
committed in; a consumer that sees a lower `sequence` than one it already applied may drop it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.integrations.models import DeliveryState, OutboxDelivery, OutboxEvent, OutboxSequence, WebhookEndpoint


def payload(event_type: str, at: datetime, sequence: int, data: dict[str, Any]) -> str:
    """The body every endpoint receives for one event (Standard Webhooks: `type`, `timestamp`, `data`)."""
    return json.dumps({"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "sequence": sequence,
                       "data": data}, separators=(",", ":"), ensure_ascii=False, default=str)


async def _advance(session: AsyncSession, tenant_id: str, subject: str, count: int) -> tuple[int, bool]:
    """Takes `count` sequence numbers of `subject`; returns the last one taken and whether the subject's
    `call.completed` was written already. An upsert: two transactions that announce a new subject at once
    both succeed (one waits for the other), neither fails on the key."""
    table = OutboxSequence.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (insert(table).values(tenant_id=tenant_id, subject=subject, last=count, completed=False)
            .on_conflict_do_update(index_elements=[table.c.subject], set_={"last": table.c.last + count})
            .returning(table.c.last, table.c.completed))
    last, completed = (await session.execute(stmt)).one()
    return int(last), bool(completed)


async def _subscribers(session: AsyncSession, tenant_id: str) -> list[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.enabled.is_(True))
    return list((await session.execute(stmt)).scalars())


def _wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.event_types is None or event_type in endpoint.event_types


async def _write(session: AsyncSession, targets: list[WebhookEndpoint], *, tenant_id: str,
                 organization_id: str | None, event_type: str, subject: str, sequence: int, data: dict[str, Any],
                 now: datetime) -> OutboxEvent | None:
    if not targets:
        return None
    event = OutboxEvent(tenant_id=tenant_id, organization_id=organization_id, type=event_type, subject=subject,
                         sequence=sequence, payload=payload(event_type, now, sequence, data), created_at=now)
    session.add(event)
    await session.flush()
    for endpoint in targets:
        session.add(OutboxDelivery(tenant_id=tenant_id, endpoint_id=endpoint.id, event_id=event.id,
                                    state=DeliveryState.pending.value, next_attempt_at=now, created_at=now,
                                    updated_at=now))
    return event


async def record(session: AsyncSession, *, tenant_id: str, organization_id: str | None, event_type: str,
                 subject: str, data: dict[str, Any], now: datetime) -> int:
    """One event about `subject`, for every endpoint of the tenant subscribed to `event_type`, in the caller's
    transaction. Returns its sequence number."""
    sequence, _ = await _advance(session, tenant_id, subject, 1)
    targets = [e for e in await _subscribers(session, tenant_id) if _wants(e, event_type)]
    await _write(session, targets, tenant_id=tenant_id,
                 organization_id=organization_id, event_type=event_type, subject=subject, sequence=sequence,
                 data=data, now=now)
    return sequence


async def record_call(session: AsyncSession, *, tenant_id: str, organization_id: str, call_id: str,
                      data: dict[str, Any], ended: bool, now: datetime) -> list[str]:
    """A call changed: `call.created` for its first event, `call.updated` for every later one, and
    `call.completed` (after that change's `call.updated`) the first time it is seen ended. Returns the types
    written (subscribed or not)."""
    subject = f"call:{call_id}"
    first, completed = await _advance(session, tenant_id, subject, 1)
    types = ["call.created" if first == 1 else "call.updated"]
    if ended and not completed:
        await _advance(session, tenant_id, subject, 1)
        await session.execute(update(OutboxSequence).where(OutboxSequence.subject == subject)
                              .values(completed=True))
        types.append("call.completed")
    endpoints = await _subscribers(session, tenant_id)
    for offset, event_type in enumerate(types):
        await _write(session, [e for e in endpoints if _wants(e, event_type)], tenant_id=tenant_id,
                     organization_id=organization_id, event_type=event_type, subject=subject,
                     sequence=first + offset, data=data, now=now)
    return types


async def record_for(session: AsyncSession, endpoint: WebhookEndpoint, *, event_type: str, subject: str,
                     data: dict[str, Any], now: datetime) -> int:
    """An event for this one endpoint, whatever it subscribes to (a test send). Returns its sequence."""
    sequence, _ = await _advance(session, endpoint.tenant_id, subject, 1)
    await _write(session, [endpoint], tenant_id=endpoint.tenant_id, organization_id=None, event_type=event_type,
                 subject=subject, sequence=sequence, data=data, now=now)
    return sequence


async def forget(session: AsyncSession, tenant_id: str, subjects: list[str]) -> int:
    """Deletes the events of these subjects, with their deliveries and log (an erased lead's and its calls':
    their payloads hold the lead's data). Returns the events deleted."""
    if not subjects:
        return 0
    done = await session.execute(delete(OutboxEvent).where(OutboxEvent.tenant_id == tenant_id,
                                                           OutboxEvent.subject.in_(subjects))
                                 .execution_options(synchronize_session=False))
    return int(done.rowcount)  # type: ignore[attr-defined]
