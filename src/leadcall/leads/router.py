from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import Field

from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.core.errors import Invalid
from leadcall.core.http_errors import error_responses
from leadcall.kit.schema import Schema
from leadcall.leads import csv_import, exports, schemas, service, upsert
from leadcall.leads.models import LeadStatus
from leadcall.tenancy.deps import ApiRoute, CanEditLeads, CanImportLeads, CanViewLeads

router = APIRouter(tags=["leads"], route_class=ApiRoute)


@router.get("/api/leads", response_model=schemas.LeadPage)
async def list_leads(principal: CanViewLeads, session: DbSession,
                     q: str | None = Query(default=None, max_length=200,
                                          description="Search name, company, phone, email"),
                     status: LeadStatus | None = None, owner_id: str | None = Query(default=None, alias="ownerId"),
                     organization_id: str | None = Query(default=None, alias="organizationId"),
                     archived: bool = Query(default=False, description="true lists the archived leads instead"),
                     cursor: str | None = None, limit: int = Query(default=50, ge=1, le=200)) -> schemas.LeadPage:
    return await service.list_leads(session, principal.scope, limit=limit, cursor=cursor, search=q,
                                    status=status.value if status else None, owner_id=owner_id,
                                    organization_id=organization_id, archived=archived)


@router.get("/api/leads/export", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The leads as CSV, streamed"}})
async def export_leads(principal: CanViewLeads, container: ContainerDep,
                       q: str | None = Query(default=None, max_length=200),
                       status: LeadStatus | None = None, owner_id: str | None = Query(default=None, alias="ownerId"),
                       organization_id: str | None = Query(default=None, alias="organizationId"),
                       archived: bool = Query(default=False),
                       format: Literal["csv"] = Query(default="csv")) -> StreamingResponse:
    """GET /api/leads' leads (same filters, same scope), all of them, as CSV streamed in chunks."""
    body = exports.export_leads(container.read_sessionmaker, principal.scope, search=q,
                                status=status.value if status else None, owner_id=owner_id,
                                organization_id=organization_id, archived=archived)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="leadcall-leads.csv"',
                                      "Cache-Control": "no-store"})


@router.post("/api/leads", response_model=schemas.Lead, status_code=201)
async def create_lead(body: schemas.LeadCreate, principal: CanEditLeads, session: DbSession,
                      now: Now) -> schemas.Lead:
    return await service.lead_view(session, principal.scope, await service.create_lead(session, principal, body, now))


ExternalIdPath = Annotated[str, Path(min_length=1, max_length=200, description="The CRM's own id of the lead.")]


@router.put("/api/leads/by-external-id/{external_id}", response_model=schemas.Lead,
            responses={201: {"model": schemas.Lead, "description": "Created"}, **error_responses(409)})
async def upsert_lead(external_id: ExternalIdPath, body: schemas.LeadUpsert, principal: CanEditLeads,
                      session: DbSession, now: Now, response: Response) -> schemas.Lead:
    """Creates (201) or updates (200) the lead with this CRM id; the same body again changes nothing (200,
    `updatedAt` unchanged). An id another team's lead has answers 409 `external_id_taken`."""
    lead, status = await upsert.upsert_lead(session, principal, external_id.strip(), body, now)
    response.status_code = 201 if status == "created" else 200
    return await service.lead_view(session, principal.scope, lead)


class BulkRequest(Schema):
    leads: list[dict[str, Any]] = Field(description=f"Up to {upsert.MAX_BULK} leads, each a LeadBulkItem "
                                                    "(the upsert's fields with a required `externalId`).")


@router.post("/api/leads/bulk", response_model=schemas.BulkReport, responses=error_responses(413))
async def bulk_upsert(body: BulkRequest, principal: CanImportLeads, session: DbSession,
                      now: Now) -> schemas.BulkReport:
    """Upserts each lead by its `externalId`, each on its own: a rejected item (with its `code` and `fields`)
    writes nothing and holds back no other. More than 1,000 answers 413 `bulk_too_large`."""
    return await upsert.bulk_upsert(session, principal, body.leads, now)


@router.get("/api/leads/{lead_id}", response_model=schemas.Lead)
async def get_lead(lead_id: str, principal: CanViewLeads, session: DbSession) -> schemas.Lead:
    return await service.lead_view(session, principal.scope, await service.get_lead(session, principal.scope, lead_id))


@router.patch("/api/leads/{lead_id}", response_model=schemas.Lead)
async def update_lead(lead_id: str, body: schemas.LeadUpdate, principal: CanEditLeads, session: DbSession,
                      now: Now) -> schemas.Lead:
    lead = await service.update_lead(session, principal, lead_id, body, now)
    return await service.lead_view(session, principal.scope, lead)


@router.post("/api/leads/import", response_model=schemas.ImportReport)
async def import_leads(file: UploadFile, principal: CanImportLeads, session: DbSession, now: Now,
                       container: ContainerDep,
                       dry_run: bool = Query(default=False, alias="dryRun",
                                             description="true: write nothing, report what the import would "
                                                         "create, update, leave unchanged and reject")
                       ) -> schemas.ImportReport:
    """Rows update the lead they match (by externalId, then by phone in the organization) instead of adding
    another; the same file twice changes nothing the second time."""
    limit = container.settings.max_csv_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise Invalid(f"the file is larger than {limit // (1024 * 1024)} MB; split it and import the parts",
                      code="csv_too_large", params={"megabytes": limit // (1024 * 1024)})
    return await csv_import.import_csv(session, principal, content, now, dry_run=dry_run)
