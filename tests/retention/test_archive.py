"""Leads are archived, never deleted with their money; an admin's erasure keeps the figures."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from leadcall.calls.models import WebhookDelivery
from leadcall.core.db import transaction
from leadcall.leads.models import Lead
from leadcall.scheduling.models import Callback
from tests.factories import TenantWorld
from tests.live import CallWorld, LiveServer, finish_jobs, play

LONG_CALL = "+12025550108"  # the simulator's long call (to cancel)
INTERESTED = "+12025550100"


async def new_lead(client: httpx.AsyncClient, world: TenantWorld, phone: str | None = INTERESTED,
                   name: str = "Lucía Archivable") -> str:
    r = await client.post("/api/leads", json={"name": name, "company": "Casa Lucía", "phone": phone,
                                              "email": "lucia@example.com", "notes": "prefers mornings"},
                          headers=world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def place(client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> httpx.Response:
    return await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                             headers=cw.world.member.headers)


async def listed(client: httpx.AsyncClient, world: TenantWorld, **params: Any) -> list[str]:
    r = await client.get("/api/leads", params=params, headers=world.manager.headers)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


async def money(client: httpx.AsyncClient, cw: CallWorld) -> tuple[Any, Any]:
    """What the tenant spent, as its budget and its usage report say."""
    budgets = (await client.get("/api/budgets", headers=cw.world.admin.headers)).json()
    usage = (await client.get("/api/usage", headers=cw.world.admin.headers)).json()
    return ([(b["spent"], b["reserved"], b["usedPercent"]) for b in budgets],
            (usage["total"], usage["byOutcome"], usage["byAgent"]))


async def test_members_cannot_archive_managers_can_and_lists_hide_archived_leads(
        client: httpx.AsyncClient, world: TenantWorld) -> None:
    lead_id = await new_lead(client, world, name="Zacarías Hideme")
    refused = await client.delete(f"/api/leads/{lead_id}", headers=world.member.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    assert (await client.delete(f"/api/leads/{lead_id}", headers=world.manager.headers)).status_code == 204
    assert (await client.delete(f"/api/leads/{lead_id}", headers=world.manager.headers)).status_code == 204

    assert lead_id not in await listed(client, world)
    assert lead_id not in await listed(client, world, q="hideme")
    assert await listed(client, world, archived="true", q="hideme") == [lead_id]
    assert world.lead_ids[0] not in await listed(client, world, archived="true")
    lead = (await client.get(f"/api/leads/{lead_id}", headers=world.member.headers)).json()
    assert lead["archivedAt"] and lead["erasedAt"] is None and lead["name"] == "Zacarías Hideme"
    edit = await client.patch(f"/api/leads/{lead_id}", json={"name": "Changed"}, headers=world.member.headers)
    assert edit.status_code == 409 and edit.json()["code"] == "lead_archived"

    member_restore = await client.post(f"/api/leads/{lead_id}/restore", headers=world.member.headers)
    assert member_restore.status_code == 403
    restored = await client.post(f"/api/leads/{lead_id}/restore", headers=world.manager.headers)
    assert restored.status_code == 200 and restored.json()["archivedAt"] is None
    assert lead_id in await listed(client, world, q="hideme")
    again = await client.post(f"/api/leads/{lead_id}/restore", headers=world.manager.headers)
    assert again.status_code == 409 and again.json()["code"] == "lead_not_archived"

    events = (await client.get(f"/api/leads/{lead_id}/events", headers=world.member.headers)).json()
    assert [(e["kind"], e["actor"]) for e in events] == [("archived", world.manager.email),
                                                         ("restored", world.manager.email)]


async def test_another_tenants_lead_cannot_be_archived_restored_erased_or_read(
        client: httpx.AsyncClient, world: TenantWorld, other_world: TenantWorld) -> None:
    victim = other_world.lead_ids[0]
    for method, path in (("DELETE", f"/api/leads/{victim}"), ("POST", f"/api/leads/{victim}/restore"),
                         ("POST", f"/api/leads/{victim}/erase"), ("GET", f"/api/leads/{victim}/events")):
        r = await client.request(method, path, headers=world.admin.headers)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "not_found"
    lead = (await client.get(f"/api/leads/{victim}", headers=other_world.member.headers)).json()
    assert lead["archivedAt"] is None and lead["erasedAt"] is None and lead["name"].startswith("Lead 0")
    # A manager sees their own organization only: another team's lead is not theirs to archive.
    support = await client.post("/api/leads", json={"name": "Support's", "organizationId": world.other_org_id},
                                headers=world.admin.headers)
    assert support.status_code == 201, support.text
    other_team = await client.delete(f"/api/leads/{support.json()['id']}", headers=world.manager.headers)
    assert other_team.status_code == 404
    unknown = await client.delete("/api/leads/no-such-lead", headers=world.manager.headers)
    assert unknown.status_code == 404


async def test_only_admins_erase(app: FastAPI, client: httpx.AsyncClient, world: TenantWorld) -> None:
    lead_id = await new_lead(client, world)
    callback = await client.post(f"/api/leads/{lead_id}/callbacks", json={
        "at": "2031-03-04T10:00:00+00:00", "note": "Lucía prefers mornings"}, headers=world.member.headers)
    assert callback.status_code == 201, callback.text
    flagged = await client.patch(f"/api/leads/{lead_id}", json={"doNotCall": True,
                                                                "doNotCallReason": "Lucía Archivable said stop"},
                                 headers=world.member.headers)
    assert flagged.status_code == 200, flagged.text
    trail = (await client.get(f"/api/leads/{lead_id}/events", headers=world.admin.headers)).json()
    assert "+12025550100" in str(trail), "the do-not-call change names the number"
    for actor in (world.member, world.manager):
        r = await client.post(f"/api/leads/{lead_id}/erase", headers=actor.headers)
        assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    erased = await client.post(f"/api/leads/{lead_id}/erase", headers=world.admin.headers)
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["erasedAt"] and body["archivedAt"]
    assert (body["name"], body["phone"], body["email"], body["company"], body["notes"]) == ("", None, None, None, None)
    restore = await client.post(f"/api/leads/{lead_id}/restore", headers=world.admin.headers)
    assert restore.status_code == 409 and restore.json()["code"] == "lead_erased"
    again = await client.post(f"/api/leads/{lead_id}/erase", headers=world.admin.headers)
    assert again.status_code == 200 and again.json()["erasedAt"] == body["erasedAt"]
    events = (await client.get(f"/api/leads/{lead_id}/events", headers=world.admin.headers)).json()
    kinds = [e["kind"] for e in events]
    assert "dnc_added" in kinds and kinds[-1] == "erased" and kinds.count("erased") == 1, kinds
    assert "+12025550100" not in str(events) and "Lucía" not in str(events), events
    assert next(e for e in events if e["kind"] == "dnc_added")["params"] == {"phone": "[erased]"}
    async with transaction(app.state.container.sessionmaker) as session:
        row = await session.get(Callback, callback.json()["id"])
    assert row is not None and (row.note, row.requested_text) == (None, None) and row.status == "canceled"


async def test_a_lead_on_a_live_call_is_neither_archived_nor_erased(live: LiveServer, live_client: httpx.AsyncClient,
                                                                  cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw.world, LONG_CALL)
    placed = await place(live_client, cw, lead_id)
    assert placed.status_code == 200 and placed.json()["success"], placed.text
    call_id = placed.json()["callLog"]["id"]
    for method, path, actor in (("DELETE", f"/api/leads/{lead_id}", cw.world.manager),
                                ("POST", f"/api/leads/{lead_id}/erase", cw.world.admin)):
        r = await live_client.request(method, path, headers=actor.headers)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "lead_on_live_call" and r.json()["callId"] == call_id
        assert "on a call" in r.json()["detail"]
    lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
    assert lead["archivedAt"] is None and lead["name"] == "Lucía Archivable"
    canceled = await live_client.post(f"/api/calls/{call_id}/cancel", headers=cw.world.member.headers)
    assert canceled.status_code == 200 and canceled.json()["canceled"], canceled.text
    await play(live, 10)
    assert (await live_client.delete(f"/api/leads/{lead_id}", headers=cw.world.manager.headers)).status_code == 204
    refused = await place(live_client, cw, lead_id)
    assert refused.status_code == 409 and refused.json()["code"] == "lead_archived"


async def test_archive_and_erase_keep_calls_spend_usage_and_the_audit_trail(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    budget = await live_client.put("/api/budgets", json={"monthlyLimit": 50, "estimatedCallCost": 1}, headers=admin)
    assert budget.status_code == 200, budget.text
    lead_id = await new_lead(live_client, cw.world)
    placed = await place(live_client, cw, lead_id)
    assert placed.status_code == 200, placed.text
    call_id = placed.json()["callLog"]["id"]
    conversation_id = placed.json()["jobId"]
    await play(live, 150)
    await finish_jobs(live)
    call = (await live_client.get(f"/api/calls/{call_id}", headers=admin)).json()
    assert call["status"] == "completed" and call["transcription"] and call["summary"] and call["audioUrl"]
    assert call["cost"] > 0
    before = await money(live_client, cw)
    assert before[0][0][0] > 0, "the call's cost counts against the budget"
    trail = [(e["kind"], e["toStatus"]) for e in (await live_client.get(f"/api/calls/{call_id}/events",
                                                                        headers=admin)).json()]

    assert (await live_client.delete(f"/api/leads/{lead_id}", headers=cw.world.manager.headers)).status_code == 204
    assert await money(live_client, cw) == before
    kept = (await live_client.get(f"/api/calls/{call_id}", headers=admin)).json()
    assert kept == call
    assert (await live_client.get(f"/api/leads/{lead_id}/calls", headers=admin)).json()["items"][0]["id"] == call_id

    async with transaction(live.app.state.container.sessionmaker) as session:
        late = json.loads(next(b for b in (await session.execute(select(WebhookDelivery.body).where(
            WebhookDelivery.conversation_id == conversation_id,
            WebhookDelivery.kind == "post_call_transcription"))).scalars()))
    erased = await live_client.post(f"/api/leads/{lead_id}/erase", headers=admin)
    assert erased.status_code == 200, erased.text
    await finish_jobs(live)
    # ElevenLabs sends the transcript once more (a retry, a new event time): it is not taken back in.
    late["event_timestamp"] += 1
    body = json.dumps(late).encode()
    now = int(live.clock.now())
    digest = hmac.new(cw.sim_account.webhook_secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    resent = await live_client.post(f"/api/webhooks/elevenlabs/transcription?account={cw.account_id}", content=body,
                                    headers={"ElevenLabs-Signature": f"t={now},v0={digest}"})
    assert resent.status_code == 200 and resent.json()["duplicate"] is False, resent.text
    await finish_jobs(live)
    await live.app.state.worker.run_once()
    assert await money(live_client, cw) == before
    after = (await live_client.get(f"/api/calls/{call_id}", headers=admin)).json()
    for figure in ("status", "outcome", "phoneResult", "salesResult", "durationSeconds", "cost", "costCredits",
                   "costUsd", "startTime", "endTime", "timestamp"):
        assert after[figure] == call[figure], figure
    assert after["transcription"] is None and after["summary"] is None and after["audioUrl"] is None
    assert after["toNumber"] == "" and after["callbackText"] is None
    assert (await live_client.get(f"/api/calls/{call_id}/audio", headers=admin)).status_code == 404
    events = (await live_client.get(f"/api/calls/{call_id}/events", headers=admin)).json()
    assert [(e["kind"], e["toStatus"]) for e in events][:len(trail)] == trail
    assert {"erased", "provider_deleted"} <= {e["kind"] for e in events}
    assert not [e for e in events if INTERESTED in (e["detail"] or "")], "the number left the audit trail"
    # ElevenLabs no longer has the conversation, and no stored webhook holds what was said.
    assert conversation_id in live.simulator.deleted_conversations
    async with transaction(live.app.state.container.sessionmaker) as session:
        bodies = list((await session.execute(select(WebhookDelivery.body).where(
            WebhookDelivery.conversation_id == conversation_id))).scalars())
    assert bodies, "the call's webhooks were stored"
    assert len(bodies) >= 2 and not [b for b in bodies if "Lucía" in b or call["transcription"][0]["message"] in b]


async def test_the_database_refuses_to_delete_a_lead_with_calls(live: LiveServer, live_client: httpx.AsyncClient,
                                                                cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw.world, "+12025550104")
    assert (await place(live_client, cw, lead_id)).status_code == 200
    with pytest.raises(IntegrityError):
        async with transaction(live.app.state.container.sessionmaker) as session:
            await session.execute(delete(Lead).where(Lead.id == lead_id))


async def test_archive_racing_a_placement_never_leaves_an_archived_lead_on_a_call(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    outcomes = set()
    for _ in range(6):
        lead_id = await new_lead(live_client, cw.world, LONG_CALL)
        archived, placed = await asyncio.gather(
            live_client.delete(f"/api/leads/{lead_id}", headers=cw.world.manager.headers), place(live_client, cw, lead_id))
        lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
        if archived.status_code == 204:
            assert placed.status_code == 409 and placed.json()["code"] == "lead_archived", placed.text
            assert lead["archivedAt"]
            outcomes.add("archived")
        else:
            assert archived.status_code == 409 and archived.json()["code"] == "lead_on_live_call", archived.text
            assert placed.status_code == 200 and placed.json()["success"]
            assert lead["archivedAt"] is None
            outcomes.add("placed")
            await live_client.post(f"/api/calls/{placed.json()['callLog']['id']}/cancel",
                                   headers=cw.world.member.headers)
    await play(live, 10)
    assert outcomes
