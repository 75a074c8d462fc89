"""Calls across leads: GET /api/calls (filters, cursor pages, role scope), the CSV exports, CRM dispositions."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from leadcall.calls import listing
from leadcall.calls.dispositions import HUBSPOT_CONNECTED, HUBSPOT_NO_ANSWER
from leadcall.calls.models import CallLog
from leadcall.campaigns.models import Campaign, CampaignAttempt
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.voice.models import VoiceAgent
from tests.factories import TenantWorld
from tests.live import CallWorld, LiveServer

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def seed_call(app: FastAPI, cw: CallWorld, lead_id: str, *, at: datetime, org_id: str | None = None,
                    user_id: str | None = None, phone_result: str | None = "answered", sales_result: str | None = None,
                    agent_id: str | None = None, summary: str | None = None) -> str:
    """A finished call row as the worker leaves it."""
    world = cw.world
    async with transaction(app.state.container.sessionmaker) as session:
        agent = (await session.execute(select(VoiceAgent).where(VoiceAgent.account_id == cw.account_id))).scalars().first()
        assert agent is not None
        call = CallLog(tenant_id=world.tenant_id, organization_id=org_id or world.org_id, lead_id=lead_id,
                       user_id=user_id or world.member.user_id, account_id=cw.account_id, agent_ref_id=agent.id,
                       agent_id=agent_id or agent.agent_id, phone_number_id="phnum_test", phone_kind="twilio",
                       to_number="+12025550100", status="completed", call_type="prospecting",
                       phone_result=phone_result, sales_result=sales_result, summary=summary,
                       transcription_status="completed", cost_currency="USD", created_at=at, updated_at=at)
        session.add(call)
        await session.flush()
        return call.id


async def _lead(client: httpx.AsyncClient, world: TenantWorld, name: str, actor: str = "admin",
                org: str | None = None) -> str:
    headers = getattr(world, actor).headers
    body: dict[str, str] = {"name": name, "phone": "+12025550100"}
    if org:
        body["organizationId"] = org
    r = await client.post("/api/leads", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_filters_and_cursor_pages(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    app, client, world = live.app, live_client, cw.world
    lead = await _lead(client, world, "Listed lead")
    other_lead = await _lead(client, world, "Support lead", org=world.other_org_id)
    ids = [await seed_call(app, cw, lead, at=BASE + timedelta(hours=i), sales_result="interested" if i % 2 else None,
                           phone_result="answered" if i % 2 else "no_answer") for i in range(5)]
    by_manager = await seed_call(app, cw, lead, at=BASE + timedelta(hours=6), user_id=world.manager.user_id,
                                 agent_id="agent_other")
    support = await seed_call(app, cw, other_lead, at=BASE + timedelta(hours=7), org_id=world.other_org_id,
                              user_id=world.other_org_member.user_id)
    admin = world.admin.headers

    async def listed(**params: str) -> list[str]:
        r = await client.get("/api/calls", params=params, headers=admin)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    newest_first = [support, by_manager, *reversed(ids)]
    assert await listed() == newest_first
    assert await listed(outcome="interested") == [ids[3], ids[1]]
    assert await listed(outcome="no_answer") == [ids[4], ids[2], ids[0]]
    assert await listed(userId=world.manager.user_id) == [by_manager]
    assert await listed(agentId="agent_other") == [by_manager]
    assert await listed(organizationId=world.other_org_id) == [support]
    window = {"from": (BASE + timedelta(hours=1)).isoformat(), "to": (BASE + timedelta(hours=3)).isoformat()}
    assert await listed(**window) == [ids[2], ids[1]]
    assert await listed(**{"from": "2026-03-02T15:00:00"}) == [support, by_manager]  # naive means UTC
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/calls", params=params, headers=admin)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == newest_first


async def test_the_calls_of_one_campaign(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
                                         other_world: TenantWorld) -> None:
    app, client, world = live.app, live_client, cw.world
    lead = await _lead(client, world, "Campaign lead")
    dialled = [await seed_call(app, cw, lead, at=BASE + timedelta(minutes=i)) for i in range(3)]
    by_hand = await seed_call(app, cw, lead, at=BASE + timedelta(minutes=5))

    async def campaign(tenant_id: str, org_id: str, calls: list[str]) -> str:
        async with transaction(app.state.container.sessionmaker) as session:
            row = Campaign(tenant_id=tenant_id, organization_id=org_id, name="Spring list", agent_ids=["agent_x"],
                           call_type="prospecting", max_live_calls=1, calls_per_second=1, retry={}, stop_on=[],
                           created_at=BASE, updated_at=BASE)
            session.add(row)
            await session.flush()
            session.add_all(CampaignAttempt(tenant_id=tenant_id, organization_id=org_id, campaign_id=row.id,
                                            lead_id=lead, attempt=n + 1, state="done", due_at=BASE, call_id=call,
                                            created_at=BASE, updated_at=BASE) for n, call in enumerate(calls))
            return row.id

    spring = await campaign(world.tenant_id, world.org_id, dialled[:2])

    async def listed(headers: dict[str, str], **params: str) -> list[str]:
        r = await client.get("/api/calls", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await listed(world.admin.headers, campaignId=spring) == [dialled[1], dialled[0]]
    assert by_hand not in await listed(world.member.headers, campaignId=spring)
    export = await client.get("/api/calls/export", params={"campaignId": spring}, headers=world.admin.headers)
    assert {row["id"] for row in csv.DictReader(io.StringIO(export.text))} == set(dialled[:2])
    # Another tenant's campaign (or a made-up id) names none of this tenant's calls.
    assert await listed(other_world.admin.headers, campaignId=spring) == []
    assert await listed(world.admin.headers, campaignId=str(uuid.uuid4())) == []
    too_long = await client.get("/api/calls", params={"campaignId": "x" * 37}, headers=world.admin.headers)
    assert too_long.status_code == 422


async def test_role_scope_follows_the_lead_list(live: LiveServer, live_client: httpx.AsyncClient,
                                                cw: CallWorld) -> None:
    app, client, world = live.app, live_client, cw.world
    mine = await seed_call(app, cw, await _lead(client, world, "Sales lead"), at=BASE)
    theirs = await seed_call(app, cw, await _lead(client, world, "Support lead", org=world.other_org_id), at=BASE,
                             org_id=world.other_org_id, user_id=world.other_org_member.user_id)

    async def ids(headers: dict[str, str], **params: str) -> set[str]:
        r = await client.get("/api/calls", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    assert await ids(world.member.headers) == {mine}
    assert await ids(world.manager.headers) == {mine}
    assert await ids(world.other_org_member.headers) == {theirs}
    assert await ids(world.admin.headers) == {mine, theirs}
    # Naming another organization does not widen a member's scope.
    assert await ids(world.member.headers, organizationId=world.other_org_id) == set()
    export = await client.get("/api/calls/export", headers=world.member.headers)
    assert export.status_code == 200
    assert {row["id"] for row in csv.DictReader(io.StringIO(export.text))} == {mine}


async def test_bad_input_answers_422(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    headers = cw.world.admin.headers
    for path in ("/api/calls", "/api/calls/export"):
        for params in ({"outcome": "maybe"}, {"from": "yesterday"}, {"from": "2026-03-02", "to": "2026-03-01"}):
            r = await live_client.get(path, params=params, headers=headers)
            assert r.status_code == 422, (path, params, r.text)
        assert (await live_client.get(path)).status_code == 401
    assert (await live_client.get("/api/calls", params={"cursor": "nope"}, headers=headers)).status_code == 422
    assert (await live_client.get("/api/calls", params={"limit": "0"}, headers=headers)).status_code == 422
    for path in ("/api/calls/export", "/api/leads/export"):
        assert (await live_client.get(path, params={"format": "xlsx"}, headers=headers)).status_code == 422
    empty = await live_client.get("/api/calls", params={"from": "2026-03-02", "to": "2026-03-01"}, headers=headers)
    assert empty.json()["code"] == "date_range_empty"


async def test_dispositions_on_every_call(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await _lead(live_client, cw.world, "Disposed")
    interested = await seed_call(live.app, cw, lead, at=BASE, sales_result="interested")
    unanswered = await seed_call(live.app, cw, lead, at=BASE, phone_result="no_answer")
    failed = await seed_call(live.app, cw, lead, at=BASE, phone_result="failed")
    headers = cw.world.admin.headers
    got = {c: (await live_client.get(f"/api/calls/{c}", headers=headers)).json()["crmDispositions"]
           for c in (interested, unanswered, failed)}
    assert got[interested] == {"hubspot": HUBSPOT_CONNECTED, "pipedrive": "connected", "close": "answered",
                               "salesforce": "Connected - Interested"}
    assert got[unanswered] == {"hubspot": HUBSPOT_NO_ANSWER, "pipedrive": "no_answer", "close": "no-answer",
                               "salesforce": "No Answer"}
    assert got[failed] == {"hubspot": None, "pipedrive": None, "close": "error", "salesforce": "Failed"}


async def test_exports_neutralise_formulas_and_stream_in_chunks(live: LiveServer, live_client: httpx.AsyncClient,
                                                                cw: CallWorld) -> None:
    app, client, world = live.app, live_client, cw.world
    tag = uuid.uuid4().hex[:6]
    evil = f'=HYPERLINK("http://evil.example","{tag}")'
    lead = await _lead(client, world, evil)
    ext = await client.patch(f"/api/leads/{lead}", json={"externalId": f"+{tag}", "company": "@corp"},
                             headers=world.admin.headers)
    assert ext.status_code == 200, ext.text
    calls = [await seed_call(app, cw, lead, at=BASE + timedelta(minutes=i), summary="-1+1 said the lead")
             for i in range(5)]
    r = await client.get("/api/calls/export", headers=world.admin.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == list(reversed(calls))
    assert rows[0]["leadName"] == "'" + evil and rows[0]["leadExternalId"] == f"'+{tag}"
    assert rows[0]["summary"] == "'-1+1 said the lead" and rows[0]["closeDisposition"] == "answered"
    # Read in chunks of 2, the file is the same.
    chunks = [part async for part in listing.export_calls(app.state.container.read_sessionmaker,
                                                           Scope(world.tenant_id), listing.CallFilters(), chunk=2)]
    assert len(chunks) == 4 and b"".join(chunks).decode() == r.text
    leads = await client.get("/api/leads/export", params={"q": tag}, headers=world.admin.headers)
    assert leads.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(leads.text)))
    assert (row["name"], row["externalId"], row["company"]) == ("'" + evil, f"'+{tag}", "'@corp")
    # The leads export follows the list's scope: a member of another team sees none of them.
    theirs = await client.get("/api/leads/export", params={"q": tag}, headers=world.other_org_member.headers)
    assert list(csv.DictReader(io.StringIO(theirs.text))) == []
