"""Pages of the campaigns: the list with its create form (one page, no modal), and the campaign page with its
preview, its life-cycle buttons, and its progress, counts, report and attempts, live over SSE
(`campaign.updated` refreshes the progress part)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import CallType
from leadcall.campaigns import results
from leadcall.campaigns.schemas import DEFAULT_STOP_ON, CampaignCreate, CampaignSettings, RetryPolicy
from leadcall.campaigns.service import CampaignService, to_wire
from leadcall.core.boundary import check_request
from leadcall.core.csv_files import read_upload
from leadcall.core.deps import DbSession, Now
from leadcall.core.errors import Invalid, NotFound
from leadcall.leads.models import LeadStatus
from leadcall.tenancy.principal import Permission, Principal
from leadcall.voice.manager import VoiceManager
from leadcall.web.auth import PagePrincipal, page_principal
from leadcall.web.forms import PageRoute, field_problem
from leadcall.web.i18n import explain_field, translate, translate_plural
from leadcall.web.rendering import language_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)
ATTEMPTS_SHOWN = 100
RETRY_RESULTS = ("no_answer", "busy", "voicemail", "failed")


def campaigns_of(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.campaigns
    return service


async def _agents(request: Request, session: AsyncSession, principal: Principal, *,
                  include_unusable: bool = False) -> list[tuple[str, str]]:
    voices: VoiceManager = request.app.state.voice_manager
    report = await voices.availability_report(session, tenant_id=principal.tenant_id,
                                              organization_id=principal.organization_id, call_type=None,
                                              include_unusable=include_unusable)
    return [(a.info.agent_id, f"{a.info.name} · {a.account.name}") for a in report.agents]


@router.get("/campaigns")
async def campaigns_page(request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    principal.require(Permission.view_leads)
    rows, _ = await campaigns_of(request).page(session, principal, limit=100, cursor=None, state=None)
    items = [await to_wire(session, r) for r in rows]
    agents = await _agents(request, session, principal) if principal.can(Permission.run_campaigns) else []
    return render(request, "campaigns.html", principal, campaigns=items, agents=agents,
                  call_types=[c.value for c in CallType], statuses=[s.value for s in LeadStatus],
                  stop_conditions=list(DEFAULT_STOP_ON), retry_defaults=dict(RetryPolicy()))


def _local(value: str) -> datetime | None:
    """A `datetime-local` field: the browser's wall time, sent with its offset by the form (`tz` field)."""
    return datetime.fromisoformat(value) if value.strip() else None


@router.post("/campaigns")
async def create_campaign(request: Request, principal: PagePrincipal, session: DbSession, now: Now,
                          name: str = Form(""), agent_ids: list[str] = Form(default=[]), call_type: str = Form(""),
                          source: str = Form("filter"), file: UploadFile | None = None,
                          q: str = Form(""), status: str = Form(""), start_at: str = Form(""),
                          end_at: str = Form(""), offset: str = Form("+00:00"), max_live_calls: str = Form("2"),
                          calls_per_second: str = Form("1"), spending_cap: str = Form(""),
                          stop_on: list[str] = Form(default=[]), stop_on_shown: str = Form("")) -> Response:
    principal.require(Permission.run_campaigns)
    wanted: dict[str, Any] = {"name": name, "agentIds": agent_ids, "callType": call_type or "prospecting",
                              "maxLiveCalls": max_live_calls, "callsPerSecond": calls_per_second}
    for key, value in (("startAt", start_at), ("endAt", end_at)):
        if value.strip():
            wanted[key] = f"{value.strip()}{offset if len(offset) <= 6 else '+00:00'}"
    if spending_cap.strip():
        wanted["spendingCap"] = spending_cap
    if stop_on_shown:  # the form's checkboxes (none ticked: no stop condition)
        wanted["stopOn"] = stop_on
    form = await request.form()
    retry = {}
    for result in RETRY_RESULTS:
        minutes, most = str(form.get(f"retry_{result}_minutes") or ""), str(form.get(f"retry_{result}_most") or "")
        if minutes.strip() or most.strip():
            try:
                seconds: object = round(float(minutes) * 60)
            except ValueError:
                seconds = minutes
            retry[result] = {"afterSeconds": seconds, "maxAttempts": most}
    if retry:
        wanted["retry"] = retry
    service = campaigns_of(request)
    if source == "csv":
        if file is None or not file.filename:
            raise RequestValidationError([field_problem("file", "missing", "choose the CSV file")])
        try:
            settings = CampaignSettings.model_validate(wanted)
        except ValidationError as exc:
            raise _form_errors(exc) from exc
        content = await read_upload(file, request.app.state.container.settings.max_csv_bytes)
        try:
            created = await service.create_from_csv(session, principal, settings, content, now)
        except Invalid as exc:
            if exc.code != "campaign_csv_rejected":
                raise
            await session.rollback()  # nothing of the file stays
            lang = language_of(request, principal)
            rows = [(e["row"], [explain_field(lang, p["field"], p["code"], p["params"]) for p in e["problems"]])
                    for e in exc.extra["rows"]]
            response = render(request, "_campaign_csv_rejected.html", principal, rows=rows,
                              rejected=exc.params["rejected"])
            response.headers["HX-Retarget"] = "#campaign-form-report"
            response.headers["HX-Reswap"] = "innerHTML"
            return response
        return Response(status_code=204, headers={"HX-Redirect": f"/campaigns/{created.campaign.id}"})
    wanted["leads"] = {"filter": {k: v for k, v in (("q", q), ("status", status)) if v.strip()}}
    try:
        body = CampaignCreate.model_validate(wanted)
    except ValidationError as exc:
        raise _form_errors(exc) from exc
    row = await service.create(session, principal, body, now)
    return Response(status_code=204, headers={"HX-Redirect": f"/campaigns/{row.id}"})


def _form_errors(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])


async def _progress(request: Request, session: AsyncSession, principal: Principal, campaign_id: str, now: datetime,
                    message: str | None = None) -> Response:
    service = campaigns_of(request)
    campaign = await to_wire(session, await service.get(session, principal, campaign_id))
    report = await results.report(session, principal, campaign_id)
    attempts = await results.attempts(session, principal, campaign_id, now, limit=ATTEMPTS_SHOWN, cursor=None,
                                      state=None, lead_id=None)
    preview = None
    if campaign.state.value == "draft":
        preview = await service.preview(session, principal, campaign_id, now, code=None, cursor=None, limit=50)
    agent_names = dict(await _agents(request, session, principal, include_unusable=True)) if report.by_agent else {}
    return render(request, "_campaign_progress.html", principal, campaign=campaign, report=report,
                  attempts=attempts.items, preview=preview, message=message, agent_names=agent_names)


@router.get("/campaigns/{campaign_id}")
async def campaign_page(campaign_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                        now: Now) -> Response:
    principal.require(Permission.view_leads)
    campaign = await to_wire(session, await campaigns_of(request).get(session, principal, campaign_id))
    return render(request, "campaign.html", principal, campaign=campaign)


@router.get("/campaigns/{campaign_id}/progress")
async def campaign_progress(campaign_id: str, request: Request, principal: PagePrincipal, session: DbSession,
                            now: Now) -> Response:
    principal.require(Permission.view_leads)
    return await _progress(request, session, principal, campaign_id, now)


@router.get("/campaigns/{campaign_id}/leads/{lead_id}")
async def lead_timeline(campaign_id: str, lead_id: str, request: Request, principal: PagePrincipal,
                        session: DbSession, now: Now) -> Response:
    """One lead's attempts in the campaign, in their order (its timeline); a lead the campaign does not call
    (or another tenant's) is not found."""
    principal.require(Permission.view_leads)
    found = await results.attempts(session, principal, campaign_id, now, limit=50, cursor=None, state=None,
                                   lead_id=lead_id[:36])
    if not found.items:
        raise NotFound("this lead is not one of the campaign's", code="not_found", params={"what": "lead"})
    agent_names = dict(await _agents(request, session, principal, include_unusable=True))
    return render(request, "_campaign_lead_timeline.html", principal, attempts=found.items,
                  lead_name=found.items[0].lead_name or lead_id[:8], agent_names=agent_names)


@router.post("/campaigns/{campaign_id}/{action}")
async def campaign_action(campaign_id: str, action: str, request: Request, principal: PagePrincipal,
                          session: DbSession, now: Now, hang_up: str = Form("")) -> Response:
    principal.require(Permission.run_campaigns)
    service = campaigns_of(request)
    lang = language_of(request, principal)
    if action == "start":
        await service.start(session, principal, campaign_id, now)
    elif action == "pause":
        await service.pause(session, principal, campaign_id, now)
    elif action == "resume":
        await service.resume(session, principal, campaign_id, now)
    elif action == "cancel":
        await session.commit()  # the cancel hangs up after its own commit
        canceled = await service.cancel_and_hang_up(principal, campaign_id, hang_up=hang_up == "1")
        if hang_up == "1":
            return await _progress(request, session, principal, campaign_id, now, message=translate_plural(
                lang, "campaigns.canceled_hung_up", canceled.hung_up))
    else:
        return Response(status_code=404)
    await session.flush()
    done = {"start": "campaigns.started", "pause": "campaigns.paused", "resume": "campaigns.resumed",
            "cancel": "campaigns.canceled"}[action]
    return await _progress(request, session, principal, campaign_id, now, message=translate(lang, done))
