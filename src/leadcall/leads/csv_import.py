"""Leads from a CSV file: good rows are kept, each bad row is reported with its problems by stable codes.

The file may come from any spreadsheet: UTF-8 (with or without BOM), comma, semicolon or tab separated,
with any line ends (LF, CR LF, or the lone CR of Excel's "CSV (Macintosh)"). A cell is bounded by the file
(itself bounded by `max_csv_bytes`) and then by its field's own limit, reported per row like any problem;
every cell passes the same character check as the rest of the API's input (leadcall.core.boundary).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.boundary import FORBIDDEN_CHARACTER, forbidden_character
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
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the file is not UTF-8 text; save it as CSV UTF-8 and try again", code="csv_not_utf8") from exc
    # One line end for every spreadsheet; a line end inside a quoted cell stays a line end.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and each record with the line it starts on. Read whole, before any await: csv's cell limit
    is process-wide, so it is widened (to the file's size, which bounds every cell) only while nothing else runs."""
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    previous = csv.field_size_limit(len(text) + 1)
    try:
        rows: Iterator[list[str]] = iter(reader)
        header = next(rows, [])
        records: list[tuple[int, list[str]]] = []
        start = reader.line_num + 1
        for row in rows:
            records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num} of the file cannot be read as CSV ({exc}); check its quotes",
                      code="csv_unreadable", params={"line": reader.line_num}) from exc
    finally:
        csv.field_size_limit(previous)
    return header, records


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
    header, records = _records(_text(content))
    if not any(h.strip() for h in header):
        raise Invalid("the file is empty; the first line must name the columns (name, phone, ...)", code="csv_empty")
    columns = [_COLUMN_ALIASES.get(h.strip().lower()) for h in header]
    if "name" not in columns:
        raise Invalid("the file needs a 'name' column (also accepted: 'nombre')", code="csv_no_name_column")
    country = await default_country(session, principal.tenant_id)
    owners = await owners_by_email(session, principal, principal.organization_id)
    created: list[str] = []
    errors: list[schemas.ImportRowError] = []
    for line, cells in records:
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column}
        if not any(c.strip() for c in cells):
            continue
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
