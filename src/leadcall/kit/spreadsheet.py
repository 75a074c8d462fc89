"""CSV that leadcall writes is opened in spreadsheets, so no cell may start like a formula (OWASP "CSV
injection"): a name such as `=HYPERLINK("http://…","click")` would otherwise run when the file is opened."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable

# What makes Excel, LibreOffice and Google Sheets read a cell as a formula (tab and CR: after trimming).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text that starts like a formula, with a leading apostrophe: spreadsheets show it as the text it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows as CSV, every text cell made safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


async def csv_stream(header: Iterable[object], batches: AsyncIterator[Iterable[Iterable[object]]]) -> AsyncIterator[bytes]:
    """A CSV file (UTF-8) written batch by batch as it is read, so memory is bounded by one batch whatever the
    file's size; each cell made safe."""
    yield csv_text([header]).encode()
    async for rows in batches:
        text = csv_text(rows)
        if text:
            yield text.encode()
