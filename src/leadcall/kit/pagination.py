"""Opaque keyset cursors (no OFFSET): a cursor names the last row seen."""

from __future__ import annotations

import base64
import json
from datetime import datetime


class BadCursor(ValueError):
    pass


def encode_cursor(when: datetime, row_id: str) -> str:
    raw = json.dumps([when.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        when, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(when), str(row_id)
    except (ValueError, TypeError) as exc:
        raise BadCursor("the cursor is not one this API gave out") from exc
