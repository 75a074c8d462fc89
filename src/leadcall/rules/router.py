from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, UploadFile

from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.core.errors import Invalid
from leadcall.leads.models import DncSource
from leadcall.leads.repository import LeadRepository
from leadcall.rules import records, schemas
from leadcall.rules.regions import REGION_RULES
from leadcall.rules.service import RulesService, load_rules, parse_zone, put_rules, tenant_zone
from leadcall.tenancy.deps import ApiRoute, CanEditLeads, CanManageCallingRules, CanManageDnc, CanViewLeads
from leadcall.tenancy.models import Tenant
from leadcall.tenancy.repository import OrganizationRepository
from leadcall.tenancy.service import get_tenant

router = APIRouter(tags=["calling rules"], route_class=ApiRoute)


def _rules(request: Request) -> RulesService:
    service: RulesService = request.app.state.rules
    return service


@router.get("/api/leads/{lead_id}/eligibility", response_model=schemas.Eligibility)
async def eligibility(lead_id: str, request: Request, principal: CanViewLeads, session: DbSession,
                      now: Now) -> schemas.Eligibility:
    lead = await LeadRepository(session, principal.scope).get(lead_id)
    verdict = await _rules(request).may_dial(session, lead, now, path="api")
    first = verdict.refusals[0] if verdict.refusals else None
    return schemas.Eligibility(
        allowed=verdict.allowed, code=first.code if first else None, params=first.params if first else None,
        refusals=[schemas.Refusal(code=r.code, params=r.params, detail=r.detail) for r in verdict.refusals],
        next_allowed_at=verdict.next_allowed_at, local_time=verdict.local_time, timezone=verdict.timezone,
        timezones=verdict.timezones, timezone_source=verdict.timezone_source)


# -- the do-not-call list ---------------------------------------------------------------------


@router.get("/api/dnc", response_model=schemas.DncPage)
async def list_dnc(principal: CanViewLeads, session: DbSession,
                   q: str | None = Query(default=None, max_length=100, description="Search number or reason"),
                   cursor: str | None = None, limit: int = Query(default=50, ge=1, le=200)) -> schemas.DncPage:
    return await records.page(session, principal, search=q, cursor=cursor, limit=limit)


@router.post("/api/dnc", response_model=schemas.DncEntry, status_code=201,
             responses={200: {"description": "The number was already listed; the entry as it is"}})
async def add_dnc(body: schemas.DncCreate, principal: CanManageDnc, session: DbSession, now: Now,
                  response: Response) -> schemas.DncEntry:
    entry, created = await records.add(session, principal, body.phone, body.reason, source=DncSource.api.value
                                       if principal.via == "token" else DncSource.manual.value, now=now)
    if not created:
        response.status_code = 200
    return records.to_wire(entry)


@router.delete("/api/dnc/{phone}", status_code=204)
async def remove_dnc(phone: str, principal: CanManageCallingRules, session: DbSession, now: Now) -> Response:
    await records.remove(session, principal, phone, now=now)
    return Response(status_code=204)


@router.post("/api/dnc/import", response_model=schemas.DncImportReport)
async def import_dnc(file: UploadFile, principal: CanManageDnc, session: DbSession, now: Now,
                     container: ContainerDep) -> schemas.DncImportReport:
    limit = container.settings.max_csv_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise Invalid(f"the file is larger than {limit // (1024 * 1024)} MB; split it and import the parts",
                      code="csv_too_large", params={"megabytes": limit // (1024 * 1024)})
    return await records.import_csv(session, principal, content, now)


# -- consent ----------------------------------------------------------------------------------


@router.get("/api/leads/{lead_id}/consent", response_model=list[schemas.Consent])
async def list_consent(lead_id: str, principal: CanViewLeads, session: DbSession) -> list[schemas.Consent]:
    return [schemas.Consent.model_validate(c) for c in await records.consents(session, principal.scope, lead_id)]


@router.post("/api/leads/{lead_id}/consent", response_model=schemas.Consent, status_code=201)
async def record_consent(lead_id: str, body: schemas.ConsentCreate, principal: CanEditLeads, session: DbSession,
                         now: Now) -> schemas.Consent:
    return schemas.Consent.model_validate(await records.record_consent(session, principal, lead_id, body, now))


@router.delete("/api/leads/{lead_id}/consent", status_code=204)
async def opt_out(lead_id: str, principal: CanEditLeads, session: DbSession, now: Now) -> Response:
    await records.opt_out(session, principal, lead_id, now)
    return Response(status_code=204)


# -- calling rules ----------------------------------------------------------------------------


async def rules_view(session: DbSession, tenant: Tenant, organization_id: str | None) -> schemas.CallingRules:
    rules = await load_rules(session, tenant.id, organization_id)
    return schemas.CallingRules(
        organization_id=organization_id, inherited=rules.inherited or rules.updated_at is None,
        windows=[schemas.Window.model_validate(w.to_wire()) for w in rules.windows],
        max_attempts_per_24h=rules.max_attempts_per_24h, max_attempts_total=rules.max_attempts_total,
        require_consent=rules.require_consent, region_rules=rules.region_rules, timezone=tenant_zone(tenant).key,
        regions=[schemas.RegionRule.model_validate(r.to_wire()) for r in REGION_RULES], updated_at=rules.updated_at)


@router.get("/api/calling-rules", response_model=schemas.CallingRules)
async def get_calling_rules(principal: CanViewLeads, session: DbSession,
                            organization_id: str | None = Query(default=None, alias="organizationId")
                            ) -> schemas.CallingRules:
    if organization_id:
        await OrganizationRepository(session, principal.scope).get(organization_id)
    return await rules_view(session, await get_tenant(session, principal.tenant_scope), organization_id)


@router.put("/api/calling-rules", response_model=schemas.CallingRules)
async def put_calling_rules(body: schemas.CallingRulesPut, principal: CanManageCallingRules, session: DbSession,
                            now: Now) -> schemas.CallingRules:
    tenant = await get_tenant(session, principal.tenant_scope)
    if body.organization_id:
        await OrganizationRepository(session, principal.scope).get(body.organization_id)
    if body.timezone is not None:
        if body.organization_id:
            raise Invalid("the timezone is the tenant's; set it without organizationId",
                          extra={"field": "timezone"}, code="timezone_tenant_only")
        if parse_zone(body.timezone) is None:
            raise Invalid(f"'{body.timezone}' is not a timezone; use an IANA name such as Europe/Madrid",
                          extra={"field": "timezone"}, code="timezone_unknown", params={"timezone": body.timezone})
        tenant.timezone = body.timezone
    await put_rules(session, principal.tenant_id, body.organization_id,
                    windows=[w.model_dump() for w in body.windows], max_attempts_per_24h=body.max_attempts_per_24h,
                    max_attempts_total=body.max_attempts_total, require_consent=body.require_consent,
                    region_rules=body.region_rules, now=now, actor_id=principal.user_id)
    return await rules_view(session, tenant, body.organization_id)

