"""CSV files people upload, as spreadsheets write them: comma, semicolon or tab separated, any line ends (LF,
CR LF, or the lone CR of Excel's "CSV (Macintosh)"), cells of any size. The file is bounded by the upload
limit (`max_csv_bytes`), and so is every cell; each field then applies its own limit, row by row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from fastapi import UploadFile

from leadcall.core.errors import Invalid


@dataclass(frozen=True)
class CsvTable:
    header: list[str]
    # Each record with the line of the file it starts on (the header is line 1; a quoted cell may span lines).
    records: list[tuple[int, list[str]]]

    def rows(self) -> list[tuple[int, dict[str, str]]]:
        """Each record by column name (as the header writes it); missing cells are empty."""
        return [(line, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(self.header)})
                for line, cells in self.records]


def read_table(text: str) -> CsvTable:
    """The header and records of a CSV text. Read whole, before any await: csv's cell limit is process-wide,
    so it is widened (to the text's size, which bounds every cell) only while nothing else runs. Blank lines
    are skipped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # a line end inside a quoted cell stays one
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    previous = csv.field_size_limit(len(text) + 1)
    try:
        header = next(reader, [])
        records: list[tuple[int, list[str]]] = []
        start = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num} of the file cannot be read as CSV ({exc}); check its quotes",
                      code="csv_unreadable", params={"line": reader.line_num}) from exc
    finally:
        csv.field_size_limit(previous)
    return CsvTable(header=header, records=records)


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """An uploaded CSV file's bytes, refused (413-worthy size told in MB) beyond `limit` without reading more."""
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise Invalid(f"the file is larger than {limit // (1024 * 1024)} MB; split it and import the parts",
                      code="csv_too_large", params={"megabytes": limit // (1024 * 1024)})
    return content
