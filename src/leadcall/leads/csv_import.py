"""Leads from a CSV file (UTF-8, with or without BOM; read by leadcall.core.csv_files): good rows are kept,
each bad row is reported with its problems by stable codes. A cell too long for its field is such a problem;
every cell passes the same character check as the rest of the API's input (leadcall.core.boundary).

A row updates the lead it matches instead of adding a second one: first by its `externalId` (the CRM's id, in the
tenant), then by its phone number among the organization's leads (not archived; a lead with another CRM id is
another lead). An update sets the row's non-empty cells and leaves the rest as they are; a row that changes
nothing leaves the lead untouched, so the same file imported twice changes nothing the second time. A dry run
plans the same and writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import FORBIDDEN_CHARACTER, forbidden_character
from leadcall.core.csv_files import read_table
from leadcall.core.errors import Invalid, LeadcallError, plain_params
from leadcall.core.scoping import Scope
from leadcall.leads import schemas
from leadcall.leads.models import Lead
from leadcall.leads.phones import PhoneError, to_e164
from leadcall.leads.repository import LeadRepository
from leadcall.leads.service import (
    create_lead,
    default_country,
    external_id_taken,
    owners_by_email,
    phone_e164,
    refuse_archived,
    update_lead,
)
from leadcall.leads.upsert import wanted_changes
from leadcall.tenancy.principal import Principal

_COLUMN_ALIASES = {
    "name": "name", "nombre": "name", "full name": "name", "company": "company", "empresa": "company",
    "phone": "phone", "telefono": "phone", "teléfono": "phone", "phone number": "phone", "email": "email",
    "correo": "email", "notes": "notes", "notas": "notes", "timezone": "timezone", "zona horaria": "timezone",
    "status": "status", "estado": "status", "do_not_call": "do_not_call", "do not call": "do_not_call",
    "no llamar": "do_not_call", "owner_email": "owner_email", "owner": "owner_email",
    "externalid": "external_id", "external_id": "external_id", "external id": "external_id", "crm id": "external_id",
    "id externo": "external_id",
}
_TRUE = {"1", "true", "yes", "y", "si", "sí", "x"}


def _problems(exc: ValidationError) -> list[schemas.ImportProblem]:
    problems = []
    for err in exc.errors():
        names = [str(p) for p in err["loc"]]
        problems.append(schemas.ImportProblem(field=names[-1] if names else None, code=err["type"],
                                              params=plain_params(err.get("ctx")), detail=err["msg"]))
    return problems


def _text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text; save it as CSV UTF-8 and try again", code="csv_not_utf8") from exc


def _character_problems(header: list[str], columns: list[str | None], row: list[str]) -> list[schemas.ImportProblem]:
    problems = []
    for index, cell in enumerate(row):
        if character := forbidden_character(cell):
            name = (columns[index] or header[index].strip()) if index < len(header) else f"column {index + 1}"
            problems.append(schemas.ImportProblem(
                field=name, code=FORBIDDEN_CHARACTER, params={"character": character},
                detail=f"contains the control character {character}, which no field accepts; remove it"))
    return problems


def _planned(data: schemas.LeadCreate, principal: Principal, country: str) -> Lead:
    """A lead a dry run would create, not added to the session: later rows of the file match it."""
    return Lead(tenant_id=principal.tenant_id, organization_id=principal.organization_id,
                external_id=data.external_id, name=data.name, company=data.company,
                phone=phone_e164(data.phone, country), email=data.email, notes=data.notes, timezone=data.timezone,
                status=data.status.value, owner_id=data.owner_id, do_not_call=bool(data.do_not_call),
                do_not_call_reason=data.do_not_call_reason)


class _Matcher:
    """Finds the lead a row is about: in the database, and (in a dry run) among the leads planned so far."""

    def __init__(self, session: AsyncSession, principal: Principal, country: str) -> None:
        self.tenant = LeadRepository(session, Scope(principal.tenant_id))
        self.organization = LeadRepository(session, Scope(principal.tenant_id, principal.organization_id))
        self.principal = principal
        self.country = country
        self.planned: list[Lead] = []

    async def match(self, data: schemas.LeadCreate) -> Lead | None:
        phone = phone_e164(data.phone, self.country) if data.phone else None
        for lead in self.planned:
            if (data.external_id and lead.external_id == data.external_id) or (
                    phone and lead.phone == phone and lead.external_id in (None, data.external_id)):
                return lead
        if data.external_id:
            found = (await self.tenant.by_external_ids([data.external_id])).get(data.external_id)
            if found is not None:
                if self.principal.scope.organization_id not in (None, found.organization_id):
                    raise external_id_taken(data.external_id)
                return found
        if phone:
            found = (await self.organization.by_phones([phone])).get(phone)
            if found is not None and found.external_id in (None, data.external_id):
                return found
        return None


async def import_csv(session: AsyncSession, principal: Principal, content: bytes,
                     now: datetime, *, dry_run: bool = False) -> schemas.ImportReport:
    """Import leads into the caller's organization. Each row is written inside its own savepoint, so a row
    that fails at the database leaves nothing behind while the others stay. `dry_run` writes nothing and
    reports what the import would do."""
    table = read_table(_text(content))
    header = table.header
    if not any(h.strip() for h in header):
        raise Invalid("the file is empty; the first line must name the columns (name, phone, ...)", code="csv_empty")
    columns = [_COLUMN_ALIASES.get(h.strip().lower()) for h in header]
    if "name" not in columns:
        raise Invalid("the file needs a 'name' column (also accepted: 'nombre')", code="csv_no_name_column")
    country = await default_country(session, principal.tenant_id)
    owners = await owners_by_email(session, principal, principal.organization_id)
    matcher = _Matcher(session, principal, country)
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    errors: list[schemas.ImportRowError] = []
    for line, cells in table.records:
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column}
        problems = _character_problems(header, columns, cells)
        given = {key for key, value in row.items() if value}
        owner_email = row.pop("owner_email", "")
        owner_id = owners.get(owner_email.lower()) if owner_email else None
        if owner_email and owner_id is None:
            problems.append(schemas.ImportProblem(field="owner_email", code="owner_unknown",
                                                  params={"email": owner_email},
                                                  detail=f"no user with the email {owner_email}"))
        dnc = row.pop("do_not_call", "").lower() in _TRUE
        if not row.get("status"):
            row.pop("status", None)
        try:
            data: schemas.LeadCreate | None = schemas.LeadCreate.model_validate(
                {**row, "owner_id": owner_id, "do_not_call": dnc})
        except ValidationError as exc:
            problems.extend(_problems(exc))
            data = None
        if data is not None and data.phone:
            try:
                to_e164(data.phone, country)
            except PhoneError as exc:
                problems.append(schemas.ImportProblem(field="phone", code="phone_invalid", params={"phone": data.phone},
                                                      detail=str(exc)))
        if not problems and data is not None:
            try:
                status, lead_id = await _apply(session, principal, matcher, data, given, now, country, dry_run)
            except LeadcallError as exc:
                field = exc.extra.get("field")
                problems.append(schemas.ImportProblem(field=str(field) if field else None, code=exc.code or exc.error,
                                                      params=plain_params(exc.params), detail=exc.detail))
            else:
                counts[status] += 1
                if lead_id is not None:
                    {"created": created, "updated": updated, "unchanged": unchanged}[status].append(lead_id)
                continue
        errors.append(schemas.ImportRowError(row=line, problems=problems,
                                             errors=[f"{p.field or 'row'}: {p.detail}" for p in problems]))
    if not any(counts.values()) and not errors:
        raise Invalid("the file has no rows under its header line", code="csv_no_rows")
    return schemas.ImportReport(created=counts["created"], updated=counts["updated"], unchanged=counts["unchanged"],
                                rejected=len(errors), errors=errors, lead_ids=created, updated_ids=updated,
                                unchanged_ids=unchanged, dry_run=dry_run)


async def _apply(session: AsyncSession, principal: Principal, matcher: _Matcher, data: schemas.LeadCreate,
                 given: set[str], now: datetime, country: str, dry_run: bool) -> tuple[str, str | None]:
    """The row's fate (created, updated or unchanged) and its lead's id (None for a lead a dry run would create)."""
    lead = await matcher.match(data)
    if lead is None:
        if dry_run:
            matcher.planned.append(_planned(data, principal, country))
            return "created", None
        async with session.begin_nested():
            return "created", (await create_lead(session, principal, data, now, country=country)).id
    fields = {"owner_email": "owner_id"}
    wanted = schemas.LeadUpsert.model_validate(data.model_dump(include={fields.get(k, k) for k in given}))
    changes = wanted_changes(lead, wanted, country)
    if data.external_id and lead.external_id is None:  # matched by phone: it gets the CRM's id
        changes["external_id"] = data.external_id
    if not changes:
        return "unchanged", lead.id
    refuse_archived(lead)
    if lead in matcher.planned:  # a lead only a dry run knows of (an earlier row of the file creates it)
        for key, value in changes.items():
            setattr(lead, key, value)
        return "updated", None
    if dry_run:
        return "updated", lead.id
    async with session.begin_nested():
        await update_lead(session, principal, lead.id, schemas.LeadUpdate.model_validate(changes), now,
                          country=country)
    return "updated", lead.id
