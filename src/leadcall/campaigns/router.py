from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Form, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from leadcall.campaigns import results, schemas
from leadcall.campaigns.service import CampaignService, to_wire
from leadcall.core.csv_files import read_upload
from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.tenancy.deps import ApiRoute, CanRunCampaigns, CanViewLeads

router = APIRouter(tags=["campaigns"], route_class=ApiRoute)

AttemptStateQuery = Literal["pending", "due", "dialing", "done", "skipped", "canceled"]


def _campaigns(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.campaigns
    return service


@router.post("/api/campaigns", response_model=schemas.Campaign, status_code=201,
             description="A campaign in draft: who, with which agents, when, how fast, retries, stop conditions, "
                         "an optional spending cap. Managers for their organization, admins for any.")
async def create_campaign(body: schemas.CampaignCreate, request: Request, principal: CanRunCampaigns,
                          session: DbSession, now: Now) -> schemas.Campaign:
    return await to_wire(session, await _campaigns(request).create(session, principal, body, now))


@router.post("/api/campaigns/import", response_model=schemas.CampaignImported, status_code=201,
             description="A draft whose leads are the rows of a CSV file (multipart: `file`, and `campaign`: the "
                         "create body's JSON without `leads`). The rows are imported as `POST /api/leads/import` "
                         "does (matched by externalId, then phone; else added). All or nothing: if any row is "
                         "rejected, nothing is written and the 422 lists each rejected row (`rows`) with its codes.")
async def import_campaign(file: UploadFile, request: Request, principal: CanRunCampaigns, session: DbSession,
                          now: Now, container: ContainerDep,
                          campaign: str = Form(max_length=200_000)) -> schemas.CampaignImported:
    try:
        settings = schemas.CampaignSettings.model_validate_json(campaign)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", "campaign", *e["loc"])}
                                      for e in exc.errors(include_url=False)]) from exc
    content = await read_upload(file, container.settings.max_csv_bytes)
    return await _campaigns(request).create_from_csv(session, principal, settings, content, now)


@router.get("/api/campaigns", response_model=schemas.CampaignPage, description="Newest first, cursor-paginated.")
async def list_campaigns(request: Request, principal: CanViewLeads, session: DbSession,
                         state: Literal["draft", "scheduled", "running", "paused", "completed", "canceled"] | None = None,
                         cursor: str | None = Query(default=None, max_length=200),
                         limit: int = Query(default=50, ge=1, le=100)) -> schemas.CampaignPage:
    rows, next_cursor = await _campaigns(request).page(session, principal, limit=limit, cursor=cursor, state=state)
    return schemas.CampaignPage(items=[await to_wire(session, r) for r in rows], next_cursor=next_cursor)


@router.get("/api/campaigns/{campaign_id}", response_model=schemas.Campaign)
async def get_campaign(campaign_id: str, request: Request, principal: CanViewLeads,
                       session: DbSession) -> schemas.Campaign:
    return await to_wire(session, await _campaigns(request).get(session, principal, campaign_id))


@router.patch("/api/campaigns/{campaign_id}", response_model=schemas.Campaign,
              description="Edits a draft or paused campaign (its leads only while it is a draft).")
async def update_campaign(campaign_id: str, body: schemas.CampaignUpdate, request: Request,
                          principal: CanRunCampaigns, session: DbSession, now: Now) -> schemas.Campaign:
    return await to_wire(session, await _campaigns(request).update(session, principal, campaign_id, body, now))


@router.delete("/api/campaigns/{campaign_id}", status_code=204,
               description="Deletes a draft, completed or canceled campaign with its attempts (calls are kept).")
async def delete_campaign(campaign_id: str, request: Request, principal: CanRunCampaigns,
                          session: DbSession) -> Response:
    await _campaigns(request).delete(session, principal, campaign_id)
    return Response(status_code=204)


@router.get("/api/campaigns/{campaign_id}/preview", response_model=schemas.Preview,
            description="Who will be called and who is skipped, by reason (do-not-call list, no phone, no "
                        "consent, no calling window before the end); the skipped leads by page (`code` keeps one "
                        "reason).")
async def preview_campaign(campaign_id: str, request: Request, principal: CanViewLeads, session: DbSession,
                           now: Now, code: str | None = Query(default=None, max_length=60),
                           cursor: str | None = Query(default=None, max_length=36),
                           limit: int = Query(default=100, ge=1, le=500)) -> schemas.Preview:
    return await _campaigns(request).preview(session, principal, campaign_id, now, code=code, cursor=cursor,
                                             limit=limit)


@router.post("/api/campaigns/{campaign_id}/start", response_model=schemas.Campaign,
             description="Starts a draft: one attempt per lead; running now, or scheduled until `startAt`.")
async def start_campaign(campaign_id: str, request: Request, principal: CanRunCampaigns, session: DbSession,
                         now: Now) -> schemas.Campaign:
    return await to_wire(session, await _campaigns(request).start(session, principal, campaign_id, now))


@router.post("/api/campaigns/{campaign_id}/pause", response_model=schemas.Campaign,
             description="No new dial from the moment this answers; live calls finish.")
async def pause_campaign(campaign_id: str, request: Request, principal: CanRunCampaigns, session: DbSession,
                         now: Now) -> schemas.Campaign:
    return await to_wire(session, await _campaigns(request).pause(session, principal, campaign_id, now))


@router.post("/api/campaigns/{campaign_id}/resume", response_model=schemas.Campaign)
async def resume_campaign(campaign_id: str, request: Request, principal: CanRunCampaigns, session: DbSession,
                          now: Now) -> schemas.Campaign:
    return await to_wire(session, await _campaigns(request).resume(session, principal, campaign_id, now))


@router.post("/api/campaigns/{campaign_id}/cancel", response_model=schemas.CancelResult,
             description="Cancels it: no new dial; with `hangUp` its live calls are hung up too (where the "
                         "telephony allows it; each one that could not be is listed).")
async def cancel_campaign(campaign_id: str, request: Request, principal: CanRunCampaigns,
                          body: schemas.CancelBody | None = None) -> schemas.CancelResult:
    return await _campaigns(request).cancel_and_hang_up(principal, campaign_id,
                                                        hang_up=body.hang_up if body else False)


@router.get("/api/campaigns/{campaign_id}/attempts", response_model=schemas.AttemptPage,
            description="The attempts, oldest first (a lead's in their order), cursor-paginated.")
async def list_attempts(campaign_id: str, request: Request, principal: CanViewLeads, session: DbSession, now: Now,
                        state: AttemptStateQuery | None = None,
                        lead_id: str | None = Query(default=None, alias="leadId", max_length=36),
                        cursor: str | None = Query(default=None, max_length=200),
                        limit: int = Query(default=100, ge=1, le=500)) -> schemas.AttemptPage:
    return await results.attempts(session, principal, campaign_id, now, limit=limit, cursor=cursor,
                                              state=state, lead_id=lead_id)


@router.get("/api/campaigns/{campaign_id}/report", response_model=schemas.Report,
            description="Connect rate (voicemail excluded), interested, callbacks, opt-outs, minutes, cost and "
                        "cost per interested lead; by agent and by hour of the lead's local day.")
async def campaign_report(campaign_id: str, request: Request, principal: CanViewLeads,
                          session: DbSession) -> schemas.Report:
    return await results.report(session, principal, campaign_id)


@router.get("/api/campaigns/{campaign_id}/export", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "One row per attempt, as CSV"}})
async def export_campaign(campaign_id: str, request: Request, principal: CanViewLeads, session: DbSession,
                          now: Now, format: Literal["csv"] = Query(default="csv")) -> StreamingResponse:
    stream = await results.export(session, request.app.state.container.read_sessionmaker, principal, campaign_id,
                                  now)
    return StreamingResponse(stream, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="leadcall-campaign-{campaign_id}.csv"',
        "Cache-Control": "no-store"})
