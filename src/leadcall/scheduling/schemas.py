from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from leadcall.kit.schema import Schema, Trimmed
from leadcall.scheduling.models import CallbackMode, CallbackStatus


class Moved(Schema):
    """Why the callback is not at the time asked for: the rule that moved it and its values."""

    code: str
    params: dict[str, Any]


class Callback(Schema):
    id: str
    lead_id: str
    organization_id: str
    call_id: str | None
    source_call_id: str | None
    due_at: datetime
    requested_at: datetime | None
    requested_text: str | None
    lead_timezone: str
    mode: CallbackMode
    status: CallbackStatus
    agent_id: str | None
    note: str | None
    moved: Moved | None
    reason_code: str | None
    reason: str | None
    user_id: str | None
    created_at: datetime
    updated_at: datetime


class CallbackCreate(Schema):
    # A time with its offset (ISO 8601); one in the past or outside the calling hours is moved and says so.
    at: datetime
    agent_id: Trimmed | None = Field(default=None, min_length=1, max_length=100)
    note: Trimmed | None = Field(default=None, max_length=500)


class CallbackSettings(Schema):
    mode: CallbackMode
