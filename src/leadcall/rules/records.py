"""The do-not-call list by number and consent records: listing, adding, removing, importing.
Every change leaves an audit row (dnc_changes; the lead's events for consent and opt-outs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import FORBIDDEN_CHARACTER, forbidden_character
from leadcall.core.csv_files import read_table
from leadcall.core.errors import Invalid, NotFound
from leadcall.core.scoping import Scope
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor
from leadcall.leads.dnc import DncRepository, lead_event, list_number, unlist_number
from leadcall.leads.models import DncEntry, DncSource, Lead
from leadcall.leads.phones import PhoneError, to_e164
from leadcall.leads.repository import LeadRepository
from leadcall.leads.service import announce_lead, default_country, phone_e164
from leadcall.rules import schemas
from leadcall.rules.models import LeadConsent
from leadcall.tenancy.principal import Principal

PHONE_COLUMNS = ("phone", "teléfono", "telefono", "number", "número", "numero")
REASON_COLUMNS = ("reason", "motivo")


async def normalise(session: AsyncSession, tenant_id: str, raw: str, *, field: str = "phone") -> str:
    return phone_e164(raw, await default_country(session, tenant_id), field=field)


def to_wire(entry: DncEntry) -> schemas.DncEntry:
    return schemas.DncEntry.model_validate(entry)


async def page(session: AsyncSession, principal: Principal, *, search: str | None, cursor: str | None,
               limit: int) -> schemas.DncPage:
    try:
        after = decode_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise Invalid(str(exc), extra={"field": "cursor"}, code="cursor_invalid") from exc
    rows = await DncRepository(session, principal.tenant_scope).page(limit=limit + 1, after=after, search=search)
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.DncPage(items=[to_wire(r) for r in rows],
                           next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)


async def add(session: AsyncSession, principal: Principal, raw_phone: str, reason: str | None, *,
              source: str, now: datetime, call_id: str | None = None) -> tuple[DncEntry, bool]:
    """The entry for the number, and whether this call listed it (False: it was already listed)."""
    phone = await normalise(session, principal.tenant_id, raw_phone)
    repo = DncRepository(session, principal.tenant_scope)
    existing = await repo.by_phone(phone)
    if existing is not None:
        return existing, False
    entry = list_number(session, principal.tenant_id, phone, reason=reason, source=source, now=now,
                        actor_id=principal.user_id, actor_name=principal.name, call_id=call_id)
    await session.flush()
    await _note_on_leads(session, principal, phone, now=now, kind="dnc_added", source=source, reason=reason)
    return entry, True


async def remove(session: AsyncSession, principal: Principal, raw_phone: str, *, now: datetime) -> None:
    phone = await normalise(session, principal.tenant_id, raw_phone)
    entry = await DncRepository(session, principal.tenant_scope).by_phone(phone)
    if entry is None:
        raise NotFound(f"{phone} is not on your do-not-call list", code="not_found",
                       params={"what": "do-not-call entry"})
    await unlist_number(session, entry, now=now, actor_id=principal.user_id, actor_name=principal.name,
                        source=DncSource.manual.value)
    # The flags of leads with this number would list it again: the removal clears them.
    await session.execute(update(Lead).where(Lead.tenant_id == principal.tenant_id, Lead.phone == phone)
                          .values(do_not_call=False, do_not_call_reason=None))
    await _note_on_leads(session, principal, phone, now=now, kind="dnc_removed", source=DncSource.manual.value,
                         reason=entry.reason)


async def _note_on_leads(session: AsyncSession, principal: Principal, phone: str, *, now: datetime, kind: str,
                         source: str, reason: str | None) -> None:
    leads = (await session.execute(select(Lead).where(Lead.tenant_id == principal.tenant_id,
                                                      Lead.phone == phone))).scalars()
    for lead in leads:
        session.add(lead_event(lead, at=now, kind=kind, code=source, params={"phone": phone}, detail=reason,
                               actor_id=principal.user_id, actor_name=principal.email))


async def import_csv(session: AsyncSession, principal: Principal, content: bytes,
                     now: datetime) -> schemas.DncImportReport:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    table = read_table(text)
    fields = {(f or "").strip().lower(): f for f in table.header}
    phone_column = next((fields[c] for c in PHONE_COLUMNS if c in fields), None)
    if phone_column is None:
        raise Invalid("the file needs a 'phone' column (also accepted: 'teléfono'); 'reason' is optional",
                      code="csv_no_phone_column")
    reason_column = next((fields[c] for c in REASON_COLUMNS if c in fields), None)
    country = await default_country(session, principal.tenant_id)
    repo = DncRepository(session, principal.tenant_scope)
    added, already, rejected = 0, 0, []
    seen: set[str] = set()
    rows = [row for _, row in table.rows()]
    if not rows:
        raise Invalid("the file has no rows under its header line", code="csv_no_rows")
    listed = await repo.by_phones([p for r in rows if (p := _try_e164(r.get(phone_column), country))])
    for index, row in enumerate(rows, start=1):
        raw = (row.get(phone_column) or "").strip()
        if any(forbidden_character(cell) for cell in row.values()):
            rejected.append(schemas.DncRejected(row=index, phone=raw[:40], code=FORBIDDEN_CHARACTER))
            continue
        if not raw:
            rejected.append(schemas.DncRejected(row=index, phone="", code="phone_missing"))
            continue
        phone = _try_e164(raw, country)
        if phone is None:
            rejected.append(schemas.DncRejected(row=index, phone=raw[:40], code="phone_invalid"))
            continue
        if phone in seen or phone in listed:
            already += 1
            continue
        seen.add(phone)
        reason = ((row.get(reason_column) or "").strip()[:300] or None) if reason_column else None
        list_number(session, principal.tenant_id, phone, reason=reason, source=DncSource.import_.value, now=now,
                    actor_id=principal.user_id, actor_name=principal.name)
        added += 1
    await session.flush()
    return schemas.DncImportReport(added=added, already_listed=already, rejected=rejected)


def _try_e164(raw: str | None, country: str) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return to_e164(raw, country)
    except PhoneError:
        return None


async def record_consent(session: AsyncSession, principal: Principal, lead_id: str, data: schemas.ConsentCreate,
                         now: datetime) -> LeadConsent:
    lead = await LeadRepository(session, principal.scope).get(lead_id)
    consent = LeadConsent(tenant_id=lead.tenant_id, organization_id=lead.organization_id, lead_id=lead.id,
                          source=data.source, text=data.text, given_at=data.at or now, recorded_by=principal.user_id,
                          created_at=now)
    session.add(consent)
    session.add(lead_event(lead, at=now, kind="consent_given", code=data.source, detail=data.text,
                           actor_id=principal.user_id, actor_name=principal.email))
    await session.flush()
    return consent


async def opt_out(session: AsyncSession, principal: Principal, lead_id: str, now: datetime,
                  *, call_id: str | None = None) -> None:
    """The lead does not want to be called: its consents are revoked and its number goes on the list."""
    lead = await LeadRepository(session, principal.scope).get(lead_id)
    await session.execute(update(LeadConsent).where(
        LeadConsent.tenant_id == lead.tenant_id, LeadConsent.lead_id == lead.id, LeadConsent.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=principal.user_id))
    session.add(lead_event(lead, at=now, kind="opted_out", actor_id=principal.user_id, actor_name=principal.email))
    if lead.phone:
        await add(session, principal, lead.phone, "opted out", source=DncSource.opt_out.value, now=now,
                  call_id=call_id)
    await announce_lead(session, lead, now, event_type="lead.opted_out")


async def consents(session: AsyncSession, scope: Scope, lead_id: str) -> list[LeadConsent]:
    lead = await LeadRepository(session, scope).get(lead_id)
    return list((await session.execute(select(LeadConsent).where(
        LeadConsent.tenant_id == lead.tenant_id, LeadConsent.lead_id == lead.id)
        .order_by(LeadConsent.given_at.desc()))).scalars())
