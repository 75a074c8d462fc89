from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx
from sqlalchemy import func, select

from leadcall.calls.models import WebhookDelivery
from leadcall.calls.worker import CallWorker
from tests.calls.test_placing import new_lead, place
from tests.live import CallWorld, LiveServer, play


def signed(secret: str, body: bytes, t: int) -> str:
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v0={digest}"


async def deliveries(live: LiveServer, account_id: str) -> int:
    async with live.app.state.container.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.account_id == account_id))).scalar_one())


async def test_tampered_or_stale_signatures_write_nothing(live: LiveServer, live_client: httpx.AsyncClient,
                                                          cw: CallWorld) -> None:
    body = json.dumps({"type": "call_initiation_failure", "event_timestamp": int(live.clock.now()),
                       "data": {"agent_id": "a", "conversation_id": "conv_x", "failure_reason": "busy",
                                "metadata": {"type": "twilio", "body": {}}}}).encode()
    url = f"/api/webhooks/elevenlabs/call-status?account={cw.account_id}"
    secret = cw.sim_account.webhook_secret
    now = int(live.clock.now())
    before = await deliveries(live, cw.account_id)
    tampered = await live_client.post(url, content=body.replace(b"busy", b"no-answer"),
                                      headers={"ElevenLabs-Signature": signed(secret, body, now)})
    stale = await live_client.post(url, content=body, headers={"ElevenLabs-Signature": signed(secret, body, now - 3600)})
    wrong_secret = await live_client.post(url, content=body,
                                          headers={"ElevenLabs-Signature": signed("other", body, now)})
    missing = await live_client.post(url, content=body)
    for r in (tampered, stale, wrong_secret, missing):
        assert r.status_code == 401, r.text
    assert await deliveries(live, cw.account_id) == before
    good = await live_client.post(url, content=body, headers={"ElevenLabs-Signature": signed(secret, body, now)})
    assert good.status_code == 200 and good.json()["duplicate"] is False
    dup = await live_client.post(url, content=body, headers={"ElevenLabs-Signature": signed(secret, body, now)})
    assert dup.json()["duplicate"] is True
    assert await deliveries(live, cw.account_id) == before + 1
    unknown = await live_client.post("/api/webhooks/elevenlabs/call-status?account=nope", content=body,
                                     headers={"ElevenLabs-Signature": signed(secret, body, now)})
    assert unknown.status_code == 404


async def test_dropped_webhooks_are_caught_up_by_polling(live: LiveServer, live_client: httpx.AsyncClient,
                                                         cw: CallWorld) -> None:
    live.simulator.faults.drop_webhooks = True
    try:
        lead_id = await new_lead(live_client, cw, "+12025550100")
        call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
        await play(live, 150)
    finally:
        live.simulator.faults.drop_webhooks = False
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["status"] == "completed" and call["outcome"] == "interested"


async def test_killing_the_worker_mid_call_leaves_nothing_stuck(live: LiveServer, live_client: httpx.AsyncClient,
                                                                cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550109")  # no webhooks: only the worker can finish it
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    first = CallWorker(live.app.state.call_service, interval_seconds=0.01)
    first.start()
    await live.simulator.advance(10)
    await asyncio.sleep(0.1)
    await first.stop()  # the worker dies mid-call
    mid = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert mid["status"] in ("ringing", "in_progress")
    await live.simulator.advance(200)
    second = CallWorker(live.app.state.call_service)
    for _ in range(30):
        live.clock.advance(5)
        await second.run_once()
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["status"] == "completed"
    statuses = [e["toStatus"] for e in (await live_client.get(f"/api/calls/{call_id}/events",
                                                               headers=cw.world.member.headers)).json()
                if e["kind"] == "status"]
    assert statuses.count("completed") == 1


async def test_sse_streams_only_the_callers_tenant(live: LiveServer, live_client: httpx.AsyncClient,
                                                   cw: CallWorld) -> None:
    from tests.live import make_call_world

    other = await make_call_world(live, live_client)
    seen: list[str] = []

    completed = asyncio.Event()

    async def listen(headers: dict[str, str], sink: list[str], ready: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=live.url, timeout=None) as c, c.stream(
                "GET", "/api/events", headers=headers) as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                ready.set()
                if line.startswith("data: "):
                    sink.append(line[6:])
                    if '"completed"' in line:
                        completed.set()

    mine: list[str] = []
    ready_a, ready_b = asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(listen(cw.world.member.headers, mine, ready_a))
    task_b = asyncio.create_task(listen(other.world.member.headers, seen, ready_b))
    await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), 10)
    lead_id = await new_lead(live_client, cw, "+12025550100")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await play(live, 120)
    await asyncio.wait_for(completed.wait(), 5)
    task_a.cancel()
    task_b.cancel()
    calls = [json.loads(m)["data"] for m in mine if json.loads(m)["name"] == "call.updated"]  # leads have news too
    statuses = [c["status"] for c in calls if c["id"] == call_id]
    assert statuses[0] in ("initiating", "ringing") and statuses[-1] == "completed"
    assert all(json.loads(m)["tenantId"] == cw.world.tenant_id for m in mine)
    assert seen == []


async def test_audio_is_streamed_through_with_auth(live: LiveServer, live_client: httpx.AsyncClient,
                                                   cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550100")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await play(live, 120)
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["audioUrl"] == f"/api/calls/{call_id}/audio"
    r = await live_client.get(call["audioUrl"], headers=cw.world.member.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg" and len(r.content) > 100
    assert (await live_client.get(call["audioUrl"])).status_code == 401
    # A player that seeks asks for a range: it gets that part, with the whole length (so it can seek again).
    whole = r.content
    assert r.headers["accept-ranges"] == "bytes" and r.headers["content-length"] == str(len(whole))
    part = await live_client.get(call["audioUrl"], headers={**cw.world.member.headers, "Range": "bytes=10-49"})
    assert part.status_code == 206 and part.content == whole[10:50]
    assert part.headers["content-range"] == f"bytes 10-49/{len(whole)}"
    tail = await live_client.get(call["audioUrl"], headers={**cw.world.member.headers, "Range": "bytes=-20"})
    assert tail.status_code == 206 and tail.content == whole[-20:]
    beyond = await live_client.get(call["audioUrl"],
                                   headers={**cw.world.member.headers, "Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(whole)}"


async def test_a_conversation_elevenlabs_no_longer_knows_ends_the_call(live: LiveServer, live_client: httpx.AsyncClient,
                                                                       cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550108")  # a long call
    placed = (await place(live_client, cw, lead_id)).json()["callLog"]
    live.simulator.conversations.pop(placed["elevenLabsJobId"])  # e.g. the simulator restarted
    await play(live, 120, step=10)
    call = (await live_client.get(f"/api/calls/{placed['id']}", headers=cw.world.member.headers)).json()
    assert call["status"] == "ringing"  # a 404 right after placing may be propagation: keep asking
    await play(live, 300, step=30)
    call = (await live_client.get(f"/api/calls/{placed['id']}", headers=cw.world.member.headers)).json()
    assert call["status"] == "failed" and "no longer knows this conversation" in call["failureReason"]
    again = await place(live_client, cw, lead_id)
    assert again.status_code == 200  # the lead is free to be called again


async def test_a_signed_webhook_of_an_unknown_type_is_acknowledged_and_ignored(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    # ElevenLabs adds event types; answering them with an error would get the webhook disabled.
    body = json.dumps({"type": "post_call_something_new", "event_timestamp": int(live.clock.now()),
                       "data": {"conversation_id": "conv_new"}}).encode()
    url = f"/api/webhooks/elevenlabs/transcription?account={cw.account_id}"
    secret = cw.sim_account.webhook_secret
    before = await deliveries(live, cw.account_id)
    r = await live_client.post(url, content=body,
                               headers={"ElevenLabs-Signature": signed(secret, body, int(live.clock.now()))})
    assert r.status_code == 200 and r.json()["ignored"] is True, r.text
    assert await deliveries(live, cw.account_id) == before
    forged = await live_client.post(url, content=body,
                                    headers={"ElevenLabs-Signature": signed("not-the-secret", body,
                                                                            int(live.clock.now()))})
    assert forged.status_code == 401
