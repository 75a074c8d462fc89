from __future__ import annotations

from fastapi import APIRouter, Query, Request

from leadcall.core.deps import DbSession, Now
from leadcall.scheduling import schemas
from leadcall.scheduling.service import SchedulingService, to_wire
from leadcall.tenancy.deps import ApiRoute, CanManageCallingRules, CanPlaceCalls, CanViewLeads

router = APIRouter(tags=["callbacks"], route_class=ApiRoute)


def _scheduling(request: Request) -> SchedulingService:
    service: SchedulingService = request.app.state.scheduling
    return service


@router.get("/api/callbacks", response_model=list[schemas.Callback],
            description="Callbacks in the caller's scope, soonest first; `due=before:<ISO 8601>` keeps those due "
                        "before that time; `leadId` those of one lead.")
async def list_callbacks(request: Request, principal: CanViewLeads, session: DbSession,
                         due: str | None = Query(default=None, max_length=60, description="before:<ISO 8601 time>"),
                         lead_id: str | None = Query(default=None, alias="leadId", max_length=36)
                         ) -> list[schemas.Callback]:
    rows = await _scheduling(request).listing(session, principal, due=due, lead_id=lead_id)
    return [to_wire(r) for r in rows]


@router.post("/api/leads/{lead_id}/callbacks", response_model=schemas.Callback, status_code=201,
             description="Schedules a callback at `at` (an offset-less time is the lead's local time); a time in "
                         "the past or outside the calling hours is moved to the next allowed time (`moved` says "
                         "why). 409 when the rules will never allow the call (do-not-call list, no consent).")
async def create_callback(lead_id: str, body: schemas.CallbackCreate, request: Request, principal: CanPlaceCalls,
                          session: DbSession, now: Now) -> schemas.Callback:
    return to_wire(await _scheduling(request).create(session, principal, lead_id, body, now))


@router.delete("/api/callbacks/{callback_id}", response_model=schemas.Callback,
               description="Cancels a scheduled or due callback (members: their own or their leads').")
async def cancel_callback(callback_id: str, request: Request, principal: CanPlaceCalls, session: DbSession,
                          now: Now) -> schemas.Callback:
    return to_wire(await _scheduling(request).cancel(session, principal, callback_id, now))


@router.get("/api/callback-settings", response_model=schemas.CallbackSettings)
async def get_callback_settings(request: Request, principal: CanViewLeads,
                                session: DbSession) -> schemas.CallbackSettings:
    return schemas.CallbackSettings(mode=await _scheduling(request).mode_of(session, principal.tenant_id))


@router.put("/api/callback-settings", response_model=schemas.CallbackSettings,
            description="Whether callbacks are placed automatically at their time (auto) or shown to the lead's "
                        "owner as due (manual). Admins.")
async def put_callback_settings(body: schemas.CallbackSettings, request: Request, principal: CanManageCallingRules,
                                session: DbSession) -> schemas.CallbackSettings:
    mode = await _scheduling(request).set_mode(session, principal.tenant_id, body.mode)
    return schemas.CallbackSettings(mode=mode)
