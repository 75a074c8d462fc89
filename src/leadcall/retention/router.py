from __future__ import annotations

from fastapi import APIRouter, Request, Response

from leadcall.core.deps import DbSession, Now
from leadcall.leads import schemas as lead_schemas
from leadcall.retention import archive, schemas, service
from leadcall.tenancy.deps import ApiRoute, CanArchiveLeads, CanEraseLeads, CanManageRetention, CanViewLeads

router = APIRouter(tags=["retention"], route_class=ApiRoute)


@router.delete("/api/leads/{lead_id}", status_code=204,
               description="Archives the lead (managers and admins): it leaves lists and search, its calls and "
                           "costs stay. Refused (409 lead_on_live_call) while the lead is on a call.")
async def archive_lead(lead_id: str, principal: CanArchiveLeads, session: DbSession, now: Now) -> Response:
    await archive.archive_lead(session, principal, lead_id, now)
    return Response(status_code=204)


@router.post("/api/leads/{lead_id}/restore", response_model=lead_schemas.Lead)
async def restore_lead(lead_id: str, principal: CanArchiveLeads, session: DbSession, now: Now) -> lead_schemas.Lead:
    return lead_schemas.Lead.model_validate(await archive.restore_lead(session, principal, lead_id, now))


@router.post("/api/leads/{lead_id}/erase", response_model=lead_schemas.Lead,
             description="A privacy request (admins): removes the lead's personal data and its calls' content "
                         "(transcripts, summaries, recordings, numbers, raw webhooks) and deletes the conversations "
                         "at ElevenLabs; cost, duration and outcome stay. The lead stays archived.")
async def erase_lead(lead_id: str, principal: CanEraseLeads, session: DbSession, now: Now,
                     request: Request) -> lead_schemas.Lead:
    lead = await archive.erase_lead(session, principal, lead_id, now, request.app.state.jobs)
    return lead_schemas.Lead.model_validate(lead)


@router.get("/api/leads/{lead_id}/events", response_model=list[schemas.LeadEvent])
async def lead_events(lead_id: str, principal: CanViewLeads, session: DbSession) -> list[schemas.LeadEvent]:
    return [schemas.LeadEvent.model_validate(e) for e in await archive.lead_events(session, principal.scope, lead_id)]


@router.get("/api/retention", response_model=schemas.RetentionPolicy)
async def get_retention(principal: CanManageRetention, session: DbSession) -> schemas.RetentionPolicy:
    return await service.get_policy(session, principal.tenant_id)


@router.put("/api/retention", response_model=schemas.RetentionPolicy)
async def put_retention(body: schemas.RetentionPolicyUpdate, principal: CanManageRetention,
                        session: DbSession) -> schemas.RetentionPolicy:
    return await service.put_policy(session, principal.tenant_id, body)
