"""What each event says, and the order a consumer can rely on (`sequence` per call, per lead)."""

from __future__ import annotations

import httpx

from leadcall.calls.models import CallStatus
from leadcall.calls.states import can_move
from leadcall.kit.clock import ManualClock
from tests.integrations.receiver import Receiver
from tests.integrations.support import add_endpoint, deliveries_at
from tests.live import CallWorld, LiveServer, call_with_alert


async def _deliver_everything(live: LiveServer) -> None:
    async with deliveries_at(live.app, ManualClock(start=live.clock.now())) as sender:
        while await sender.enqueue_due():
            pass


async def test_a_calls_events_arrive_in_sequence_with_its_outcome_and_a_budget_alert(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_cw: CallWorld, receiver: Receiver) -> None:
    world = hooks_cw.world
    everything = await add_endpoint(hooks_client, world.admin, f"{receiver.url}/ok/all")
    await add_endpoint(hooks_client, world.admin, f"{receiver.url}/ok/completed", eventTypes=["call.completed"])
    call_id, budget_id, _alert_id = await call_with_alert(hooks_live, hooks_client, hooks_cw)
    await _deliver_everything(hooks_live)

    calls = [r.json for r in receiver.at("/ok/all") if r.json["type"].startswith("call.")
             and r.json["data"]["id"] == call_id]
    in_order = sorted(calls, key=lambda p: p["sequence"])
    assert [p["sequence"] for p in in_order] == list(range(1, len(calls) + 1))
    assert in_order[0]["type"] == "call.created" and in_order[0]["data"]["status"] == "initiating"
    assert [p["type"] for p in in_order].count("call.completed") == 1
    statuses = [CallStatus(p["data"]["status"]) for p in in_order]
    assert all(a == b or can_move(a, b) for a, b in zip(statuses, statuses[1:], strict=False)), statuses
    (completed,) = [p for p in in_order if p["type"] == "call.completed"]
    data = completed["data"]
    assert data["status"] == "completed" and data["outcome"] == "interested" and data["summary"]
    assert data["transcription"] and data["cost"] and data["costCurrency"]
    assert data["recordingUrl"] == f"{hooks_live.url}/api/calls/{call_id}/audio"
    # The endpoint subscribed to call.completed alone got that one event.
    only = [r.json for r in receiver.at("/ok/completed")]
    assert [(p["type"], p["data"]["id"], p["sequence"]) for p in only] == [
        ("call.completed", call_id, completed["sequence"])]

    leads = [r.json for r in receiver.at("/ok/all") if r.json["type"] == "lead.updated"]
    assert [p["data"]["status"] for p in leads] == ["contacted"]  # a new lead that answered is contacted
    alerts = [r.json for r in receiver.at("/ok/all") if r.json["type"] == "budget.alert"]
    assert alerts and alerts[0]["data"]["budgetId"] == budget_id and alerts[0]["data"]["threshold"] == 50
    ids = [r.headers["webhook-id"] for r in receiver.at("/ok/all")]
    assert len(ids) == len(set(ids))
    listed = await hooks_client.get(f"/api/webhook-endpoints/{everything['id']}/deliveries", params={"limit": 2},
                                    headers=world.admin.headers)
    page = listed.json()
    assert len(page["items"]) == 2 and page["nextCursor"]
    rest = await hooks_client.get(f"/api/webhook-endpoints/{everything['id']}/deliveries",
                                  params={"cursor": page["nextCursor"], "limit": 100}, headers=world.admin.headers)
    assert len(page["items"]) + len(rest.json()["items"]) == len(receiver.at("/ok/all"))


async def test_lead_events_opt_out_and_callbacks_share_the_leads_sequence(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_cw: CallWorld, receiver: Receiver) -> None:
    world = hooks_cw.world
    await add_endpoint(hooks_client, world.admin, f"{receiver.url}/ok",
                       eventTypes=["lead.updated", "lead.opted_out", "callback.scheduled"])
    lead_id = world.lead_ids[1]
    member = world.member.headers
    assert (await hooks_client.patch(f"/api/leads/{lead_id}", json={"company": "Umbrella"},
                                     headers=member)).status_code == 200
    callback = await hooks_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": "2030-01-07T10:00:00Z"},
                                       headers=member)
    assert callback.status_code == 201, callback.text
    assert (await hooks_client.delete(f"/api/leads/{lead_id}/consent", headers=member)).status_code == 204
    await _deliver_everything(hooks_live)
    got = sorted((r.json for r in receiver.received), key=lambda p: p["sequence"])
    assert [p["type"] for p in got] == ["lead.updated", "callback.scheduled", "lead.opted_out"]
    assert [p["sequence"] for p in got] == [1, 2, 3]
    assert got[0]["data"]["company"] == "Umbrella"
    assert got[1]["data"]["id"] == callback.json()["id"] and got[1]["data"]["leadId"] == lead_id
    assert got[2]["data"]["id"] == lead_id and got[2]["data"]["dnc"]["source"] == "opt_out"


async def test_an_upsert_by_the_crms_id_announces_a_change_and_nothing_for_the_same_body(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_cw: CallWorld, receiver: Receiver) -> None:
    world = hooks_cw.world
    await add_endpoint(hooks_client, world.admin, f"{receiver.url}/ok", eventTypes=["lead.updated"])
    path = "/api/leads/by-external-id/crm-42"
    body = {"name": "Ada Upsert", "phone": "+12025550150", "company": "First"}
    assert (await hooks_client.put(path, json=body, headers=world.member.headers)).status_code == 201
    changed = {**body, "company": "Second"}
    assert (await hooks_client.put(path, json=changed, headers=world.member.headers)).status_code == 200
    assert (await hooks_client.put(path, json=changed, headers=world.member.headers)).status_code == 200
    await _deliver_everything(hooks_live)
    got = [r.json for r in receiver.received]
    assert [(p["type"], p["data"]["company"], p["data"]["externalId"]) for p in got] == [
        ("lead.updated", "Second", "crm-42")]


async def test_a_campaigns_life_cycle_reaches_its_subscribers_in_order(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_cw: CallWorld, receiver: Receiver) -> None:
    world = hooks_cw.world
    await add_endpoint(hooks_client, world.admin, f"{receiver.url}/ok/campaigns",
                       eventTypes=["campaign.started", "campaign.paused", "campaign.resumed", "campaign.canceled"])
    r = await hooks_client.post("/api/campaigns", headers=world.manager.headers, json={
        "name": "Hooked", "agentIds": [hooks_cw.agent_ids[0]], "leads": {"ids": world.lead_ids},
        "startAt": "2099-01-01T09:00:00Z"})
    assert r.status_code == 201, r.text
    campaign_id = r.json()["id"]
    for action in ("start", "pause", "resume", "cancel"):
        r = await hooks_client.post(f"/api/campaigns/{campaign_id}/{action}", headers=world.manager.headers)
        assert r.status_code == 200, r.text
    await _deliver_everything(hooks_live)
    got = sorted((r.json for r in receiver.at("/ok/campaigns")), key=lambda p: p["sequence"])
    assert [(p["type"], p["data"]["state"]) for p in got] == [
        ("campaign.started", "scheduled"), ("campaign.paused", "paused"), ("campaign.resumed", "scheduled"),
        ("campaign.canceled", "canceled")]
    assert {p["data"]["id"] for p in got} == {campaign_id} and got[-1]["data"]["counts"]["canceled"] == 2
