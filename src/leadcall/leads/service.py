"""Leads: create, edit, list and import. Services never commit."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Conflict, Invalid, plain_params
from leadcall.core.scoping import Scope
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor
from leadcall.leads import schemas
from leadcall.leads.models import Lead
from leadcall.leads.phones import PhoneError, to_e164
from leadcall.leads.repository import LeadRepository
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import OrganizationRepository, UserRepository, unscoped_get_tenant

MAX_PAGE = 200


async def _default_country(session: AsyncSession, tenant_id: str) -> str:
    tenant = await unscoped_get_tenant(session, tenant_id)
    return tenant.default_country if tenant else "US"


def _phone(raw: str | None, country: str) -> str | None:
    if raw is None:
        return None
    try:
        return to_e164(raw, country)
    except PhoneError as exc:
        raise Invalid(str(exc), extra={"field": "phone"}, code="phone_invalid", params={"phone": raw}) from exc


async def _check_owner(session: AsyncSession, principal: Principal, owner_id: str | None) -> None:
    if owner_id is not None:
        # Unknown or another tenant's user: the same answer, so nothing leaks.
        if await UserRepository(session, principal.tenant_scope).find(owner_id) is None:
            raise Invalid("the owner is not a user of your team", extra={"field": "ownerId"}, code="owner_not_in_team")


async def create_lead(session: AsyncSession, principal: Principal, data: schemas.LeadCreate,
                      now: datetime, *, country: str | None = None) -> Lead:
    organization_id = principal.organization_id
    if data.organization_id and data.organization_id != principal.organization_id:
        # Only tenant-wide callers (admins) may place a lead in another organization.
        await OrganizationRepository(session, principal.scope).get(data.organization_id)
        organization_id = data.organization_id
    await _check_owner(session, principal, data.owner_id)
    country = country or await _default_country(session, principal.tenant_id)
    lead = Lead(tenant_id=principal.tenant_id, organization_id=organization_id, name=data.name.strip(),
                company=data.company, phone=_phone(data.phone, country), email=data.email, notes=data.notes,
                timezone=data.timezone, status=data.status.value, owner_id=data.owner_id,
                do_not_call=bool(data.do_not_call), do_not_call_reason=data.do_not_call_reason,
                created_at=now, updated_at=now)
    LeadRepository(session, principal.scope).add(lead)
    await session.flush()
    return lead


async def get_lead(session: AsyncSession, scope: Scope, lead_id: str) -> Lead:
    return await LeadRepository(session, scope).get(lead_id)


def refuse_archived(lead: Lead) -> None:
    """An archived lead is kept as a record: it is not edited or called until it is restored."""
    if lead.archived_at is not None:
        raise Conflict("this lead is archived; restore it first", code="lead_archived")


async def update_lead(session: AsyncSession, principal: Principal, lead_id: str, data: schemas.LeadUpdate,
                      now: datetime) -> Lead:
    lead = await LeadRepository(session, principal.scope).get(lead_id)
    refuse_archived(lead)
    changes = data.model_dump(exclude_unset=True)
    if "owner_id" in changes:
        await _check_owner(session, principal, data.owner_id)
    if "phone" in changes:
        changes["phone"] = _phone(data.phone, await _default_country(session, principal.tenant_id))
    if changes.get("name") is None:
        changes.pop("name", None)
    if "status" in changes:
        if data.status is None:
            raise Invalid("status cannot be empty", extra={"field": "status"})
        changes["status"] = data.status.value
    if changes.get("do_not_call") is None:
        changes.pop("do_not_call", None)
    for key, value in changes.items():
        setattr(lead, key, value)
    lead.updated_at = now
    await session.flush()
    return lead


async def list_leads(session: AsyncSession, scope: Scope, *, limit: int, cursor: str | None,
                     search: str | None, status: str | None, owner_id: str | None,
                     organization_id: str | None, archived: bool = False) -> schemas.LeadPage:
    try:
        after = decode_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise Invalid(str(exc), extra={"field": "cursor"}) from exc
    limit = max(1, min(limit, MAX_PAGE))
    rows, total = await LeadRepository(session, scope).page(
        limit=limit + 1, after=after, search=search, status=status, owner_id=owner_id,
        organization_id=organization_id, archived=archived)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return schemas.LeadPage(items=[schemas.Lead.model_validate(r) for r in rows], next_cursor=next_cursor,
                            total=total)


_COLUMN_ALIASES = {
    "name": "name", "nombre": "name", "full name": "name", "company": "company", "empresa": "company",
    "phone": "phone", "telefono": "phone", "teléfono": "phone", "phone number": "phone", "email": "email",
    "correo": "email", "notes": "notes", "notas": "notes", "timezone": "timezone", "zona horaria": "timezone",
    "status": "status", "estado": "status", "do_not_call": "do_not_call", "do not call": "do_not_call",
    "no llamar": "do_not_call", "owner_email": "owner_email", "owner": "owner_email",
}
_TRUE = {"1", "true", "yes", "y", "si", "sí", "x"}


def _problems(exc: ValidationError) -> list[schemas.ImportProblem]:
    problems = []
    for err in exc.errors():
        names = [str(p) for p in err["loc"]]
        problems.append(schemas.ImportProblem(field=names[-1] if names else None, code=err["type"],
                                              params=plain_params(err.get("ctx")), detail=err["msg"]))
    return problems


async def import_csv(session: AsyncSession, principal: Principal, content: bytes,
                     now: datetime) -> schemas.ImportReport:
    """Import leads from CSV. Good rows are kept, bad rows are reported with their reasons.

    Each row is written inside its own savepoint, so a row that fails at the database
    leaves nothing behind while the others stay.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text; save it as CSV UTF-8 and try again", code="csv_not_utf8") from exc
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise Invalid("the file is empty; the first line must name the columns (name, phone, ...)", code="csv_empty")
    columns = {f: _COLUMN_ALIASES.get(f.strip().lower()) for f in reader.fieldnames if f}
    if "name" not in columns.values():
        raise Invalid("the file needs a 'name' column (also accepted: 'nombre')", code="csv_no_name_column")
    country = await _default_country(session, principal.tenant_id)
    users = {u.email: u.id for u in await UserRepository(session, principal.tenant_scope).list()}
    created: list[str] = []
    errors: list[schemas.ImportRowError] = []
    for index, raw in enumerate(reader, start=2):
        row = {columns[k]: (v or "").strip() for k, v in raw.items() if k and columns.get(k)}
        if not any(row.values()):
            continue
        problems: list[schemas.ImportProblem] = []
        owner_email = row.pop("owner_email", "")
        owner_id = users.get(owner_email.lower()) if owner_email else None
        if owner_email and owner_id is None:
            problems.append(schemas.ImportProblem(field="owner_email", code="owner_unknown",
                                                  params={"email": owner_email},
                                                  detail=f"no user with the email {owner_email}"))
        dnc = row.pop("do_not_call", "").lower() in _TRUE
        if not row.get("status"):
            row.pop("status", None)
        try:
            data = schemas.LeadCreate.model_validate({**row, "owner_id": owner_id, "do_not_call": dnc})
        except ValidationError as exc:
            problems.extend(_problems(exc))
            data = None
        if data is not None and data.phone:
            try:
                to_e164(data.phone, country)
            except PhoneError as exc:
                problems.append(schemas.ImportProblem(field="phone", code="phone_invalid", params={"phone": data.phone},
                                                      detail=str(exc)))
        if problems or data is None:
            errors.append(schemas.ImportRowError(row=index, problems=problems,
                                                 errors=[f"{p.field or 'row'}: {p.detail}" for p in problems]))
            continue
        async with session.begin_nested():
            lead = await create_lead(session, principal, data, now, country=country)
        created.append(lead.id)
    if not created and not errors:
        raise Invalid("the file has no rows under its header line", code="csv_no_rows")
    return schemas.ImportReport(created=len(created), rejected=len(errors), errors=errors, lead_ids=created)
