from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints, field_validator

from leadcall.kit.schema import Schema, Trimmed
from leadcall.leads.models import LeadStatus


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class LeadDnc(Schema):
    """The do-not-call entry of the lead's number (the list is by number: set by this lead or another)."""

    reason: str | None
    source: str
    since: datetime


class Lead(Schema):
    id: str
    tenant_id: str
    organization_id: str
    external_id: str | None = Field(description="The CRM's own id of the lead (unique in the tenant).")
    name: str
    company: str | None
    phone: str | None
    email: str | None
    notes: str | None
    timezone: str | None
    status: LeadStatus
    owner_id: str | None
    do_not_call: bool
    do_not_call_reason: str | None
    created_at: datetime
    updated_at: datetime
    last_called_at: datetime | None
    archived_at: datetime | None = Field(description="Set while the lead is archived (hidden from lists and "
                                                     "search unless asked for; its calls and costs are kept).")
    erased_at: datetime | None = Field(description="Set once its personal data was erased on a privacy request.")
    dnc: LeadDnc | None = Field(default=None, description="Set while the lead's number is on the tenant's "
                                                          "do-not-call list: no call reaches it.")


ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LeadFields(Schema):
    external_id: ExternalId | None = Field(default=None, description="The CRM's own id of the lead: one lead "
                                                                     "per id in the tenant (409 external_id_taken).")
    company: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40, description="Any format; stored as E.164.")
    email: EmailStr | None = None
    notes: str | None = Field(default=None, max_length=10_000)
    timezone: str | None = Field(default=None, max_length=64)
    owner_id: str | None = None
    do_not_call: bool | None = None
    do_not_call_reason: str | None = Field(default=None, max_length=300)

    @field_validator("external_id", "company", "phone", "notes", "timezone", "do_not_call_reason", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return _strip(value) if isinstance(value, str) else value

    @field_validator("email", mode="before")
    @classmethod
    def _blank_email(cls, value: object) -> object:
        return _strip(value) if isinstance(value, str) else value


class LeadCreate(LeadFields):
    name: Trimmed = Field(min_length=1, max_length=200)
    status: LeadStatus = LeadStatus.new
    organization_id: str | None = Field(
        default=None, description="Admins may choose; everyone else creates in their own organization.")


class LeadUpdate(LeadFields):
    name: Trimmed | None = Field(default=None, min_length=1, max_length=200)
    status: LeadStatus | None = None


class LeadUpsert(LeadFields):
    """PUT /api/leads/by-external-id/{externalId}: the id is the path's (an `externalId` in the body must be the
    same). Fields left out keep their value on an update; `name` is needed only to create."""

    name: Trimmed | None = Field(default=None, min_length=1, max_length=200)
    status: LeadStatus | None = None
    organization_id: str | None = Field(
        default=None, description="Admins may choose it when the lead is created; an existing lead stays in its "
                                  "organization (409 external_id_taken if another one is named).")


class LeadBulkItem(LeadUpsert):
    external_id: ExternalId = Field(description="The CRM's own id of the lead: what the item is matched on.")


UpsertStatus = Literal["created", "updated", "unchanged"]


class BulkResult(Schema):
    index: int = Field(description="The item's place in `leads`, from 0.")
    status: Literal["created", "updated", "unchanged", "rejected"]
    lead_id: str | None = None
    external_id: str | None = None
    code: str | None = Field(default=None, description="Why a rejected item was not written: a validation type "
                                                       "(missing, string_too_long, …) or one of the API's codes "
                                                       "(phone_invalid, external_id_taken, owner_not_in_team, …).")
    fields: list[str] | None = Field(default=None, description="The fields the problem is in.")
    detail: str | None = None


class BulkReport(Schema):
    results: list[BulkResult]
    created: int
    updated: int
    unchanged: int
    rejected: int


class LeadPage(Schema):
    items: list[Lead]
    next_cursor: str | None
    total: int


class ImportProblem(Schema):
    """One thing wrong with a row, by a stable code a front end can word in its own language."""

    field: str | None = Field(description="The lead field or CSV column the problem is in; null for the whole row.")
    code: str = Field(description="pydantic's error type (missing, string_too_long, value_error, ...) or one of "
                                  "ours: owner_unknown {email}, phone_invalid {phone}.")
    params: dict[str, str | int | float] = Field(default_factory=dict,
                                                 description="The values the code's sentence names.")
    detail: str = Field(description="The problem in English.")


class ImportRowError(Schema):
    row: int = Field(description="1-based line number in the file, counting the header as line 1.")
    errors: list[str] = Field(description="Each problem in English, as '<field>: <problem>'.")
    problems: list[ImportProblem]


class ImportReport(Schema):
    created: int
    updated: int = Field(default=0, description="Rows that matched a lead (by externalId, then phone) and changed it.")
    unchanged: int = Field(default=0, description="Rows that matched a lead and had nothing to change.")
    rejected: int
    errors: list[ImportRowError]
    lead_ids: list[str] = Field(description="The leads created (none in a dry run).")
    updated_ids: list[str] = Field(default_factory=list)
    unchanged_ids: list[str] = Field(default_factory=list)
    dry_run: bool = Field(default=False, description="True: nothing was written; the counts say what would be.")
