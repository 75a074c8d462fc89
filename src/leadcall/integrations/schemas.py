from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from leadcall.kit.schema import Schema, Trimmed


class WebhookEndpoint(Schema):
    id: str
    url: str
    description: str | None
    event_types: list[str] | None = Field(description="The event types it receives; null: all of them, including "
                                                      "types added later.")
    enabled: bool
    secret_hint: str = Field(description="The secret's last four characters (the secret itself is shown once).")
    previous_secret_until: datetime | None = Field(description="After a rotation: until when the previous secret "
                                                              "signs too (a second `v1,` signature).")
    failing_since: datetime | None
    consecutive_failures: int
    disabled_at: datetime | None = Field(description="When leadcall disabled it after repeated failure.")
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str = Field(description="`whsec_…`: shown this once (creation, rotation); keep it to verify signatures.")


class WebhookEndpointCreate(Schema):
    url: Trimmed = Field(min_length=1, max_length=2000)
    description: Trimmed | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, max_length=50,
                                          description="Omitted or null: every event type.")
    enabled: bool = True


class WebhookEndpointUpdate(Schema):
    url: Trimmed | None = Field(default=None, min_length=1, max_length=2000)
    description: Trimmed | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, max_length=50)
    enabled: bool | None = None


class WebhookAttempt(Schema):
    attempt: int
    manual: bool
    at: datetime
    status_code: int | None
    duration_ms: int
    ok: bool
    error_code: str | None
    error: str | None


class WebhookDelivery(Schema):
    id: str
    endpoint_id: str
    event_id: str = Field(description="The `webhook-id` header of every attempt.")
    event_type: str
    subject: str
    sequence: int
    state: Literal["pending", "succeeded", "failed"]
    test: bool
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttempt] = Field(description="The delivery log, newest first (the last 20).")


class WebhookDeliveryPage(Schema):
    items: list[WebhookDelivery]
    next_cursor: str | None


class WebhookEventType(Schema):
    type: str
    description: str
