from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from leadcall.kit.schema import Schema

MAX_RETENTION_DAYS = 3650


class RetentionPolicy(Schema):
    days: int | None = Field(description="Transcripts, summaries, recordings and the raw webhooks holding them are "
                                         "removed this many days after the call; null keeps them.")
    delete_at_provider: bool = Field(description="Also delete the conversations at ElevenLabs (their transcript "
                                                 "and recording live there too).")
    pending_deletions: int = Field(description="Conversations still to delete at ElevenLabs.")
    failed_deletions: int = Field(description="Conversations ElevenLabs refused to delete after every attempt "
                                              "(see each call's events).")


class RetentionPolicyUpdate(Schema):
    days: int | None = Field(ge=1, le=MAX_RETENTION_DAYS, description="null keeps content forever.")
    delete_at_provider: bool = False


class RetentionRun(Schema):
    calls: int = Field(description="Calls whose content was removed.")
    webhooks: int = Field(description="Stored webhooks emptied.")
    deletions_requested: int
    deleted_at_provider: int
    deletion_failures: int


class LeadEvent(Schema):
    at: datetime
    kind: str = Field(description="archived | restored | erased | placement_refused | dnc_added | dnc_removed | "
                                  "consent_given | opted_out")
    actor: str = Field(description="Who did it (their email at the time).")
    detail: str | None
    code: str | None = Field(default=None, description="A refusal's code (number_on_dnc, outside_calling_hours, "
                                                       "...) or a do-not-call entry's source.")
    params: dict[str, Any] | None = None
