"""A budget under a burst, black-box, in both shapes: the scale-out one (two web processes and a
worker sharing PostgreSQL and Redis) and the embedded one (one process on SQLite), with the
simulator as a process of its own. 100 placements at once against a team budget that holds 10
calls: exactly 10 are placed (and dialled, once each), the other 90 are told 402 with the
budget's code, nobody gets a 5xx or a dropped connection, and no call is left `initiating`.
Meanwhile the worker runs jobs that insert rows naming the tenant and its budget (call events,
webhooks, budget alerts), which is what once deadlocked with placement on PostgreSQL.

Real processes in real time; every wait is bounded and ends as soon as the state is seen.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.leads import schemas as lead_schemas
from leadcall.leads import service as leads
from leadcall.settings import Settings
from leadcall.simulator import DEMO_ACCOUNTS
from leadcall.simulator.scenarios import LONG_CALL
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.repository import unscoped_get_tenant
from tests.factories import TenantWorld
from tests.live import free_port
from tests.scale.test_multiprocess import REDIS_URL, Processes, available_agents, wait_until_up

pytestmark = pytest.mark.scale
PLACEMENTS = 100
CALLS_THE_BUDGET_HOLDS = 10


@pytest.fixture(params=["scale-out", "embedded"])
def shape(request: pytest.FixtureRequest, settings: Settings) -> str:
    if request.param == "scale-out" and (settings.is_sqlite or not REDIS_URL):
        pytest.skip("the scale-out shape runs in the PostgreSQL + Redis pass of ./dev test")
    if request.param == "embedded" and not settings.is_sqlite:
        pytest.skip("the embedded shape runs in the SQLite pass of ./dev test")
    return str(request.param)


@pytest.fixture
def processes(settings: Settings, shape: str) -> Iterator[Processes]:
    procs = Processes(settings)
    if shape == "embedded":
        procs.env.pop("LEADCALL_REDIS_URL")  # no Redis: in-process events, jobs and worker
    yield procs
    procs.stop_all()


async def add_long_call_leads(app: FastAPI, world: TenantWorld, count: int) -> list[str]:
    """Leads whose calls last ten simulated minutes: none ends (and frees budget) during the burst."""
    now = datetime.now(UTC)
    async with transaction(app.state.container.sessionmaker) as session:
        tenant = await unscoped_get_tenant(session, world.tenant_id)
        assert tenant is not None
        user = await tenancy.get_user(session, Scope(world.tenant_id), world.member.user_id)
        member = tenancy.principal_for(user, tenant, "token")
        ids = []
        for i in range(count):
            lead = await leads.create_lead(session, member, lead_schemas.LeadCreate(
                name=f"Burst {i}", company="Widgets", phone=LONG_CALL), now)
            ids.append(lead.id)
    return ids


async def dials_seen_by(sim_url: str) -> int:
    async with httpx.AsyncClient(base_url=sim_url, headers={"xi-api-key": DEMO_ACCOUNTS[1]["api_key"]}) as client:
        seen, cursor = 0, None
        while True:
            page = (await client.get("/v1/convai/conversations",
                                     params={"page_size": 100, **({"cursor": cursor} if cursor else {})})).json()
            seen += len(page["conversations"])
            if not page["has_more"]:
                return seen
            cursor = page["next_cursor"]


async def test_a_burst_against_a_budget_places_exactly_what_it_holds(
        processes: Processes, app: FastAPI, world: TenantWorld, shape: str) -> None:
    port_a, port_b, port_sim = free_port(), free_port(), free_port()
    url_a, url_b, url_sim = (f"http://127.0.0.1:{p}" for p in (port_a, port_b, port_sim))
    if shape == "embedded":
        url_b = url_a  # one process serves everything
    processes.env["LEADCALL_PROVIDER_HOSTS"] = f"127.0.0.1:{port_sim}"  # every process may reach the simulator
    unlimited = {"LEADCALL_PLACEMENTS_PER_USER_PER_MINUTE": "10000",
                 "LEADCALL_PLACEMENTS_PER_TENANT_PER_MINUTE": "10000"}
    for port in (port_a, port_b) if shape == "scale-out" else (port_a,):
        processes.start("serve", "--port", str(port), LEADCALL_PUBLIC_BASE_URL=url_b, **unlimited)
    if shape == "scale-out":
        processes.start("worker")
    await wait_until_up(f"{url_a}/health")
    await wait_until_up(f"{url_b}/health")
    demo = DEMO_ACCOUNTS[1]
    lead_ids = await add_long_call_leads(app, world, PLACEMENTS)
    async with httpx.AsyncClient(base_url=url_a, timeout=30) as client:
        r = await client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers, json={
            "name": "Burst", "apiKey": demo["api_key"], "webhookSecret": demo["webhook_secret"], "baseUrl": url_sim,
            "concurrencyLimit": 500, "twilioAccountSid": demo["twilio_account_sid"],
            "twilioAuthToken": demo["twilio_auth_token"], "twilioBaseUrl": url_sim})
        assert r.status_code == 201, r.text
        processes.start("simulator", "--port", str(port_sim), "--speed", "10", "--webhook-url", r.json()["webhookUrl"])
        await wait_until_up(f"{url_sim}/v1/voices")
        budget = await client.put("/api/budgets", headers=world.admin.headers, json={
            "organizationId": world.org_id, "monthlyLimit": CALLS_THE_BUDGET_HOLDS, "estimatedCallCost": 1})
        assert budget.status_code == 200, budget.text
        agent_id = (await available_agents(client, world.member.headers))[0]["agentId"]

    answers: list[int | str] = []
    codes: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=PLACEMENTS)) as client:
        async def place(i: int) -> None:
            url = (url_a, url_b)[i % 2]
            try:
                r = await client.post(f"{url}/api/leads/{lead_ids[i]}/call", json={"agentId": agent_id},
                                      headers=world.member.headers)
            except httpx.HTTPError as exc:
                answers.append(type(exc).__name__)
                return
            answers.append(r.status_code)
            if r.status_code != 200:
                codes[str(r.json().get("code"))] += 1
            elif not r.json()["success"]:
                codes[f"200 but: {r.json()['error']}"] += 1

        await asyncio.gather(*(place(i) for i in range(PLACEMENTS)))

    by_answer = Counter(answers)
    assert by_answer == {200: CALLS_THE_BUDGET_HOLDS, 402: PLACEMENTS - CALLS_THE_BUDGET_HOLDS}, (by_answer, codes)
    assert codes == {"team_budget_spent": PLACEMENTS - CALLS_THE_BUDGET_HOLDS}
    assert await dials_seen_by(url_sim) == CALLS_THE_BUDGET_HOLDS
    async with httpx.AsyncClient(base_url=url_b, timeout=30) as client:
        statuses: Counter[str] = Counter()
        for lead_id in lead_ids:
            for call in (await client.get(f"/api/leads/{lead_id}/calls", headers=world.member.headers)).json()["items"]:
                statuses[call["status"]] += 1
    assert set(statuses) <= {"ringing", "in_progress"} and sum(statuses.values()) == CALLS_THE_BUDGET_HOLDS, statuses
