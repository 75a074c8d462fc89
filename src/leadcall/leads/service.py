"""Leads: create, edit and list (CSV import: leads.csv_import). Services never commit."""

from __future__ import annotations

from datetime import datetime
from typing import overload

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Conflict, Invalid
from leadcall.core.scoping import Scope
from leadcall.integrations import outbox
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor
from leadcall.leads import schemas
from leadcall.leads.dnc import DncRepository, sync_lead_flag
from leadcall.leads.models import Lead
from leadcall.leads.phones import PhoneError, to_e164
from leadcall.leads.repository import LeadRepository
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import OrganizationRepository, UserRepository, unscoped_get_tenant

MAX_PAGE = 200


async def default_country(session: AsyncSession, tenant_id: str) -> str:
    tenant = await unscoped_get_tenant(session, tenant_id)
    return tenant.default_country if tenant else "US"


@overload
def phone_e164(raw: str, country: str, *, field: str = "phone") -> str: ...
@overload
def phone_e164(raw: None, country: str, *, field: str = "phone") -> None: ...
@overload
def phone_e164(raw: str | None, country: str, *, field: str = "phone") -> str | None: ...
def phone_e164(raw: str | None, country: str, *, field: str = "phone") -> str | None:
    """`raw` as stored (E.164), read in `country` when it has no +; a number that is none answers 422
    `phone_invalid` on `field`."""
    if raw is None:
        return None
    try:
        return to_e164(raw, country)
    except PhoneError as exc:
        raise Invalid(str(exc), extra={"field": field}, code="phone_invalid", params={"phone": raw}) from exc


async def owners_by_email(session: AsyncSession, principal: Principal, organization_id: str) -> dict[str, str]:
    """The users who may own a lead of `organization_id`, by email: the users of that organization."""
    users = await UserRepository(session, Scope(principal.tenant_id, organization_id)).list()
    return {u.email: u.id for u in users}


async def _check_owner(session: AsyncSession, principal: Principal, owner_id: str | None, organization_id: str) -> None:
    """A lead's owner is a user of the lead's organization. Unknown ids, another team's and another tenant's
    users all get the same answer, so nothing tells which user ids exist."""
    if owner_id is not None:
        if await UserRepository(session, Scope(principal.tenant_id, organization_id)).find(owner_id) is None:
            raise Invalid("the owner is not a user of the lead's team", extra={"field": "ownerId"},
                          code="owner_not_in_team")


async def check_external_id(session: AsyncSession, tenant_id: str, external_id: str | None,
                            lead_id: str | None = None) -> None:
    """A CRM id names one lead in the tenant. Another organization's lead answers the same as any other, so
    a caller learns only that the id is taken, never which lead has it."""
    if external_id is None:
        return
    found = (await LeadRepository(session, Scope(tenant_id)).by_external_ids([external_id])).get(external_id)
    if found is not None and found.id != lead_id:
        raise external_id_taken(external_id)


def external_id_taken(external_id: str) -> Conflict:
    return Conflict(f"the externalId '{external_id}' already names another lead of this tenant (of a team you "
                    "cannot edit, or another lead of yours)", code="external_id_taken",
                    params={"externalId": external_id}, extra={"field": "externalId"})


async def create_lead(session: AsyncSession, principal: Principal, data: schemas.LeadCreate,
                      now: datetime, *, country: str | None = None) -> Lead:
    await check_external_id(session, principal.tenant_id, data.external_id)
    organization_id = principal.organization_id
    if data.organization_id and data.organization_id != principal.organization_id:
        # Only tenant-wide callers (admins) may place a lead in another organization.
        await OrganizationRepository(session, principal.scope).get(data.organization_id)
        organization_id = data.organization_id
    await _check_owner(session, principal, data.owner_id, organization_id)
    country = country or await default_country(session, principal.tenant_id)
    lead = Lead(tenant_id=principal.tenant_id, organization_id=organization_id, external_id=data.external_id,
                name=data.name.strip(),
                company=data.company, phone=phone_e164(data.phone, country), email=data.email, notes=data.notes,
                timezone=data.timezone, status=data.status.value, owner_id=data.owner_id,
                do_not_call=bool(data.do_not_call), do_not_call_reason=data.do_not_call_reason,
                created_at=now, updated_at=now)
    LeadRepository(session, principal.scope).add(lead)
    await session.flush()
    await sync_lead_flag(session, lead, now=now, actor_id=principal.user_id, actor_name=principal.email)
    return lead


async def get_lead(session: AsyncSession, scope: Scope, lead_id: str) -> Lead:
    return await LeadRepository(session, scope).get(lead_id)


def refuse_archived(lead: Lead) -> None:
    """An archived lead is kept as a record: it is not edited or called until it is restored."""
    if lead.archived_at is not None:
        raise Conflict("this lead is archived; restore it first", code="lead_archived")


async def update_lead(session: AsyncSession, principal: Principal, lead_id: str, data: schemas.LeadUpdate,
                      now: datetime, *, country: str | None = None) -> Lead:
    lead = await LeadRepository(session, principal.scope).get(lead_id)
    refuse_archived(lead)
    changes = data.model_dump(exclude_unset=True)
    if "external_id" in changes:
        await check_external_id(session, principal.tenant_id, data.external_id, lead.id)
    if "owner_id" in changes:
        await _check_owner(session, principal, data.owner_id, lead.organization_id)
    if "phone" in changes:
        changes["phone"] = phone_e164(data.phone, country or await default_country(session, principal.tenant_id))
    if changes.get("name") is None:
        changes.pop("name", None)
    if "status" in changes:
        if data.status is None:
            raise Invalid("status cannot be empty", extra={"field": "status"})
        changes["status"] = data.status.value
    if changes.get("do_not_call") is None:
        changes.pop("do_not_call", None)
    for key, value in changes.items():
        setattr(lead, key, value)
    lead.updated_at = now
    await session.flush()
    if "do_not_call" in changes or "phone" in changes:
        await sync_lead_flag(session, lead, now=now, actor_id=principal.user_id, actor_name=principal.email)
    await announce_lead(session, lead, now)
    return lead


async def announce_lead(session: AsyncSession, lead: Lead, now: datetime, *, event_type: str = "lead.updated") -> None:
    """A lead changed (`lead.updated`) or opted out (`lead.opted_out`): its outgoing webhooks, with the lead as
    the API shows it, go to the outbox in the caller's transaction. Every path that changes a lead for its
    CRM to know calls this once the change is made."""
    view = await lead_view(session, Scope(lead.tenant_id), lead)
    await outbox.record(session, tenant_id=lead.tenant_id, organization_id=lead.organization_id,
                        event_type=event_type, subject=f"lead:{lead.id}",
                        data=view.model_dump(mode="json", by_alias=True), now=now)


async def list_leads(session: AsyncSession, scope: Scope, *, limit: int, cursor: str | None,
                     search: str | None, status: str | None, owner_id: str | None,
                     organization_id: str | None, archived: bool = False) -> schemas.LeadPage:
    try:
        after = decode_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise Invalid(str(exc), extra={"field": "cursor"}) from exc
    limit = max(1, min(limit, MAX_PAGE))
    rows, total = await LeadRepository(session, scope).page(
        limit=limit + 1, after=after, search=search, status=status, owner_id=owner_id,
        organization_id=organization_id, archived=archived)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return schemas.LeadPage(items=await lead_views(session, scope, rows), next_cursor=next_cursor, total=total)


async def lead_views(session: AsyncSession, scope: Scope, rows: list[Lead]) -> list[schemas.Lead]:
    """Leads as the API shows them, each with its number's do-not-call entry (one query for all)."""
    listed = await DncRepository(session, Scope(scope.tenant_id)).by_phones([r.phone for r in rows if r.phone])
    views = []
    for row in rows:
        view = schemas.Lead.model_validate(row)
        entry = listed.get(row.phone or "")
        if entry is not None:
            view.dnc = schemas.LeadDnc(reason=entry.reason, source=entry.source, since=entry.created_at)
        views.append(view)
    return views


async def lead_view(session: AsyncSession, scope: Scope, row: Lead) -> schemas.Lead:
    return (await lead_views(session, scope, [row]))[0]
