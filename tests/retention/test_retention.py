"""Retention that an admin sets: content goes after N days, the figures stay, ElevenLabs forgets too if asked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from leadcall.calls.models import CallLog, WebhookDelivery
from leadcall.core.db import transaction
from leadcall.retention.service import MAX_DELETE_ATTEMPTS
from tests.factories import TenantWorld
from tests.live import CallWorld, LiveServer, finish_jobs, play


async def test_only_admins_read_and_set_retention(client: httpx.AsyncClient, world: TenantWorld) -> None:
    for actor in (world.member, world.manager):
        assert (await client.get("/api/retention", headers=actor.headers)).status_code == 403
        r = await client.put("/api/retention", json={"days": 30}, headers=actor.headers)
        assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    policy = (await client.get("/api/retention", headers=world.admin.headers)).json()
    assert policy == {"days": None, "deleteAtProvider": False, "pendingDeletions": 0, "failedDeletions": 0}
    r = await client.put("/api/retention", json={"days": 30, "deleteAtProvider": True}, headers=world.admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["days"], r.json()["deleteAtProvider"]) == (30, True)
    assert (await client.get("/api/retention", headers=world.admin.headers)).json()["days"] == 30
    forever = await client.put("/api/retention", json={"days": None}, headers=world.admin.headers)
    assert (forever.json()["days"], forever.json()["deleteAtProvider"]) == (None, False)


async def test_bad_retention_input_is_a_clear_422_and_changes_nothing(client: httpx.AsyncClient,
                                                                     world: TenantWorld) -> None:
    admin = world.admin.headers
    assert (await client.put("/api/retention", json={"days": 90}, headers=admin)).status_code == 200
    for body in ({"days": 0}, {"days": -5}, {"days": 100_000}, {"days": "soon"}, {"days": 1.5}, {},
                 {"days": 30, "deleteAtProvider": "maybe"}):
        r = await client.put("/api/retention", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["fields"][0]["field"] in ("days", "deleteAtProvider"), r.json()
    needs_days = await client.put("/api/retention", json={"days": None, "deleteAtProvider": True}, headers=admin)
    assert needs_days.status_code == 422 and needs_days.json()["code"] == "retention_needs_days"
    assert (await client.get("/api/retention", headers=admin)).json()["days"] == 90


async def test_one_tenants_retention_is_its_own(client: httpx.AsyncClient, world: TenantWorld,
                                                other_world: TenantWorld) -> None:
    assert (await client.put("/api/retention", json={"days": 7}, headers=world.admin.headers)).status_code == 200
    assert (await client.get("/api/retention", headers=other_world.admin.headers)).json()["days"] is None
    r = await client.put("/api/retention", json={"days": 365}, headers=other_world.admin.headers)
    assert r.status_code == 200
    assert (await client.get("/api/retention", headers=world.admin.headers)).json()["days"] == 7


async def _finished_call(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld) -> dict[str, Any]:
    r = await client.post("/api/leads", json={"name": "Rita Retained", "phone": "+12025550100"},
                          headers=cw.world.member.headers)
    placed = await client.post(f"/api/leads/{r.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 150)
    call: dict[str, Any] = (await client.get(f"/api/calls/{placed.json()['callLog']['id']}",
                                             headers=cw.world.admin.headers)).json()
    assert call["status"] == "completed" and call["transcription"] and call["audioUrl"]
    return call


async def _age(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld, call: dict[str, Any],
               days: int = 2) -> dict[str, Any]:
    """Makes the call `days` older (the session's clock is shared: moving it days ahead would age everything)."""
    async with transaction(live.app.state.container.sessionmaker) as session:
        row = await session.get(CallLog, call["id"])
        assert row is not None
        await session.execute(update(CallLog).where(CallLog.id == row.id)
                              .values(created_at=row.created_at - timedelta(days=days)))
    aged: dict[str, Any] = (await client.get(f"/api/calls/{call['id']}", headers=cw.world.admin.headers)).json()
    return aged


async def _bodies(live: LiveServer, conversation_id: str) -> list[str]:
    async with transaction(live.app.state.container.sessionmaker) as session:
        return list((await session.execute(select(WebhookDelivery.body).where(
            WebhookDelivery.conversation_id == conversation_id))).scalars())


async def test_the_sweep_removes_old_content_and_deletes_at_elevenlabs_keeping_the_figures(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    old = await _finished_call(live, live_client, cw)
    said = old["transcription"][0]["message"]
    assert any(said in b for b in await _bodies(live, old["elevenLabsJobId"])), "the raw webhook holds the transcript"
    r = await live_client.put("/api/retention", json={"days": 1, "deleteAtProvider": True}, headers=admin)
    assert r.status_code == 200, r.text
    old = await _age(live, live_client, cw, old)
    recent = await _finished_call(live, live_client, cw)
    start = old["timestamp"][:10]
    usage_before = (await live_client.get("/api/usage", params={"from": start}, headers=admin)).json()

    await live.app.state.worker.run_chores()  # the retention chore of the worker's sweep

    after = (await live_client.get(f"/api/calls/{old['id']}", headers=admin)).json()
    assert after["transcription"] is None and after["summary"] is None and after["audioUrl"] is None
    for figure in ("status", "outcome", "durationSeconds", "cost", "costCredits", "toNumber", "endTime"):
        assert after[figure] == old[figure], figure
    assert (await live_client.get("/api/usage", params={"from": start}, headers=admin)).json() == usage_before
    assert not [b for b in await _bodies(live, old["elevenLabsJobId"]) if said in b]
    assert old["elevenLabsJobId"] in live.simulator.deleted_conversations
    kinds = [e["kind"] for e in (await live_client.get(f"/api/calls/{old['id']}/events", headers=admin)).json()]
    assert "content_removed" in kinds and "provider_deleted" in kinds
    # A call younger than the period keeps everything, here and at ElevenLabs.
    assert (await live_client.get(f"/api/calls/{recent['id']}", headers=admin)).json() == recent
    assert recent["elevenLabsJobId"] not in live.simulator.deleted_conversations
    policy = (await live_client.get("/api/retention", headers=admin)).json()
    assert (policy["pendingDeletions"], policy["failedDeletions"]) == (0, 0)
    # A second pass finds nothing more to do.
    assert await live.app.state.retention.apply_policy(cw.world.tenant_id, 1, True) == (0, 0, 0)
    assert await live.app.state.retention.delete_conversations(cw.world.tenant_id) == (0, 0)


async def test_without_the_provider_option_elevenlabs_keeps_the_conversation(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    call = await _finished_call(live, live_client, cw)
    assert (await live_client.put("/api/retention", json={"days": 1}, headers=cw.world.admin.headers)).status_code == 200
    call = await _age(live, live_client, cw, call)
    run = await live.app.state.retention.sweep()
    assert run.calls >= 1
    after = (await live_client.get(f"/api/calls/{call['id']}", headers=cw.world.admin.headers)).json()
    assert after["transcription"] is None
    assert call["elevenLabsJobId"] not in live.simulator.deleted_conversations


async def test_a_deletion_elevenlabs_refuses_is_retried_then_given_up_and_shown(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    call = await _finished_call(live, live_client, cw)
    r = await live_client.put("/api/retention", json={"days": 1, "deleteAtProvider": True}, headers=admin)
    assert r.status_code == 200
    call = await _age(live, live_client, cw, call)
    retention, faults = live.app.state.retention, live.simulator.faults
    await retention.apply_policy(cw.world.tenant_id, 1, True)
    faults.fail_next = 1
    assert await retention.delete_conversations(cw.world.tenant_id) == (0, 1)
    events = (await live_client.get(f"/api/calls/{call['id']}/events", headers=admin)).json()
    assert events[-1]["kind"] == "provider_delete_failed" and "trying again" in events[-1]["detail"]
    assert (await live_client.get("/api/retention", headers=admin)).json()["pendingDeletions"] >= 1
    assert await retention.delete_conversations(cw.world.tenant_id) == (1, 0)
    assert call["elevenLabsJobId"] in live.simulator.deleted_conversations
    assert (await live_client.get("/api/retention", headers=admin)).json()["pendingDeletions"] == 0

    # ElevenLabs refusing every time: the deletion is given up after the last attempt, and says so.
    other = await _age(live, live_client, cw, await _finished_call(live, live_client, cw))
    faults.fail_status = 500
    try:
        await retention.apply_policy(cw.world.tenant_id, 1, True)
        for _ in range(MAX_DELETE_ATTEMPTS + 1):
            faults.fail_next = 1000
            await retention.delete_conversations(cw.world.tenant_id)
    finally:
        faults.fail_next, faults.fail_status = 0, 503
    events = (await live_client.get(f"/api/calls/{other['id']}/events", headers=admin)).json()
    failures = [e for e in events if e["kind"] == "provider_delete_failed"]
    assert len(failures) == MAX_DELETE_ATTEMPTS and "giving up" in failures[-1]["detail"]
    assert (await live_client.get("/api/retention", headers=admin)).json()["failedDeletions"] == 1
    await finish_jobs(live)
