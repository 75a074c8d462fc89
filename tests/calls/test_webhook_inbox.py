"""The webhook inbox: the request stores the delivery and answers; a job applies it; a sweep applies what a lost
job left, once its lease lapsed. Whatever the path, a delivery is applied once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadcall.calls.models import WebhookDelivery
from leadcall.calls.webhooks import WEBHOOK_LEASE_SECONDS, process_delivery
from leadcall.calls.worker import CallWorker
from leadcall.core.jobs import InProcessJobs
from leadcall.simulator.webhooks import sign
from tests.calls.test_placing import events_of, new_lead, place
from tests.live import CallWorld, LiveServer


async def ringing_call(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld) -> dict[str, Any]:
    """A long call (+12025550108: minutes before the simulator sends anything), placed and ringing."""
    lead_id = await new_lead(client, cw, "+12025550108")
    placed = await place(client, cw, lead_id)
    assert placed.status_code == 200, placed.text
    call: dict[str, Any] = placed.json()["callLog"]
    assert call["status"] == "ringing" and call["elevenLabsJobId"], call
    return call


def busy_webhook(live: LiveServer, conversation_id: str) -> bytes:
    return json.dumps({"type": "call_initiation_failure", "event_timestamp": int(live.clock.now()),
                       "data": {"agent_id": "agent", "conversation_id": conversation_id, "failure_reason": "busy",
                                "metadata": {"type": "twilio", "body": {}}}}).encode()


async def post(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld, body: bytes,
               secret: str | None = None) -> httpx.Response:
    """Signed as ElevenLabs signs each attempt: with the time it is sent."""
    signature = sign(secret or cw.sim_account.webhook_secret, body, int(live.clock.now()))
    return await client.post(f"/api/webhooks/elevenlabs/transcription?account={cw.account_id}", content=body,
                             headers={"ElevenLabs-Signature": signature, "content-type": "application/json"})


async def stored(live: LiveServer, conversation_id: str) -> list[WebhookDelivery]:
    async with live.app.state.container.sessionmaker() as session:
        return list((await session.execute(select(WebhookDelivery).where(
            WebhookDelivery.conversation_id == conversation_id))).scalars())


async def apply_stored(live: LiveServer) -> None:
    """What follows a stored webhook: in the embedded shape its in-process job; with Redis, whose arq queue no
    worker serves in these tests, the sweep once the job's lease has lapsed (as after a lost job)."""
    jobs = live.app.state.jobs
    if isinstance(jobs, InProcessJobs):
        await jobs.drain()
    else:
        live.clock.advance(WEBHOOK_LEASE_SECONDS)
        await live.app.state.worker.run_once()


async def failures(client: httpx.AsyncClient, cw: CallWorld, call_id: str) -> int:
    return sum(1 for e in await events_of(client, cw, call_id) if e["kind"] == "status" and e["toStatus"] == "failed")


async def test_a_redelivered_webhook_is_stored_once_and_applied_once(live: LiveServer, live_client: httpx.AsyncClient,
                                                                     cw: CallWorld) -> None:
    call = await ringing_call(live, live_client, cw)
    body = busy_webhook(live, call["elevenLabsJobId"])
    first = await post(live, live_client, cw, body)
    live.clock.advance(1)  # ElevenLabs' retry: the same event, signed anew
    again = await post(live, live_client, cw, body)
    assert first.status_code == again.status_code == 200
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    await apply_stored(live)
    late = await post(live, live_client, cw, body)  # a redelivery after it was applied
    assert late.json()["duplicate"] is True
    await apply_stored(live)

    shown = (await live_client.get(f"/api/calls/{call['id']}", headers=cw.world.member.headers)).json()
    assert shown["status"] == "failed" and shown["outcome"] == "busy"
    assert await failures(live_client, cw, call["id"]) == 1
    [delivery] = await stored(live, call["elevenLabsJobId"])
    assert delivery.processed_at is not None and delivery.attempts == 1
    events = await events_of(live_client, cw, call["id"])
    await process_delivery(live.app.state.call_service, delivery.id)  # a job run again: a no-op
    assert await events_of(live_client, cw, call["id"]) == events
    [again_row] = await stored(live, call["elevenLabsJobId"])
    assert again_row.attempts == 1 and again_row.processed_at == delivery.processed_at


async def test_a_webhook_whose_job_was_lost_is_applied_by_the_sweep_once_its_lease_lapses(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    call = await ringing_call(live, live_client, cw)
    jobs = live.app.state.jobs
    enqueue = jobs.enqueue

    async def losing(name: str, *args: str, unique: bool = True) -> None:
        if name != "process_webhook":  # the process stops between the delivery's commit and its job
            await enqueue(name, *args, unique=unique)

    monkeypatch.setattr(jobs, "enqueue", losing)
    answered = await post(live, live_client, cw, busy_webhook(live, call["elevenLabsJobId"]))
    assert answered.status_code == 200 and answered.json()["duplicate"] is False
    monkeypatch.setattr(jobs, "enqueue", enqueue)
    [delivery] = await stored(live, call["elevenLabsJobId"])
    assert delivery.processed_at is None  # stored durably, not applied

    service = live.app.state.call_service
    await CallWorker(service).run_once()  # within the lease the job still has it: the sweep leaves it
    assert (await stored(live, call["elevenLabsJobId"]))[0].processed_at is None
    shown = (await live_client.get(f"/api/calls/{call['id']}", headers=cw.world.member.headers)).json()
    assert shown["status"] in ("ringing", "in_progress")

    live.clock.advance(WEBHOOK_LEASE_SECONDS)
    # Two sweeps at once (two workers, or a pass that outlived its tick): each claims what the other has not.
    await asyncio.gather(CallWorker(service).run_once(), CallWorker(service).run_once())
    live.clock.advance(WEBHOOK_LEASE_SECONDS)
    await CallWorker(service).run_once()

    shown = (await live_client.get(f"/api/calls/{call['id']}", headers=cw.world.member.headers)).json()
    assert shown["status"] == "failed" and shown["outcome"] == "busy"
    assert await failures(live_client, cw, call["id"]) == 1
    [delivery] = await stored(live, call["elevenLabsJobId"])
    assert delivery.processed_at is not None and delivery.attempts == 1


async def test_a_webhook_with_a_bad_signature_stores_and_applies_nothing(live: LiveServer,
                                                                         live_client: httpx.AsyncClient,
                                                                         cw: CallWorld) -> None:
    call = await ringing_call(live, live_client, cw)
    body = busy_webhook(live, call["elevenLabsJobId"])
    refused = await post(live, live_client, cw, body, secret="not-the-account-secret")
    assert refused.status_code == 401
    await apply_stored(live)
    live.clock.advance(WEBHOOK_LEASE_SECONDS)
    await live.app.state.worker.run_once()
    assert await stored(live, call["elevenLabsJobId"]) == []
    shown = (await live_client.get(f"/api/calls/{call['id']}", headers=cw.world.member.headers)).json()
    assert shown["status"] in ("ringing", "in_progress") and shown["outcome"] is None
