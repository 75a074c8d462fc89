from __future__ import annotations

import httpx
from fastapi import APIRouter

from leadcall.app import create_app
from leadcall.core.deps import DbSession
from leadcall.leads.models import Lead
from leadcall.settings import Settings
from leadcall.tenancy.deps import CurrentPrincipal
from tests.cross_tenant import Case, list_leaks, walk
from tests.factories import PASSWORD, TenantWorld
from tests.live import CallWorld, LiveServer, call_with_alert, make_call_world


async def victim_ids(client: httpx.AsyncClient, victim: TenantWorld) -> dict[str, str]:
    tokens = (await client.get("/api/tokens", headers=victim.member.headers)).json()
    signed_in = await client.post("/api/auth/login", json={"email": victim.member.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    sessions = (await client.get("/api/me/sessions")).json()
    client.cookies.clear()  # the attacker calls with its own token only
    listed = await client.post("/api/dnc", json={"phone": "+12025550199", "reason": "walker"},
                               headers=victim.admin.headers)
    assert listed.status_code in (200, 201), listed.text
    callback = await client.post(f"/api/leads/{victim.lead_ids[0]}/callbacks", json={"at": "2030-01-07T10:00:00"},
                                 headers=victim.member.headers)
    assert callback.status_code == 201, callback.text
    # An outgoing webhook endpoint with one delivery waiting (a lead change; nothing is sent by the walk).
    endpoint = await client.post("/api/webhook-endpoints", json={"url": "https://crm.invalid/hooks",
                                                                 "eventTypes": ["lead.updated"]},
                                 headers=victim.admin.headers)
    assert endpoint.status_code == 201, endpoint.text
    endpoint_id = endpoint.json()["id"]
    changed = await client.patch(f"/api/leads/{victim.lead_ids[1]}", json={"company": "Walker"},
                                 headers=victim.member.headers)
    assert changed.status_code == 200, changed.text
    deliveries = (await client.get(f"/api/webhook-endpoints/{endpoint_id}/deliveries",
                                   headers=victim.admin.headers)).json()["items"]
    external = await client.put("/api/leads/by-external-id/victim-crm-1", json={"name": "Victim's CRM lead"},
                                headers=victim.member.headers)
    assert external.status_code == 201, external.text
    return {"lead_id": victim.lead_ids[0], "external_id": "victim-crm-1",
            "callback_id": callback.json()["id"], "user_id": victim.member.user_id,
            "endpoint_id": endpoint_id, "delivery_id": deliveries[0]["id"],
            "token_id": tokens[0]["id"],
            "tenant_id": victim.tenant_id, "organization_id": victim.org_id, "session_id": sessions[0]["id"],
            "phone": "%2B12025550199"}


async def victim_call_ids(live: LiveServer, client: httpx.AsyncClient, victim: CallWorld) -> dict[str, str]:
    """Ids of a tenant that has an account, agents and a call."""
    ids = await victim_ids(client, victim.world)
    agents = (await client.get("/api/voice/agents/available", headers=victim.world.member.headers)).json()
    call_id, budget_id, alert_id = await call_with_alert(live, client, victim)
    campaign = await client.post("/api/campaigns", headers=victim.world.manager.headers, json={
        "name": "Victim's list", "agentIds": [agents[0]["agentId"]], "leads": {"ids": victim.world.lead_ids}})
    assert campaign.status_code == 201, campaign.text
    return {**ids, "call_id": call_id, "campaign_id": campaign.json()["id"], "agent_ref_id": agents[0]["id"],
            "budget_id": budget_id, "alert_id": alert_id,
            "config_id": victim.account_id, "agent_id": agents[0]["agentId"]}


def body_cases(victim: TenantWorld, ids: dict[str, str] | None = None) -> list[Case]:
    cases = [
        Case("POST", "/api/users", json={"email": "x-walker@example.com", "name": "X", "password": "long-enough",
                                         "organizationId": victim.org_id}),
        Case("POST", "/api/leads", json={"name": "X", "organizationId": victim.org_id}),
        Case("GET", "/api/calling-rules", params={"organizationId": victim.org_id}),
        Case("PUT", "/api/calling-rules", json={"organizationId": victim.org_id, "windows": [
            {"days": ["mon"], "start": "09:00", "end": "10:00"}]}),
    ]
    if ids is None:
        return cases
    base = "/api/voice/providers/elevenlabs"
    return cases + [
        Case("POST", "/api/calls/initiate", json={"leadId": ids["lead_id"], "agentId": ids["agent_id"]}),
        Case("PUT", f"{base}/config", json={"id": ids["config_id"], "name": "Hijacked"}),
        Case("DELETE", f"{base}/config", params={"configId": ids["config_id"]}),
        Case("POST", f"{base}/test-connection", json={"configId": ids["config_id"]}),
        Case("GET", f"{base}/agent-info", params={"configId": ids["config_id"], "agentId": ids["agent_id"]}),
        Case("POST", f"{base}/agent-update", json={"configId": ids["config_id"], "agentId": ids["agent_id"],
                                                   "name": "Hijacked"}),
        Case("GET", f"{base}/voices", params={"configId": ids["config_id"]}),
        Case("POST", f"{base}/check", params={"configId": ids["config_id"]}),
        Case("PUT", "/api/budgets", json={"organizationId": victim.org_id, "monthlyLimit": 5}),
        Case("POST", "/api/campaigns", json={"name": "X", "agentIds": [ids["agent_id"]],
                                             "organizationId": victim.org_id, "leads": {"ids": [ids["lead_id"]]}}),
    ]


async def test_every_route_answers_404_to_another_tenants_ids(live: LiveServer, live_client: httpx.AsyncClient,
                                                              cw: CallWorld) -> None:
    victim = await make_call_world(live, live_client)
    ids = await victim_call_ids(live, live_client, victim)
    # An admin holds every permission, so no role check answers before the scope does.
    attacker = cw.world.admin
    problems, checked = await walk(live.app, live_client, victim_ids=ids, attacker=attacker.headers,
                                   body_cases=body_cases(victim.world, ids))
    assert problems == []
    assert checked >= 20
    leaks, listed = await list_leaks(live.app, live_client, victim_ids=ids, attacker=attacker.headers)
    assert leaks == []
    assert listed >= 8
    # Nothing of the victim changed.
    lead = await live_client.get(f"/api/leads/{ids['lead_id']}", headers=victim.world.member.headers)
    assert lead.status_code == 200 and lead.json()["name"] != "Hijacked"
    crm_lead = await live_client.get("/api/leads", params={"q": "CRM lead"}, headers=victim.world.member.headers)
    assert [lead["name"] for lead in crm_lead.json()["items"]] == ["Victim's CRM lead"]
    call = await live_client.get(f"/api/calls/{ids['call_id']}", headers=victim.world.member.headers)
    assert call.status_code == 200 and call.json()["status"] != "canceled"
    accounts = (await live_client.get("/api/voice/providers/elevenlabs/config", headers=victim.world.admin.headers)).json()
    assert [a["name"] for a in accounts] == ["Main"]
    campaign = await live_client.get(f"/api/campaigns/{ids['campaign_id']}", headers=victim.world.member.headers)
    assert campaign.status_code == 200 and campaign.json()["state"] == "draft"
    assert campaign.json()["name"] == "Victim's list"


async def test_walker_catches_a_route_that_forgets_the_scope(settings: Settings, world: TenantWorld,
                                                             other_world: TenantWorld) -> None:
    leaky_app = create_app(settings)
    leaky = APIRouter()

    @leaky.get("/api/leaky/leads/{lead_id}")
    async def leaky_lead(lead_id: str, principal: CurrentPrincipal, session: DbSession) -> dict[str, str]:
        lead = await session.get(Lead, lead_id)  # deliberately unscoped
        return {"name": lead.name if lead else ""}

    leaky_app.include_router(leaky)
    async with leaky_app.router.lifespan_context(leaky_app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=leaky_app), base_url="http://testserver") as client:
        ids = await victim_ids(client, other_world)
        problems, _ = await walk(leaky_app, client, victim_ids=ids, attacker=world.admin.headers,
                                 body_cases=[])
    # (This plain app has no call or account of the victim, so only lead/user/token routes are walked.)
    answered = [p for p in problems if "answered" in p]
    assert answered == ["GET /api/leaky/leads/{lead_id} answered 200 to another tenant's id"]


async def test_walker_reports_routes_with_unknown_id_kinds(settings: Settings, world: TenantWorld,
                                                           other_world: TenantWorld) -> None:
    new_app = create_app(settings)
    extra = APIRouter()

    @extra.get("/api/widgets/{widget_id}")
    async def widget(widget_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        return {}

    new_app.include_router(extra)
    async with new_app.router.lifespan_context(new_app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=new_app), base_url="http://testserver") as client:
        ids = await victim_ids(client, other_world)
        problems, _ = await walk(new_app, client, victim_ids=ids, attacker=world.admin.headers, body_cases=[])
    assert "GET /api/widgets/{widget_id}: the walker has no other-tenant id for ['widget_id']" in problems
    assert not [p for p in problems if "answered" in p]
