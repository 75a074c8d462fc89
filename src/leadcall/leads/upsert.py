"""Leads keyed by the CRM's own id: one PUT creates or updates, a bulk request does it for up to 1,000 leads.

Idempotent by construction: an item is compared with the stored lead field by field, and a lead with nothing
different is left alone (no write, `updatedAt` unchanged, no do-not-call change in its audit trail). A bulk
request is atomic per item, not as a whole (what CRMs' sync jobs expect: one bad row does not hold back the
other 999): each item is written in its own savepoint, so a rejected item leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Conflict, Invalid, LeadcallError, PayloadTooLarge
from leadcall.core.http_errors import validation_detail
from leadcall.core.scoping import Scope
from leadcall.leads import schemas, service
from leadcall.leads.models import Lead
from leadcall.leads.repository import LeadRepository
from leadcall.leads.service import create_lead, default_country, phone_e164, refuse_archived, update_lead
from leadcall.tenancy.principal import Principal

MAX_BULK = 1000
# Fields an update may leave out by sending null: a lead always has a name and a status, and a flag.
_NOT_NULL = ("name", "status", "do_not_call")


def wanted_changes(lead: Lead, data: schemas.LeadUpsert, country: str) -> dict[str, Any]:
    """What `data` would change on `lead`, normalised as stored (phone in E.164, status by value)."""
    changes = data.model_dump(exclude_unset=True, exclude={"organization_id", "external_id"})
    for key in _NOT_NULL:
        if changes.get(key) is None:
            changes.pop(key, None)
    if "phone" in changes:
        changes["phone"] = phone_e164(changes["phone"], country)
    if "status" in changes:
        changes["status"] = changes["status"].value
    if changes.get("email") is not None:
        changes["email"] = str(changes["email"])
    return {key: value for key, value in changes.items() if getattr(lead, key) != value}


async def upsert_lead(session: AsyncSession, principal: Principal, external_id: str, data: schemas.LeadUpsert,
                      now: datetime, *, country: str | None = None,
                      known: Lead | None = None) -> tuple[Lead, schemas.UpsertStatus]:
    """Creates the lead with this CRM id, or updates the one that has it. `known` is the lead already found
    with this id (bulk requests look them up together)."""
    if data.external_id is not None and data.external_id != external_id:
        raise Invalid("the body's externalId differs from the path's; send one of them", code="external_id_mismatch",
                      extra={"field": "externalId"})
    country = country or await default_country(session, principal.tenant_id)
    tenant = LeadRepository(session, Scope(principal.tenant_id))
    lead = known or (await tenant.by_external_ids([external_id])).get(external_id)
    if lead is None:
        if data.name is None:
            raise Invalid("name: a new lead needs a name", code="missing", extra={"field": "name"})
        fields = data.model_dump(exclude_unset=True)
        for key in _NOT_NULL:
            if fields.get(key) is None:
                fields.pop(key, None)
        create = schemas.LeadCreate.model_validate({**fields, "external_id": external_id})
        try:
            async with session.begin_nested():
                return await create_lead(session, principal, create, now, country=country), "created"
        except (IntegrityError, Conflict) as exc:
            # Another request created this id meanwhile: its insert committed first, and create_lead's own check
            # saw it (external_id_taken) or the unique index refused ours. Update that lead instead.
            if isinstance(exc, Conflict) and exc.code != "external_id_taken":
                raise
            lead = (await tenant.by_external_ids([external_id])).get(external_id)
            if lead is None:
                raise
    if principal.scope.organization_id not in (None, lead.organization_id):
        raise service.external_id_taken(external_id)
    if data.organization_id is not None and data.organization_id != lead.organization_id:
        raise Conflict("this lead is in another organization; an upsert does not move it",
                       code="lead_in_other_organization", extra={"field": "organizationId"})
    changes = wanted_changes(lead, data, country)
    if not changes:
        return lead, "unchanged"
    refuse_archived(lead)
    await update_lead(session, principal, lead.id, schemas.LeadUpdate.model_validate(changes), now, country=country)
    return lead, "updated"


def _rejected(index: int, external_id: str | None, exc: LeadcallError | ValidationError) -> schemas.BulkResult:
    if isinstance(exc, ValidationError):
        detail, fields = validation_detail(list(exc.errors()))
        return schemas.BulkResult(index=index, status="rejected", external_id=external_id,
                                  code=fields[0]["code"] if fields else "invalid",
                                  fields=sorted({f["field"] for f in fields}), detail=detail)
    field = exc.extra.get("field")
    return schemas.BulkResult(index=index, status="rejected", external_id=external_id, code=exc.code or exc.error,
                              fields=[str(field)] if field else None, detail=exc.detail)


async def bulk_upsert(session: AsyncSession, principal: Principal, items: list[dict[str, Any]],
                      now: datetime) -> schemas.BulkReport:
    if len(items) > MAX_BULK:
        raise PayloadTooLarge(f"a bulk request takes at most {MAX_BULK} leads ({len(items)} sent); split it",
                              code="bulk_too_large", params={"limit": MAX_BULK, "sent": len(items)})
    if not items:
        raise Invalid("leads: send at least one lead", code="bulk_empty", extra={"field": "leads"})
    country = await default_country(session, principal.tenant_id)
    parsed: list[schemas.LeadBulkItem | ValidationError] = []
    for raw in items:
        try:
            parsed.append(schemas.LeadBulkItem.model_validate(raw))
        except ValidationError as exc:
            parsed.append(exc)
    known = await LeadRepository(session, Scope(principal.tenant_id)).by_external_ids(
        [item.external_id for item in parsed if not isinstance(item, ValidationError)])
    results: list[schemas.BulkResult] = []
    for index, item in enumerate(parsed):
        if isinstance(item, ValidationError):
            raw_id = items[index].get("externalId")
            results.append(_rejected(index, raw_id if isinstance(raw_id, str) else None, item))
            continue
        try:
            async with session.begin_nested():
                lead, status = await upsert_lead(session, principal, item.external_id, item, now, country=country,
                                                 known=known.get(item.external_id))
        except LeadcallError as exc:
            results.append(_rejected(index, item.external_id, exc))
            continue
        known[item.external_id] = lead
        results.append(schemas.BulkResult(index=index, status=status, lead_id=lead.id, external_id=item.external_id))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "updated", "unchanged", "rejected")}
    return schemas.BulkReport(results=results, **counts)
