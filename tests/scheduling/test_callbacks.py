"""Callbacks: a lead's request becomes a scheduled call, placed exactly once at its time (auto) or shown as
due (manual); moved into the calling hours when asked outside them; canceled when the lead opts out, is called
otherwise or archived."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from leadcall.calls.models import CallLog
from leadcall.core.db import transaction
from leadcall.scheduling import repository
from leadcall.scheduling.service import CLAIM_SECONDS, SchedulingService
from tests.live import CallWorld, LiveServer, play

CALLBACK_NUMBER = "+12025550102"
INTERESTED_NUMBER = "+12025550100"


def scheduler(app: FastAPI) -> SchedulingService:
    service: SchedulingService = app.state.scheduling
    return service


async def new_lead(client: httpx.AsyncClient, cw: CallWorld, phone: str, **extra: Any) -> str:
    r = await client.post("/api/leads", json={"name": "Pat Lead", "company": "Acme", "phone": phone, **extra},
                          headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def calls_of(client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/leads/{lead_id}/calls", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def callbacks_of(client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> list[dict[str, Any]]:
    r = await client.get("/api/callbacks", params={"leadId": lead_id}, headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return list(r.json())


async def set_mode(client: httpx.AsyncClient, cw: CallWorld, mode: str) -> None:
    r = await client.put("/api/callback-settings", json={"mode": mode}, headers=cw.world.admin.headers)
    assert r.status_code == 200 and r.json() == {"mode": mode}, r.text


async def call_and_end(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> str:
    r = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                          headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 90)
    return str(r.json()["callLog"]["id"])


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def until_due(live: LiveServer, callback: dict[str, Any]) -> None:
    wait = (at(callback["dueAt"]) - datetime.fromtimestamp(live.clock.now(), tz=UTC)).total_seconds()
    live.clock.advance(max(0.0, wait) + 1)


async def test_a_requested_callback_is_placed_once_at_its_time_in_auto_mode(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await set_mode(live_client, cw, "auto")
    lead_id = await new_lead(live_client, cw, CALLBACK_NUMBER)
    first_call = await call_and_end(live, live_client, cw, lead_id)
    call = (await live_client.get(f"/api/calls/{first_call}", headers=cw.world.member.headers)).json()
    assert call["salesResult"] == "callback_requested" and call["callbackAt"]
    [callback] = await callbacks_of(live_client, cw, lead_id)
    # Thursday 10:00 in the lead's zone (a Washington DC number), as the lead asked; open hours: not moved.
    assert callback["status"] == "scheduled" and callback["mode"] == "auto" and callback["moved"] is None
    assert callback["sourceCallId"] == first_call and callback["agentId"] == cw.agent_ids[0]
    assert call["callbackId"] == callback["id"]
    assert callback["leadTimezone"] == "America/New_York"
    local = at(callback["dueAt"]).astimezone(ZoneInfo("America/New_York"))
    assert (local.weekday(), local.hour, local.minute) == (3, 10, 0)
    assert at(callback["dueAt"]) == at(call["callbackAt"])
    # Before its time the sweep leaves it alone.
    await scheduler(live.app).run_due()
    assert (await callbacks_of(live_client, cw, lead_id))[0]["status"] == "scheduled"
    await until_due(live, callback)
    await scheduler(live.app).run_due()
    await scheduler(live.app).run_due()  # a second sweep finds nothing more to do
    calls = await calls_of(live_client, cw, lead_id)
    assert len(calls) == 2
    placed = next(c for c in calls if c["id"] != first_call)
    assert placed["agentId"] == cw.agent_ids[0]
    [done, *_later] = await callbacks_of(live_client, cw, lead_id)
    assert done["id"] == callback["id"] and done["status"] == "placed" and done["callId"] == placed["id"]
    events = (await live_client.get(f"/api/leads/{lead_id}/events", headers=cw.world.member.headers)).json()
    assert any(e["kind"] == "callback_scheduled" for e in events)


async def test_in_manual_mode_a_callback_becomes_due_for_the_owner(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await set_mode(live_client, cw, "manual")
    lead_id = await new_lead(live_client, cw, CALLBACK_NUMBER)
    await call_and_end(live, live_client, cw, lead_id)
    [callback] = await callbacks_of(live_client, cw, lead_id)
    assert callback["mode"] == "manual"
    await until_due(live, callback)
    await scheduler(live.app).run_due()
    [due] = await callbacks_of(live_client, cw, lead_id)
    assert due["status"] == "due" and due["callId"] is None
    assert len(await calls_of(live_client, cw, lead_id)) == 1, "manual mode dials nobody by itself"
    now = datetime.fromtimestamp(live.clock.now(), tz=UTC).isoformat().replace("+00:00", "Z")
    r = await live_client.get("/api/callbacks", params={"due": f"before:{now}"}, headers=cw.world.member.headers)
    assert r.status_code == 200 and callback["id"] in [c["id"] for c in r.json()]
    r = await live_client.get("/api/callbacks", params={"due": "before:2000-01-01T00:00:00Z"},
                              headers=cw.world.member.headers)
    assert r.status_code == 200 and callback["id"] not in [c["id"] for c in r.json()]


async def test_racing_sweeps_and_a_killed_worker_place_a_callback_exactly_once(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await set_mode(live_client, cw, "auto")
    lead_id = await new_lead(live_client, cw, "+12025550171")
    now = datetime.fromtimestamp(live.clock.now(), tz=UTC)
    r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={
        "at": (now + timedelta(minutes=10)).isoformat(), "agentId": cw.agent_ids[0], "note": "asked by email"},
        headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    callback = r.json()
    assert callback["mode"] == "auto" and callback["note"] == "asked by email" and callback["moved"] is None
    await until_due(live, callback)
    # A worker claims it at the due moment and is killed before placing anything.
    app = live.app
    async with transaction(app.state.container.sessionmaker) as session:
        claimed_at = datetime.fromtimestamp(live.clock.now(), tz=UTC)
        assert await repository.claim(session, callback["id"], claimed_at,
                                      claimed_at + timedelta(seconds=CLAIM_SECONDS))
    await scheduler(app).run_due()
    assert not await calls_of(live_client, cw, lead_id), "held by the (dead) worker's claim"
    assert await scheduler(app).fire(callback["id"]) == 0
    live.clock.advance(CLAIM_SECONDS + 1)
    # Its claim lapses; two sweeps race for it, and the job runs twice: one call.
    done = await asyncio.gather(scheduler(app).fire(callback["id"]), scheduler(app).fire(callback["id"]),
                                scheduler(app).run_due())
    assert sum(done[:2]) <= 1
    assert await scheduler(app).fire(callback["id"]) == 0
    calls = await calls_of(live_client, cw, lead_id)
    assert len(calls) == 1
    [placed] = await callbacks_of(live_client, cw, lead_id)
    assert placed["status"] == "placed" and placed["callId"] == calls[0]["id"]
    async with transaction(app.state.container.sessionmaker) as session:
        row = await session.get(CallLog, calls[0]["id"])
        assert row is not None and row.idempotency_key == f"callback:{callback['id']}"


async def test_a_callback_asked_outside_the_calling_hours_or_in_the_past_is_moved_and_says_so(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    r = await live_client.put("/api/calling-rules", json={"windows": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}], "regionRules": False},
        headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    lead_id = await new_lead(live_client, cw, "+12025550172")
    zone = ZoneInfo("America/New_York")
    local_now = datetime.fromtimestamp(live.clock.now(), tz=zone)
    saturday = (local_now + timedelta(days=(5 - local_now.weekday()) % 7 or 7)).replace(
        hour=3, minute=0, second=0, microsecond=0)
    r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": saturday.replace(tzinfo=None).isoformat()},
                               headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    moved = r.json()
    due = at(moved["dueAt"]).astimezone(zone)
    assert (due.weekday(), due.hour, due.minute) == (0, 9, 0), "moved to Monday 09:00, the lead's time"
    assert at(moved["requestedAt"]) == saturday
    assert moved["moved"]["code"] == "outside_calling_hours" and moved["moved"]["params"]["dueLocal"]
    assert moved["mode"] == "manual", "no call on the lead yet, no agent given: shown to the owner"
    r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": "2020-01-01T10:00:00Z"},
                               headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    past = r.json()
    assert past["moved"]["code"] == "callback_time_past"
    assert at(past["dueAt"]) >= datetime.fromtimestamp(live.clock.now(), tz=UTC) - timedelta(seconds=1)


async def test_an_opt_out_lists_the_number_and_cancels_every_callback_to_it(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    first = await new_lead(live_client, cw, "+12025550173")
    second = await new_lead(live_client, cw, "+1 202 555 0173")  # another lead with the same number
    later = (datetime.fromtimestamp(live.clock.now(), tz=UTC) + timedelta(days=1)).isoformat()
    ids = []
    for lead_id in (first, second):
        r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": later},
                                   headers=cw.world.member.headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    heard: list[dict[str, Any]] = []

    async def listen() -> None:  # the pages hear of it, whichever path canceled it
        async for event in live.app.state.events.subscribe(cw.world.tenant_id, cw.world.org_id):
            if event is not None and event.name == "callback.updated" and event.data["status"] == "canceled":
                heard.append(event.data)
                if len(heard) == 2:
                    return

    listener = asyncio.get_running_loop().create_task(listen())
    await asyncio.sleep(0.05)
    r = await live_client.delete(f"/api/leads/{first}/consent", headers=cw.world.member.headers)
    assert r.status_code == 204, r.text
    await asyncio.wait_for(listener, 5)
    assert sorted(e["id"] for e in heard) == sorted(ids)
    for lead_id in (first, second):
        [callback] = await callbacks_of(live_client, cw, lead_id)
        assert callback["status"] == "canceled" and callback["reasonCode"] == "number_on_dnc"
        lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
        assert lead["dnc"]["source"] == "opt_out"
    r = await live_client.post(f"/api/leads/{first}/callbacks", json={"at": later}, headers=cw.world.member.headers)
    assert r.status_code == 409 and r.json()["code"] == "number_on_dnc"


async def test_an_opt_out_heard_on_a_call_lists_the_number_with_the_call_as_evidence(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550174")
    later = (datetime.fromtimestamp(live.clock.now(), tz=UTC) + timedelta(days=1)).isoformat()
    r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": later}, headers=cw.world.member.headers)
    assert r.status_code == 201
    call_id = await call_and_end(live, live_client, cw, lead_id)  # calling it cancels that callback...
    [earlier, *_rest] = await callbacks_of(live_client, cw, lead_id)
    assert earlier["status"] == "canceled" and earlier["reasonCode"] == "called_otherwise"
    # ... and the call's analysis heard "do not call me again".
    async with transaction(live.app.state.container.sessionmaker) as session:
        call = await session.get(CallLog, call_id)
        assert call is not None
        call.opted_out = True
        await scheduler(live.app).settle(session, call)
        await scheduler(live.app).settle(session, call)  # settled again: listed once
    listed = (await live_client.get("/api/dnc", params={"q": "5550174"}, headers=cw.world.member.headers)).json()
    [entry] = listed["items"]
    assert entry["source"] == "opt_out" and entry["callId"] == call_id
    assert all(c["status"] != "scheduled" for c in await callbacks_of(live_client, cw, lead_id))
    events = (await live_client.get(f"/api/leads/{lead_id}/events", headers=cw.world.member.headers)).json()
    assert [e["kind"] for e in events].count("opted_out") == 1


async def test_an_interested_lead_tells_its_owner(live: LiveServer, live_client: httpx.AsyncClient,
                                                  cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, INTERESTED_NUMBER, ownerId=cw.world.member.user_id)
    hub = live.app.state.events
    seen: list[Any] = []

    async def listen() -> None:
        async for event in hub.subscribe(cw.world.tenant_id, cw.world.org_id):
            if event is not None and event.name == "lead.interested":
                seen.append(event)
                return

    listener = asyncio.get_running_loop().create_task(listen())
    await asyncio.sleep(0.05)
    call_id = await call_and_end(live, live_client, cw, lead_id)
    await asyncio.wait_for(listener, 5)
    assert seen[0].data["leadId"] == lead_id and seen[0].data["ownerId"] == cw.world.member.user_id
    events = (await live_client.get(f"/api/leads/{lead_id}/events", headers=cw.world.member.headers)).json()
    told = [e for e in events if e["kind"] == "interested"]
    assert len(told) == 1 and told[0]["params"]["callId"] == call_id


async def test_archiving_a_lead_cancels_its_callbacks(live_client: httpx.AsyncClient, live: LiveServer,
                                                      cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550175")
    later = (datetime.fromtimestamp(live.clock.now(), tz=UTC) + timedelta(days=1)).isoformat()
    r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": later}, headers=cw.world.member.headers)
    assert r.status_code == 201
    r = await live_client.delete(f"/api/leads/{lead_id}", headers=cw.world.manager.headers)
    assert r.status_code == 204, r.text
    r = await live_client.get("/api/callbacks", headers=cw.world.manager.headers)
    [callback] = [c for c in r.json() if c["leadId"] == lead_id]
    assert callback["status"] == "canceled" and callback["reasonCode"] == "lead_archived"


async def test_callback_routes_check_roles_scope_and_input(live: LiveServer, live_client: httpx.AsyncClient,
                                                           cw: CallWorld) -> None:
    world, client = cw.world, live_client
    lead_id = await new_lead(client, cw, "+12025550176")
    later = (datetime.fromtimestamp(live.clock.now(), tz=UTC) + timedelta(days=1)).isoformat()
    for body, field in (({"at": "tomorrow"}, "at"), ({}, "at"), ({"at": later, "note": "x" * 501}, "note"),
                        ({"at": later, "agentId": ""}, "agentId")):
        r = await client.post(f"/api/leads/{lead_id}/callbacks", json=body, headers=world.member.headers)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text
    for due in ("after:2026-01-01T00:00:00Z", "before:soon", "before:2026-01-01T00:00:00"):
        r = await client.get("/api/callbacks", params={"due": due}, headers=world.member.headers)
        assert r.status_code == 422 and r.json()["code"] == "due_invalid", r.text
    r = await client.put("/api/callback-settings", json={"mode": "sometimes"}, headers=world.admin.headers)
    assert r.status_code == 422
    r = await client.put("/api/callback-settings", json={"mode": "auto"}, headers=world.manager.headers)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    r = await client.post(f"/api/leads/{lead_id}/callbacks", json={"at": later}, headers=world.member.headers)
    assert r.status_code == 201
    callback_id = r.json()["id"]
    # Another organization's member does not see it; a colleague who neither owns the lead nor scheduled it
    # may not cancel it; a manager may.
    r = await client.delete(f"/api/callbacks/{callback_id}", headers=world.other_org_member.headers)
    assert r.status_code == 404
    assert callback_id not in [c["id"] for c in (await client.get(
        "/api/callbacks", headers=world.other_org_member.headers)).json()]
    r = await client.post(f"/api/leads/{lead_id}/callbacks", json={"at": later}, headers=world.manager.headers)
    theirs = r.json()["id"]
    r = await client.delete(f"/api/callbacks/{theirs}", headers=world.member.headers)
    assert r.status_code == 403 and r.json()["code"] == "callback_not_yours"
    r = await client.delete(f"/api/callbacks/{callback_id}", headers=world.member.headers)
    assert r.status_code == 200 and r.json()["status"] == "canceled" and r.json()["reasonCode"] == "canceled_by_user"
    r = await client.delete(f"/api/callbacks/{callback_id}", headers=world.manager.headers)
    assert r.status_code == 409 and r.json()["code"] == "callback_already_ended"
    r = await client.post("/api/leads/not-a-lead/callbacks", json={"at": later}, headers=world.member.headers)
    assert r.status_code == 404


async def test_a_placement_the_rules_refuse_at_its_time_moves_the_callback_or_misses_it(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await set_mode(live_client, cw, "auto")
    lead_id = await new_lead(live_client, cw, "+12025550177")
    soon = (datetime.fromtimestamp(live.clock.now(), tz=UTC) + timedelta(minutes=5)).isoformat()
    r = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": soon, "agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    callback = r.json()
    # Meanwhile the team narrows its calling hours to one day that is not the due one.
    zone = ZoneInfo("America/New_York")
    due_local = at(callback["dueAt"]).astimezone(zone)
    other = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(due_local.weekday() + 2) % 7]
    r = await live_client.put("/api/calling-rules", json={
        "windows": [{"days": [other], "start": "09:00", "end": "17:00"}], "regionRules": False},
        headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    await until_due(live, callback)
    await scheduler(live.app).fire(callback["id"])
    [moved] = await callbacks_of(live_client, cw, lead_id)
    assert moved["status"] == "scheduled" and moved["moved"]["code"] == "outside_calling_hours"
    new_local = at(moved["dueAt"]).astimezone(zone)
    assert new_local.hour == 9 and new_local.strftime("%a").lower()[:3] == other
    assert not await calls_of(live_client, cw, lead_id), "refused: nobody was dialled"
    # At its new time the agent is gone from the team's reach: missed, with the refusal's reason.
    r = await live_client.put("/api/calling-rules", json={"windows": [
        {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]},
        headers=cw.world.admin.headers)
    assert r.status_code == 200
    async with transaction(live.app.state.container.sessionmaker) as session:
        from leadcall.scheduling.models import Callback

        row = await session.get(Callback, callback["id"])
        assert row is not None
        row.agent_id = "agent_that_does_not_exist"
    await until_due(live, moved)
    await scheduler(live.app).fire(callback["id"])
    [missed] = await callbacks_of(live_client, cw, lead_id)
    assert missed["status"] == "missed" and missed["reasonCode"] == "agent_unknown" and missed["reason"]
    assert not await calls_of(live_client, cw, lead_id)
