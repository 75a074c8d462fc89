"""Leads from a CSV file (UTF-8, with or without BOM; read by leadcall.core.csv_files): good rows are kept,
each bad row is reported with its problems by stable codes. A cell too long for its field is such a problem;
every cell passes the same character check as the rest of the API's input (leadcall.core.boundary).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import FORBIDDEN_CHARACTER, forbidden_character
from leadcall.core.csv_files import read_table
from leadcall.core.errors import Invalid, plain_params
from leadcall.leads import schemas
from leadcall.leads.phones import PhoneError, to_e164
from leadcall.leads.service import create_lead, default_country, owners_by_email
from leadcall.tenancy.principal import Principal

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


async def import_csv(session: AsyncSession, principal: Principal, content: bytes,
                     now: datetime) -> schemas.ImportReport:
    """Import leads into the caller's organization. Each row is written inside its own savepoint, so a row
    that fails at the database leaves nothing behind while the others stay."""
    table = read_table(_text(content))
    header = table.header
    if not any(h.strip() for h in header):
        raise Invalid("the file is empty; the first line must name the columns (name, phone, ...)", code="csv_empty")
    columns = [_COLUMN_ALIASES.get(h.strip().lower()) for h in header]
    if "name" not in columns:
        raise Invalid("the file needs a 'name' column (also accepted: 'nombre')", code="csv_no_name_column")
    country = await default_country(session, principal.tenant_id)
    owners = await owners_by_email(session, principal, principal.organization_id)
    created: list[str] = []
    errors: list[schemas.ImportRowError] = []
    for line, cells in table.records:
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column}
        problems = _character_problems(header, columns, cells)
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
        if problems or data is None:
            errors.append(schemas.ImportRowError(row=line, problems=problems,
                                                 errors=[f"{p.field or 'row'}: {p.detail}" for p in problems]))
            continue
        async with session.begin_nested():
            lead = await create_lead(session, principal, data, now, country=country)
        created.append(lead.id)
    if not created and not errors:
        raise Invalid("the file has no rows under its header line", code="csv_no_rows")
    return schemas.ImportReport(created=len(created), rejected=len(errors), errors=errors, lead_ids=created)
