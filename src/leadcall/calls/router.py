from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from leadcall.calls import listing, schemas
from leadcall.calls.service import CallService, to_wire
from leadcall.core import metrics
from leadcall.core.deps import DbSession
from leadcall.core.errors import Invalid, NotFound
from leadcall.core.events import EventHub
from leadcall.core.http_errors import error_responses
from leadcall.kit.clock import utc_datetime
from leadcall.kit.ranges import UnsatisfiableRange, byte_range
from leadcall.tenancy.deps import ApiRoute, CanPlaceCalls, CanViewLeads, CurrentPrincipal, still_authenticated
from leadcall.voice.errors import ProviderError
from leadcall.voice.manager import provider_error_to_leadcall
from leadcall.voice.repository import AccountRepository

router = APIRouter(tags=["calls"], route_class=ApiRoute, responses=error_responses(424))
PLACEMENT_ERRORS = error_responses(402)
# Stored with the call (at most 200 characters, as its column): the same key again answers the same call.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
HEARTBEAT_SECONDS = 15.0


def _calls(request: Request) -> CallService:
    service: CallService = request.app.state.call_service
    return service


@router.post("/api/leads/{lead_id}/call", response_model=schemas.CallPlaced, responses=PLACEMENT_ERRORS)
async def call_lead(lead_id: str, body: schemas.CallCreate, principal: CanPlaceCalls, request: Request,
                    idempotency_key: IdempotencyKey = None) -> schemas.CallPlaced:
    return await _calls(request).place_call(principal, lead_id=lead_id, agent_id=body.agent_id,
                                            call_type=body.call_type.value, idempotency_key=idempotency_key,
                                            hours_override=body.override_calling_hours)


@router.post("/api/calls/initiate", response_model=schemas.CallPlaced, responses=PLACEMENT_ERRORS)
async def initiate(body: schemas.CallInitiate, principal: CanPlaceCalls, request: Request,
                   idempotency_key: IdempotencyKey = None) -> schemas.CallPlaced:
    return await _calls(request).place_call(principal, lead_id=body.lead_id, agent_id=body.agent_id,
                                            call_type=body.call_type.value, idempotency_key=idempotency_key,
                                            hours_override=body.override_calling_hours)


@router.get("/api/leads/{lead_id}/calls", response_model=schemas.CallPage)
async def lead_calls(lead_id: str, principal: CanViewLeads, session: DbSession, request: Request,
                     cursor: str | None = None, limit: int = Query(default=20, ge=1, le=100)) -> schemas.CallPage:
    return await _calls(request).history(session, principal.scope, lead_id, limit=limit, cursor=cursor)


Outcome = Literal["answered", "no_answer", "voicemail", "busy", "interested", "not_interested", "callback_requested"]


def call_filters(since: datetime | None = Query(default=None, alias="from", description="Placed at or after (ISO 8601; "
                                                                                         "UTC unless it says)"),
                 until: datetime | None = Query(default=None, alias="to", description="Placed before (ISO 8601)"),
                 agent_id: str | None = Query(default=None, alias="agentId", max_length=100,
                                              description="The ElevenLabs agent id"),
                 outcome: Outcome | None = None,
                 user_id: str | None = Query(default=None, alias="userId", max_length=36),
                 organization_id: str | None = Query(default=None, alias="organizationId", max_length=36,
                                                     description="Admins: one organization (others see their own "
                                                                 "only)"),
                 campaign_id: str | None = Query(default=None, alias="campaignId", max_length=36,
                                                 description="The calls one campaign placed")) -> listing.CallFilters:
    return listing.CallFilters(since=since, until=until, agent_id=agent_id, outcome=outcome, user_id=user_id,
                               organization_id=organization_id, campaign_id=campaign_id)


Filters = Annotated[listing.CallFilters, Depends(call_filters)]


@router.get("/api/calls", response_model=schemas.CallPage)
async def list_calls(principal: CanViewLeads, session: DbSession, filters: Filters, cursor: str | None = None,
                     limit: int = Query(default=50, ge=1, le=200)) -> schemas.CallPage:
    """Calls across leads, newest first, in the caller's scope (as GET /api/leads: admins the tenant, everyone
    else their organization)."""
    return await listing.list_calls(session, principal.scope, filters, limit=limit, cursor=cursor)


@router.get("/api/calls/export", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "The calls as CSV, streamed"}})
async def export_calls(principal: CanViewLeads, filters: Filters, request: Request,
                       format: Literal["csv"] = Query(default="csv")) -> StreamingResponse:
    """GET /api/calls' calls (same filters, same scope), all of them, as CSV streamed in chunks."""
    container = request.app.state.container
    return StreamingResponse(listing.export_calls(container.read_sessionmaker, principal.scope, filters),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="leadcall-calls.csv"',
                                      "Cache-Control": "no-store"})


@router.get("/api/calls/{call_id}", response_model=schemas.CallLog)
async def get_call(call_id: str, principal: CanViewLeads, session: DbSession, request: Request) -> schemas.CallLog:
    return to_wire(await _calls(request).get_call(session, principal.scope, call_id))


@router.patch("/api/calls/{call_id}", response_model=schemas.CallLog)
async def correct_call(call_id: str, body: schemas.CallOutcomeUpdate, principal: CanPlaceCalls, session: DbSession,
                       request: Request) -> schemas.CallLog:
    return to_wire(await _calls(request).correct(session, principal, call_id, body))


@router.get("/api/calls/{call_id}/events", response_model=list[schemas.CallEventView])
async def call_events(call_id: str, principal: CanViewLeads, session: DbSession,
                      request: Request) -> list[schemas.CallEventView]:
    events = await _calls(request).events_of(session, principal.scope, call_id)
    return [schemas.CallEventView.model_validate(e) for e in events]


@router.post("/api/calls/{call_id}/cancel", response_model=schemas.CancelResult)
async def cancel_call(call_id: str, principal: CanPlaceCalls, request: Request) -> schemas.CancelResult:
    return await _calls(request).cancel(principal, call_id)


MAX_RECORDING_BYTES = 64 * 1024 * 1024  # hours of call audio; a recording is read whole to serve its ranges


@router.get("/api/calls/{call_id}/audio", response_class=Response,
             responses={200: {"content": {"audio/mpeg": {}}, "description": "The recording"},
                        206: {"content": {"audio/mpeg": {}}, "description": "The part of the recording a `Range` "
                                                                           "header asked for (players seek so)"},
                        416: {"description": "A range past the end of the recording"}})
async def call_audio(call_id: str, principal: CanViewLeads, session: DbSession, request: Request) -> Response:
    service = _calls(request)
    call = await service.get_call(session, principal.scope, call_id)
    if not call.has_audio or call.conversation_id is None:
        raise NotFound("this call has no recording", code="no_recording")
    account = await AccountRepository(session, principal.tenant_scope).get(call.account_id)
    # The provider streams the recording from its start only: it is read whole (bounded), so that its length
    # is known and any range of it can be answered.
    audio = bytearray()
    try:
        async for chunk in service.voices.stream_audio(account, call.conversation_id):
            audio.extend(chunk)
            if len(audio) > MAX_RECORDING_BYTES:
                raise Invalid("this recording is too large to serve", code="recording_too_large")
    except ProviderError as exc:
        raise provider_error_to_leadcall(exc) from exc
    headers = {"Content-Disposition": f'inline; filename="call-{call.id}.mp3"', "Accept-Ranges": "bytes",
               "Cache-Control": "no-store"}  # a voice recording is personal data
    size = len(audio)
    try:
        wanted = byte_range(request.headers.get("range"), size)
    except UnsatisfiableRange:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if wanted is None:
        return Response(bytes(audio), media_type="audio/mpeg", headers=headers)
    first, last = wanted
    return Response(bytes(audio[first:last + 1]), status_code=206, media_type="audio/mpeg",
                    headers={**headers, "Content-Range": f"bytes {first}-{last}/{size}"})


@router.get("/api/events", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}, "description": "Live events"}})
async def events(principal: CurrentPrincipal, request: Request) -> StreamingResponse:
    """Server-Sent Events: `call.updated` for the caller's tenant (and organization, unless admin)."""
    hub: EventHub = request.app.state.events
    clock = request.app.state.container.clock
    scope = principal.scope
    stream = hub.subscribe(scope.tenant_id, scope.organization_id, idle_seconds=HEARTBEAT_SECONDS)

    async def body() -> AsyncIterator[bytes]:
        # A client that goes away cancels this generator (the server watches the connection).
        yield b": connected\n\nretry: 3000\n\n"
        try:
            async for event in stream:
                if event is None:  # idle: a signed-out session or a revoked token ends the stream here
                    if not await still_authenticated(request, utc_datetime(clock)):
                        break
                    yield b": keep-alive\n\n"
                else:
                    yield event.sse_frame
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    return StreamingResponse(metrics.counted_stream(body()), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
