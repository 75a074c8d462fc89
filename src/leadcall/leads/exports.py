"""GET /api/leads/export: GET /api/leads' leads (same filters, same scope), all of them, as CSV streamed in
keyset chunks, each read in a short transaction of its own (memory of one chunk, whatever the number of leads);
every cell spreadsheet-safe (kit.spreadsheet)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.kit.spreadsheet import csv_stream
from leadcall.leads.models import Lead
from leadcall.leads.repository import LeadRepository

EXPORT_CHUNK = 1000
HEADER = ("id", "externalId", "name", "company", "phone", "email", "status", "ownerId", "organizationId",
          "timezone", "doNotCall", "notes", "createdAt", "updatedAt", "lastCalledAt", "archivedAt")


def _row(lead: Lead) -> list[object]:
    return [lead.id, lead.external_id, lead.name, lead.company, lead.phone, lead.email, lead.status, lead.owner_id,
            lead.organization_id, lead.timezone, "true" if lead.do_not_call else "false", lead.notes,
            lead.created_at.isoformat(), lead.updated_at.isoformat(),
            lead.last_called_at.isoformat() if lead.last_called_at else None,
            lead.archived_at.isoformat() if lead.archived_at else None]


async def _batches(sessionmaker: async_sessionmaker[AsyncSession], scope: Scope, filters: dict[str, Any],
                   chunk: int) -> AsyncIterator[Iterable[Iterable[object]]]:
    after: tuple[datetime, str] | None = None
    while True:
        async with transaction(sessionmaker) as session:
            rows = await LeadRepository(session, scope).chunk(limit=chunk, after=after, **filters)
            batch = [_row(lead) for lead in rows]
            session.expunge_all()
        if batch:
            yield batch
        if len(rows) < chunk:
            return
        after = (rows[-1].created_at, rows[-1].id)


def export_leads(sessionmaker: async_sessionmaker[AsyncSession], scope: Scope, *, chunk: int = EXPORT_CHUNK,
                 **filters: Any) -> AsyncIterator[bytes]:
    return csv_stream(HEADER, _batches(sessionmaker, scope, filters, chunk))
