"""Agent listings: what they cost upstream, and what a caller is told when an ElevenLabs account is down,
hanging, or back; the copy kept in the database. The simulator counts each account's requests and takes
it down or holds its answers on demand."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadcall.voice.listings import DETAILS_TTL_SECONDS, LIST_TTL_SECONDS, ListingStore
from leadcall.voice.models import AgentListing
from tests.calls.test_placing import new_lead
from tests.factories import PASSWORD, TenantWorld, make_world
from tests.live import CallWorld, LiveServer

AVAILABLE = "/api/voice/agents/available"
LIST = "GET /v1/convai/agents"
DETAIL = "GET /v1/convai/agents/{agent_id}"


@pytest.fixture
def listings(live: LiveServer) -> Iterator[ListingStore]:
    store: ListingStore = live.app.state.voice_manager.listings
    saved = store.wait_seconds, store.monotonic
    yield store
    store.wait_seconds, store.monotonic = saved


async def connect(live: LiveServer, client: httpx.AsyncClient, world: TenantWorld, name: str, agents: int = 3,
                  down_status: int | None = None, hold: asyncio.Event | None = None) -> tuple[str, Any]:
    """A simulator account with `agents` agents (down or held already, if asked: connecting lists it),
    connected to the world's tenant; (our account id, sim account)."""
    key = f"sk_test_{uuid.uuid4().hex}"
    sim_account = live.simulator.add_account(name=f"acct-{key[-6:]}", api_key=key, webhook_secret="wsec_" + key,
                                             webhook_url=None, concurrency_limit=4)
    live.simulator.seed_account(sim_account)
    model = next(iter(sim_account.agents.values()))
    for i in range(agents - len(sim_account.agents)):
        extra = replace(model, agent_id=f"agent_{key[-8:]}_{i:03d}", name=f"Agent {i:03d}", tags=[])
        sim_account.agents[extra.agent_id] = extra
    sim_account.down_status, sim_account.hold = down_status, hold
    r = await client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers, json={
        "name": name, "apiKey": key, "webhookSecret": "wsec_" + key, "baseUrl": f"{live.url}/sim"})
    assert r.status_code == 201, r.text
    return r.json()["id"], sim_account


async def report(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, Any]:
    r = await client.get(AVAILABLE, params={"include": "accounts"}, headers=world.member.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def state_of(body: dict[str, Any], account_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in body["accounts"] if a["id"] == account_id)
    return found


async def test_a_steady_listing_costs_one_list_pass_per_ttl(live: LiveServer, live_client: httpx.AsyncClient,
                                                            listings: ListingStore) -> None:
    listings.wait_seconds = 60  # this test counts requests; the bounded wait has its own test
    world = await make_world(live.app)
    account_id, sim_account = await connect(live, live_client, world, "Big", agents=150)
    await listings.settle()
    # Connecting lists the account once (and sets up leadcall's analysis on each agent); from here on only
    # listings ask ElevenLabs anything.
    assert sim_account.requests[LIST] == 2 and sim_account.requests["GET /v1/convai/phone-numbers"] == 1
    sim_account.requests.clear()
    for _ in range(10):
        r = await live_client.get(AVAILABLE, headers=world.member.headers)
        assert r.status_code == 200 and len(r.json()) == 150
    await listings.settle()
    assert dict(sim_account.requests) == {}, "ten listings within the TTL cost nothing"
    passes = 0
    while passes * (LIST_TTL_SECONDS + 1) < DETAILS_TTL_SECONDS - LIST_TTL_SECONDS:
        live.clock.advance(LIST_TTL_SECONDS + 1)
        passes += 1
        for _ in range(5):
            r = await live_client.get(AVAILABLE, headers=world.member.headers)
            assert r.status_code == 200 and len(r.json()) == 150
        await listings.settle()
    # One list pass (two pages and the numbers) per TTL, whoever asks how often; no agent read again; the
    # voices once their own TTL passed.
    assert sim_account.requests[LIST] == 2 * passes
    assert sim_account.requests["GET /v1/convai/phone-numbers"] == passes
    assert sim_account.requests["GET /v1/voices"] == 1
    assert set(sim_account.requests) == {LIST, "GET /v1/convai/phone-numbers", "GET /v1/voices"}, "no agent read"
    # Past the details' TTL, a pass reads a bounded share of them again (in the background).
    live.clock.advance(DETAILS_TTL_SECONDS)
    await live_client.get(AVAILABLE, headers=world.member.headers)
    await listings.settle()
    assert 0 < sim_account.requests[DETAIL] <= 20
    async with live.app.state.container.sessionmaker() as session:
        stored = (await session.execute(select(AgentListing).where(AgentListing.account_id == account_id))
                  ).scalar_one()
    assert len(stored.snapshot["agents"]) == 150 and stored.problem_code is None


async def test_a_dead_account_is_said_beside_the_agents_of_the_others(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, listings: ListingStore) -> None:
    world = cw.world
    down_id, down = await connect(live, live_client, world, "Backup", down_status=503)
    try:
        body = await report(live_client, world)
        assert {a["agentId"] for a in body["agents"]} == set(cw.agent_ids), "the healthy account's agents stay"
        assert state_of(body, cw.account_id)["ok"] is True
        backup = state_of(body, down_id)
        assert backup["ok"] is False and backup["code"] == "provider_unavailable" and backup["name"] == "Backup"
        assert "503" in backup["detail"] and backup["listedAt"] is None
        plain = await live_client.get(AVAILABLE, headers=world.member.headers)
        assert isinstance(plain.json(), list) and len(plain.json()) == len(cw.agent_ids), "the shape is kept"
        # Calling one of its agents says why, instead of "no agent with this id".
        lead_id = await new_lead(live_client, cw, "+12025550100")
        placed = await live_client.post(f"/api/leads/{lead_id}/call", headers=world.member.headers,
                                        json={"agentId": next(iter(down.agents))})
        assert placed.status_code == 503, placed.text
        assert placed.json()["code"] == "provider_unavailable"
        assert placed.json()["params"] == {"account": "Backup", "accountId": down_id}
        # Back up: its agents arrive with the next pass.
        down.down_status = None
        live.clock.advance(LIST_TTL_SECONDS + 1)
        await report(live_client, world)
        await listings.settle()
        body = await report(live_client, world)
        assert state_of(body, down_id)["ok"] is True and state_of(body, down_id)["listedAt"] is not None
        backup_agents = [a for a in body["agents"] if a["configId"] == down_id]
        assert len(backup_agents) == 3 and all(a["available"] for a in backup_agents)
        # Down again: its agents stay in view, as last listed, but cannot be called.
        down.down_status = 503
        live.clock.advance(LIST_TTL_SECONDS + 1)
        await report(live_client, world)
        await listings.settle()
        body = await report(live_client, world)
        assert state_of(body, down_id)["code"] == "provider_unavailable"
        backup_agents = [a for a in body["agents"] if a["configId"] == down_id]
        assert len(backup_agents) == 3
        assert {(a["available"], a["unavailableCode"]) for a in backup_agents} == {(False, "account_unreachable")}
        placed = await live_client.post(f"/api/leads/{lead_id}/call", headers=world.member.headers,
                                        json={"agentId": backup_agents[0]["agentId"]})
        assert placed.status_code == 503 and placed.json()["code"] == "provider_unavailable"
        assert placed.json()["params"]["account"] == "Backup"
    finally:
        down.down_status = None


async def test_a_hanging_account_is_not_waited_for(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
                                                   listings: ListingStore) -> None:
    world = cw.world
    listings.wait_seconds = 0.05
    account_id, sim_account = await connect(live, live_client, world, "Slow", hold=asyncio.Event())
    assert sim_account.hold is not None
    try:
        body = await report(live_client, world)
        assert {a["agentId"] for a in body["agents"]} == set(cw.agent_ids), "the other account is unaffected"
        assert state_of(body, cw.account_id)["ok"] is True
        assert state_of(body, account_id) | {"detail": None} == {
            "id": account_id, "name": "Slow", "ok": False, "code": "listing_pending", "detail": None,
            "listedAt": None}
        # Later the slow account's look-up is long overdue; a new account beside it is still waited for.
        listings.wait_seconds = 30
        later = listings.monotonic() + 31
        listings.monotonic = lambda: later
        fresh_id, _ = await connect(live, live_client, world, "Fresh")
        body = await report(live_client, world)
        assert state_of(body, fresh_id)["ok"] is True and state_of(body, account_id)["code"] == "listing_pending"
        assert len(body["agents"]) == len(cw.agent_ids) + 3
        # The page says so, in the page's language.
        login = await live_client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
        assert login.status_code == 200
        page = await live_client.get(f"/leads/{world.lead_ids[0]}/picker")
        assert page.status_code == 200
        assert "La cuenta «Slow» de ElevenLabs aún no ha respondido" in page.text
        assert page.text.count('data-agent-card=') == len(cw.agent_ids) + 3
        placed = await live_client.post(f"/api/leads/{world.lead_ids[0]}/call", headers=world.member.headers,
                                        json={"agentId": next(iter(sim_account.agents))})
        assert placed.status_code == 503 and placed.json()["code"] == "provider_unavailable"
    finally:
        sim_account.hold.set()
        sim_account.hold = None
    await listings.settle()
    body = await report(live_client, world)
    assert state_of(body, account_id)["ok"] is True and len(body["agents"]) == 3 + 3 + len(cw.agent_ids)


async def test_the_picker_says_which_account_is_down_when_no_agent_is_left(
        live: LiveServer, live_client: httpx.AsyncClient) -> None:
    world = await make_world(live.app)
    _, sim_account = await connect(live, live_client, world, "Only", down_status=503)
    try:
        login = await live_client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
        assert login.status_code == 200
        page = await live_client.get(f"/leads/{world.lead_ids[0]}/picker")
        assert page.status_code == 200
        assert "La cuenta «Only» de ElevenLabs no responde; faltan sus agentes." in page.text
        assert "No hay agentes que puedas usar" not in page.text, "not: connect an account"
        assert "Reintentar" in page.text
    finally:
        sim_account.down_status = None


async def test_a_restart_serves_the_stored_listing_while_elevenlabs_hangs(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, listings: ListingStore) -> None:
    await listings.settle()  # the listing made with the world is stored
    first = await report(live_client, cw.world)
    listed_at = state_of(first, cw.account_id)["listedAt"]
    await listings.invalidate(cw.account_id)  # what a fresh process has: no cached listing, only the database
    listings.wait_seconds = 0.05
    cw.sim_account.hold = asyncio.Event()
    try:
        body = await report(live_client, cw.world)
        assert [a["agentId"] for a in body["agents"]] == [a["agentId"] for a in first["agents"]]
        assert state_of(body, cw.account_id)["listedAt"] == listed_at
        assert all(a["available"] for a in body["agents"]), "the copy of a good listing can be called from"
    finally:
        cw.sim_account.hold.set()
        cw.sim_account.hold = None
    await listings.settle()


async def test_an_agent_update_refreshes_its_details_without_reading_every_agent(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, listings: ListingStore) -> None:
    await listings.settle()
    agent_id = cw.agent_ids[0]
    before = dict(cw.sim_account.requests)
    upd = await live_client.post("/api/voice/providers/elevenlabs/agent-update", headers=cw.world.admin.headers,
                                 json={"configId": cw.account_id, "agentId": agent_id, "name": "Ava Renamed",
                                       "firstMessage": "Hola {{lead_first_name}}"})
    assert upd.status_code == 200, upd.text
    listed = (await live_client.get(AVAILABLE, headers=cw.world.member.headers)).json()
    assert next(a for a in listed if a["agentId"] == agent_id)["name"] == "Ava Renamed"
    info = await live_client.get("/api/voice/providers/elevenlabs/agent-info", headers=cw.world.member.headers,
                                 params={"configId": cw.account_id, "agentId": agent_id})
    assert info.json()["firstMessage"] == "Hola {{lead_first_name}}"
    await listings.settle()
    after = cw.sim_account.requests
    # The update itself, then one list pass; the details come from the update's answer (the one read of the
    # agent is leadcall's analysis set-up checking the changed agent).
    assert after[DETAIL] <= before.get(DETAIL, 0) + 1
    assert after["PATCH /v1/convai/agents/{agent_id}"] == before.get("PATCH /v1/convai/agents/{agent_id}", 0) + 1
    assert after[LIST] == before[LIST] + 1


async def test_include_takes_one_value(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    r = await live_client.get(AVAILABLE, params={"include": "everything"}, headers=cw.world.member.headers)
    assert r.status_code == 422 and r.json()["code"] == "include_unknown"


async def test_a_new_key_forgets_the_stored_listing(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
                                                    listings: ListingStore) -> None:
    await listings.settle()

    async def stored() -> int:
        async with live.app.state.container.sessionmaker() as session:
            return len((await session.execute(select(AgentListing).where(
                AgentListing.account_id == cw.account_id))).scalars().all())

    assert await stored() == 1
    renamed = await live_client.put("/api/voice/providers/elevenlabs/config", headers=cw.world.admin.headers,
                                    json={"id": cw.account_id, "name": "Main renamed"})
    assert renamed.status_code == 200 and await stored() == 1, "a new name keeps the agents"
    rekeyed = await live_client.put("/api/voice/providers/elevenlabs/config", headers=cw.world.admin.headers,
                                    json={"id": cw.account_id, "apiKey": "sk_another_workspace_1234"})
    assert rekeyed.status_code == 200 and await stored() == 0, "another key may be another workspace's agents"
