from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response

from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.core.errors import Invalid
from leadcall.core.http_errors import error_responses
from leadcall.tenancy.deps import ApiRoute, CanManageAccounts, CanManageAgents, CanPlaceCalls
from leadcall.voice import analysis_setup, doctor, schemas, service, stats
from leadcall.voice.analysis_router import analysis_view
from leadcall.voice.analysis_setup import tenant_language
from leadcall.voice.deps import Voices
from leadcall.voice.schemas import CALL_TYPES

router = APIRouter(tags=["voice"], route_class=ApiRoute, responses=error_responses(424))
BASE = "/api/voice/providers/elevenlabs"


@router.get(f"{BASE}/config", response_model=list[schemas.Account])
async def list_accounts(principal: CanManageAccounts, session: DbSession, container: ContainerDep,
                        voices: Voices, now: Now) -> list[schemas.Account]:
    """The tenant's accounts, each with its `health`: webhooks received, refused and missing, calls followed by
    polling only, what ElevenLabs last reported of the workspace's post-call webhook, the last provider error
    and the concurrency left (no request to ElevenLabs: `POST …/check` reads the workspace again)."""
    accounts = await service.list_accounts(session, principal.tenant_scope)
    health = await service.accounts_health(session, principal.tenant_scope, voices, accounts, now)
    return [service.account_view(a, container.secret_box, container.settings.public_base_url).model_copy(
        update={"health": health[a.id]}) for a in accounts]


@router.post(f"{BASE}/check", response_model=schemas.AccountCheck)
async def check_account(principal: CanManageAccounts, session: DbSession, container: ContainerDep,
                        voices: Voices, now: Now, config_id: str = Query(alias="configId")) -> schemas.AccountCheck:
    """`leadcall doctor` for one of the tenant's accounts, read-only at ElevenLabs: the connection, whether the
    workspace's post-call webhook points at this account and is enabled (stored as its health), its numbers
    and what leadcall's analysis would add to each agent (a dry run). It places no call."""
    account = await service.get_account(session, principal.tenant_scope, config_id)
    report = await doctor.inspect(session, voices, account, public_base_url=container.settings.public_base_url,
                                  now=now)
    return doctor.report_view(account.id, report, now)


@router.post(f"{BASE}/config", response_model=schemas.Account, status_code=201)
async def create_account(body: schemas.AccountCreate, principal: CanManageAccounts, session: DbSession,
                         container: ContainerDep, voices: Voices, now: Now) -> schemas.Account:
    account = await service.create_account(session, principal.tenant_scope, container.secret_box, body, now,
                                           targets=voices.targets)
    await analysis_setup.set_up_account(session, voices, account, now=now,
                                        language=await tenant_language(session, principal.tenant_id))
    return service.account_view(account, container.secret_box, container.settings.public_base_url)


@router.put(f"{BASE}/config", response_model=schemas.Account)
async def update_account(body: schemas.AccountUpdate, principal: CanManageAccounts, session: DbSession,
                         container: ContainerDep, voices: Voices, now: Now) -> schemas.Account:
    account = await service.update_account(session, principal.tenant_scope, container.secret_box, voices, body, now)
    return service.account_view(account, container.secret_box, container.settings.public_base_url)


@router.delete(f"{BASE}/config", status_code=204)
async def delete_account(principal: CanManageAccounts, session: DbSession, voices: Voices,
                         config_id: str = Query(alias="configId")) -> Response:
    await service.delete_account(session, principal.tenant_scope, voices, config_id)
    return Response(status_code=204)


@router.post(f"{BASE}/test-connection", response_model=schemas.ConnectionResult)
async def test_connection(body: schemas.ConnectionTest, principal: CanManageAccounts, session: DbSession,
                          voices: Voices, now: Now) -> schemas.ConnectionResult:
    return await service.test_connection(session, principal.tenant_scope, voices, body, now)


@router.get(f"{BASE}/agent-info", response_model=schemas.AgentDetails)
async def agent_info(principal: CanPlaceCalls, session: DbSession, voices: Voices,
                     config_id: str = Query(alias="configId"),
                     agent_id: str = Query(alias="agentId")) -> schemas.AgentDetails:
    return await service.visible_agent_details(session, principal, voices, config_id, agent_id)


@router.post(f"{BASE}/agent-update", response_model=schemas.AgentDetails)
async def agent_update(body: schemas.AgentUpdateRequest, principal: CanManageAgents, session: DbSession,
                       voices: Voices, now: Now) -> schemas.AgentDetails:
    details = await service.update_agent(session, principal.tenant_scope, voices, body)
    account = await service.get_account(session, principal.tenant_scope, body.config_id)
    refs = await voices.sync_agent_refs(session, principal.tenant_scope, account,
                                        [await voices.agent_info(session, account, body.agent_id)], now.timestamp())
    ref = refs[body.agent_id]
    if ref.is_enabled:  # a changed agent gets leadcall's analysis again (the change may have touched it)
        await analysis_setup.set_up(session, voices, account, ref, now=now,
                                    language=await tenant_language(session, principal.tenant_id))
    return details


@router.get(f"{BASE}/voices", response_model=list[schemas.Voice])
async def list_voices(principal: CanPlaceCalls, session: DbSession, voices: Voices,
                      config_id: str = Query(alias="configId")) -> list[schemas.Voice]:
    account = await service.get_account(session, principal.tenant_scope, config_id)
    return [schemas.Voice(voice_id=v.voice_id, name=v.name, category=v.category, labels=dict(v.labels),
                          preview_url=v.preview_url, description=v.description)
            for v in await voices.account_voices(session, account)]


@router.get("/api/voice/agents/available", response_model=list[schemas.AvailableAgent] | schemas.AvailableAgents)
async def available_agents(principal: CanPlaceCalls, session: DbSession, voices: Voices, now: Now,
                           call_type: str | None = Query(default=None, alias="callType"),
                           include_busy: bool = Query(default=True, alias="includeBusy"),
                           stats_from: datetime | None = Query(default=None, alias="statsFrom",
                                                               description="start of the statistics' period "
                                                                           "(default: 30 days before statsTo)"),
                           stats_to: datetime | None = Query(default=None, alias="statsTo",
                                                             description="end of the period (default: now)"),
                           include: str | None = Query(default=None, description="`accounts`: answer "
                                                       "`{agents, accounts}`, with each account's state"),
                           ) -> list[schemas.AvailableAgent] | schemas.AvailableAgents:
    """The agents the caller may use now. An account ElevenLabs cannot list just now shows its last listed
    agents as unavailable (or none); `include=accounts` says which accounts and why."""
    if call_type is not None and call_type not in CALL_TYPES:
        raise Invalid(f"unknown callType '{call_type}'; use one of {', '.join(CALL_TYPES)}")
    if include not in (None, "accounts"):
        raise Invalid(f"unknown include '{include}'; the one value is 'accounts'", code="include_unknown",
                      params={"include": include}, extra={"field": "include"})
    since, until = stats.period(stats_from, stats_to, now)
    report = await voices.availability_report(session, tenant_id=principal.tenant_id,
                                              organization_id=principal.organization_id, call_type=call_type)
    items = [i for i in report.agents if include_busy or i.unavailable is None]
    analyses = await analysis_setup.statuses(session, principal.tenant_scope, [i.ref.id for i in items])
    figures = await voices.agent_stats.agent_stats(session, principal.scope, since=since, until=until,
                                                   call_type=call_type)
    agents = [service.available_agent(i).model_copy(update={
        "analysis": analysis_view(analyses[i.ref.id]),
        "stats": stats.stats_view(figures.get(i.ref.id), since, until, call_type)}) for i in items]
    if include is None:
        return agents
    return schemas.AvailableAgents(agents=agents, accounts=[service.account_state(s) for s in report.accounts])


@router.get("/api/voice/agents", response_model=list[schemas.AgentSettings])
async def list_agent_settings(principal: CanManageAgents, session: DbSession,
                              voices: Voices) -> list[schemas.AgentSettings]:
    items = await voices.availability(session, tenant_id=principal.tenant_id,
                                      organization_id=principal.organization_id, call_type=None,
                                      include_unusable=True)
    listed = await service.list_agent_settings(session, principal.tenant_scope, {i.ref.id: i.info.name for i in items})
    analyses = await analysis_setup.statuses(session, principal.tenant_scope, [a.id for a in listed])
    return [a.model_copy(update={"analysis": analysis_view(analyses[a.id])}) for a in listed]


@router.put("/api/voice/agents/{agent_ref_id}", response_model=schemas.AgentSettings)
async def update_agent_settings(agent_ref_id: str, body: schemas.AgentSettingsUpdate, principal: CanManageAgents,
                                session: DbSession, voices: Voices, now: Now) -> schemas.AgentSettings:
    ref = await service.update_agent_settings(session, principal.tenant_scope, agent_ref_id, body, now)
    status = await analysis_setup.follow_agent_change(session, voices, principal.tenant_scope, ref.id, now)
    return service.agent_settings(ref, None).model_copy(update={"analysis": analysis_view(status)})
