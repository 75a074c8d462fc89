"""A dial whose answer went wrong after ElevenLabs accepted the call: it is confirmed by our id,
never forgotten and never dialled again; webhooks that come before the conversation id is known
are kept and applied; a busy call stays busy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadcall.calls.models import WebhookDelivery
from leadcall.simulator import sign
from tests.calls.test_placing import events_of, new_lead, place
from tests.e2e.conftest import browser_session
from tests.live import CallWorld, LiveServer, finish_jobs, play

AFTER_PLACING = {
    "5xx": "fail_after_placing_next",
    "connection_cut": "drop_after_placing_next",
    "timeout": "hold_after_placing_next",  # held past the provider's 10 s timeout (real seconds)
}


async def get_call(client: httpx.AsyncClient, cw: CallWorld, call_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def dialled(live: LiveServer, cw: CallWorld, number: str) -> list[Any]:
    """The conversations the provider has to this number (each one is a phone that rang)."""
    return [c for c in live.simulator.conversations_for(cw.sim_account) if c.to_number == number]


async def calls_placed(client: httpx.AsyncClient, cw: CallWorld) -> int:
    r = await client.get("/api/voice/agents", headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    return int(next(a["callsPlaced"] for a in r.json() if a["agentId"] == cw.agent_ids[0]))


async def kept_deliveries(live: LiveServer, cw: CallWorld) -> list[WebhookDelivery]:
    async with live.app.state.container.sessionmaker() as session:
        rows = await session.execute(select(WebhookDelivery).where(WebhookDelivery.account_id == cw.account_id))
        return list(rows.scalars())


@pytest.mark.parametrize("fault", sorted(AFTER_PLACING))
async def test_an_accepted_call_whose_answer_was_lost_is_confirmed_not_redialled(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, fault: str) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550100")
    placed_before = await calls_placed(live_client, cw)
    setattr(live.simulator.faults, AFTER_PLACING[fault], 1)
    r = await place(live_client, cw, lead_id)
    assert r.status_code == 200, r.text
    placed = r.json()
    assert placed["success"] is False and "confirming it with ElevenLabs" in placed["error"]
    log = placed["callLog"]
    assert (log["status"], log["confirming"], log["placementState"]) == ("initiating", True, "confirming")
    assert log["failureReason"] is None
    again = await place(live_client, cw, lead_id)  # the phone may be ringing: no second dial
    assert again.status_code == 409 and again.json()["code"] == "lead_already_on_call"
    hang_up = await live_client.post(f"/api/calls/{log['id']}/cancel", headers=cw.world.member.headers)
    assert hang_up.status_code == 409 and hang_up.json()["code"] == "call_being_confirmed"
    assert len(dialled(live, cw, "+12025550100")) == 1
    if fault == "5xx":  # the live card says so, in either language
        seller = await browser_session(live, cw.world.member)
        try:
            card = await seller.get(f"/calls/{log['id']}/card")
            assert "Confirmando con ElevenLabs" in card.text and "No se vuelve a marcar" in card.text
            assert "Colgar" not in card.text
            assert (await seller.post("/lang", data={"lang": "en", "next": "/"})).status_code in (200, 303)
            card = await seller.get(f"/calls/{log['id']}/card")
            assert "Confirming with ElevenLabs" in card.text and "It is not dialled again" in card.text
        finally:
            await seller.aclose()

    await play(live, 120)
    call = await get_call(live_client, cw, log["id"])
    conversation = dialled(live, cw, "+12025550100")
    assert len(conversation) == 1
    assert call["elevenLabsJobId"] == conversation[0].conversation_id
    assert (call["status"], call["outcome"], call["confirming"], call["placementState"]) == (
        "completed", "interested", False, "placed")
    assert call["transcription"] and call["cost"] and call["cost"] > 0 and call["durationSeconds"]
    assert await calls_placed(live_client, cw) == placed_before + 1  # one dial, counted once
    lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
    assert lead["lastCalledAt"] is not None and lead["status"] == "contacted"
    trail = await events_of(live_client, cw, log["id"])
    assert [e["kind"] for e in trail].count("confirming") == 1
    statuses = [e["toStatus"] for e in trail if e["kind"] in ("created", "status")]
    assert statuses[0] == "initiating" and statuses[1] == "ringing" and statuses[-1] == "completed"
    assert len(statuses) == len(set(statuses))
    ringing = next(e for e in trail if e["toStatus"] == "ringing")
    assert "by our id" in ringing["detail"] or "carries our id" in ringing["detail"]


async def test_a_dial_that_left_no_trace_fails_saying_so_after_the_wait(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550101")
    live.simulator.faults.fail_next = 1  # a 5xx before anything was placed: from here it looks the same
    placed = (await place(live_client, cw, lead_id)).json()
    call_id = placed["callLog"]["id"]
    assert placed["callLog"]["confirming"] is True
    await play(live, 240, step=10)
    call = await get_call(live_client, cw, call_id)
    assert (call["status"], call["confirming"]) == ("initiating", True)  # still looking: within the wait
    assert (await place(live_client, cw, lead_id)).status_code == 409
    await play(live, 90, step=10)
    call = await get_call(live_client, cw, call_id)
    assert (call["status"], call["confirming"], call["placementState"]) == ("failed", False, "not_placed")
    assert "ElevenLabs has no call with this call's id" in call["failureReason"]
    assert "you can call again" in call["failureReason"]
    assert dialled(live, cw, "+12025550101") == []
    again = await place(live_client, cw, lead_id)
    assert again.status_code == 200 and again.json()["success"] is True


async def test_an_early_busy_webhook_is_kept_until_the_call_is_found(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550104")
    live.simulator.faults.fail_after_placing_next = 1
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await live.simulator.advance(6)  # the line was busy: its webhook comes before we look the call up
    await finish_jobs(live)
    kept = [d for d in await kept_deliveries(live, cw) if d.kind == "call_initiation_failure"]
    assert len(kept) == 1 and kept[0].processed_at is None  # not finalised as "no call of ours"
    assert kept[0].last_error in (None, "kept: its call is still waiting for its conversation id")
    assert (await get_call(live_client, cw, call_id))["confirming"] is True
    await play(live, 60)
    await finish_jobs(live)
    call = await get_call(live_client, cw, call_id)
    assert (call["status"], call["outcome"], call["phoneResult"]) == ("failed", "busy", "busy")
    assert call["elevenLabsJobId"] == dialled(live, cw, "+12025550104")[0].conversation_id
    applied = [d for d in await kept_deliveries(live, cw) if d.kind == "call_initiation_failure"]
    assert applied[0].processed_at is not None and applied[0].last_error is None
    assert any(e["source"] == "webhook" and e["kind"] == "call_initiation_failure"
               for e in await events_of(live_client, cw, call_id))


async def test_a_webhook_that_beats_the_dial_answer_is_applied_when_the_id_lands(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550104")  # busy
    live.simulator.faults.hold_after_placing_next, live.simulator.faults.hold_seconds = 1, 1.0  # a slow answer
    dialling = asyncio.create_task(place(live_client, cw, lead_id))
    for _ in range(500):
        if dialled(live, cw, "+12025550104"):
            break
        await asyncio.sleep(0.01)
    await live.simulator.advance(6)  # the line was busy while the answer was on its way: the webhook comes first
    await finish_jobs(live)
    early = [d for d in await kept_deliveries(live, cw) if d.kind == "call_initiation_failure"]
    assert len(early) == 1 and early[0].processed_at is None
    placed = (await dialling).json()
    assert placed["success"] is True and placed["callLog"]["status"] == "ringing"
    await play(live, 20)
    await finish_jobs(live)
    call = await get_call(live_client, cw, placed["callLog"]["id"])
    assert (call["status"], call["outcome"], call["phoneResult"]) == ("failed", "busy", "busy")
    applied = [d for d in await kept_deliveries(live, cw) if d.kind == "call_initiation_failure"]
    assert applied[0].processed_at is not None and applied[0].last_error is None


async def test_a_transcription_webhook_carrying_our_id_binds_the_call(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550101")
    live.simulator.faults.fail_after_placing_next = 1
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    live.simulator.faults.fail_next = 10_000  # ElevenLabs' API stays unreachable: only the webhook can tell
    try:
        await play(live, 80)
        await finish_jobs(live)
    finally:
        live.simulator.faults.fail_next = 0
    call = await get_call(live_client, cw, call_id)
    assert (call["status"], call["outcome"], call["placementState"]) == ("completed", "not_interested", "placed")
    assert call["transcription"] and call["cost"]
    ringing = next(e for e in await events_of(live_client, cw, call_id) if e["toStatus"] == "ringing")
    assert ringing["source"] == "webhook" and "its webhook carries our id" in ringing["detail"]


async def test_a_late_done_transcription_does_not_rewrite_a_busy_outcome(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550104")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await play(live, 30)
    before = await get_call(live_client, cw, call_id)
    assert (before["status"], before["outcome"]) == ("failed", "busy")
    conversation = dialled(live, cw, "+12025550104")[0]
    data = live.simulator.conversation_json(conversation)
    data |= {"status": "done", "transcript": [
        {"role": "agent", "message": "Hi, this is Ava.", "time_in_call_secs": 0},
        {"role": "user", "message": "Yes, I am very interested, send it over.", "time_in_call_secs": 3}],
        "analysis": {"call_successful": "success", "transcript_summary": "Keen.", "evaluation_criteria_results": {},
                     "data_collection_results": {}}}
    now = int(live.clock.now())
    body = json.dumps({"type": "post_call_transcription", "event_timestamp": now, "data": data}).encode()
    r = await live_client.post(f"/api/webhooks/elevenlabs/transcription?account={cw.account_id}", content=body,
                               headers={"ElevenLabs-Signature": sign(cw.sim_account.webhook_secret, body, now)})
    assert r.status_code == 200 and r.json()["duplicate"] is False
    await play(live, 10)
    await finish_jobs(live)
    after = await get_call(live_client, cw, call_id)
    assert (after["status"], after["outcome"], after["phoneResult"], after["salesResult"]) == (
        "failed", "busy", "busy", None)
    assert after["failureReason"] == before["failureReason"]
    assert after["next_action"] == before["next_action"]
