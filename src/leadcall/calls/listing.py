"""Calls across leads: GET /api/calls (filters, cursor pages) and the streamed CSV export.

The export reads in keyset chunks of EXPORT_CHUNK calls, each in a short read-only transaction of its own,
and writes each chunk out before reading the next: memory stays that of one chunk whatever the number of
calls (bench/exports.py), on SQLite and PostgreSQL alike, and no transaction is held open while a slow
client downloads. Every cell is made spreadsheet-safe (kit.spreadsheet).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.calls import schemas
from leadcall.calls.repository import CallListing
from leadcall.calls.service import to_wire
from leadcall.core.db import transaction
from leadcall.core.errors import Invalid
from leadcall.core.scoping import Scope
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor
from leadcall.kit.spreadsheet import csv_stream

EXPORT_CHUNK = 1000
EXPORT_HEADER = ("id", "timestamp", "leadId", "leadExternalId", "leadName", "organizationId", "userId", "agentId",
                 "agentName", "status", "callType", "outcome", "phoneResult", "startTime", "endTime",
                 "durationSeconds", "cost", "costCurrency", "toNumber", "summary", "hubspotDisposition",
                 "pipedriveDisposition", "closeDisposition", "salesforceDisposition")


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class CallFilters:
    since: datetime | None = None
    until: datetime | None = None
    agent_id: str | None = None
    outcome: str | None = None
    user_id: str | None = None
    organization_id: str | None = None
    campaign_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", _utc(self.since))
        object.__setattr__(self, "until", _utc(self.until))
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise Invalid("from must be before to", code="date_range_empty", extra={"field": "from"})


async def list_calls(session: AsyncSession, scope: Scope, filters: CallFilters, *, limit: int,
                     cursor: str | None) -> schemas.CallPage:
    try:
        after = decode_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise Invalid(str(exc), extra={"field": "cursor"}) from exc
    rows = await CallListing(session, scope).page(limit=limit + 1, after=after, **asdict(filters))
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.CallPage(items=[to_wire(r) for r in rows],
                            next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)


def _row(call: schemas.CallLog, lead_name: str | None, lead_external_id: str | None) -> list[object]:
    d = call.crm_dispositions
    return [call.id, call.timestamp.isoformat(), call.lead_id, lead_external_id, lead_name, call.organization_id,
            call.user_id, call.agent_id, call.agent_name, call.status.value, call.call_type.value, call.outcome,
            call.phone_result.value if call.phone_result else None,
            call.start_time.isoformat() if call.start_time else None,
            call.end_time.isoformat() if call.end_time else None, call.duration_seconds, call.cost,
            call.cost_currency, call.to_number, call.summary, d.hubspot if d else None, d.pipedrive if d else None,
            d.close if d else None, d.salesforce if d else None]


async def _call_batches(sessionmaker: async_sessionmaker[AsyncSession], scope: Scope, filters: CallFilters,
                        chunk: int) -> AsyncIterator[Iterable[Iterable[object]]]:
    after: tuple[datetime, str] | None = None
    while True:
        async with transaction(sessionmaker) as session:
            rows = await CallListing(session, scope).page_with_leads(limit=chunk, after=after, **asdict(filters))
            batch = [_row(to_wire(call), name, external_id) for call, name, external_id in rows]
            session.expunge_all()
        if batch:
            yield batch
        if len(rows) < chunk:
            return
        after = (rows[-1][0].created_at, rows[-1][0].id)


def export_calls(sessionmaker: async_sessionmaker[AsyncSession], scope: Scope, filters: CallFilters, *,
                 chunk: int = EXPORT_CHUNK) -> AsyncIterator[bytes]:
    return csv_stream(EXPORT_HEADER, _call_batches(sessionmaker, scope, filters, chunk))
