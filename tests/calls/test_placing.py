from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from leadcall.calls.placing import placement_failure
from leadcall.voice.errors import (
    ProviderAtCapacity,
    ProviderError,
    ProviderMisconfigured,
    ProviderRejected,
    ProviderRetriable,
)
from tests.live import CallWorld, LiveServer, play

TEST_NUMBERS = {
    "+12025550100": ("completed", "interested"),
    "+12025550101": ("completed", "not_interested"),
    "+12025550102": ("completed", "callback_requested"),
    "+12025550103": ("failed", "no_answer"),
    "+12025550104": ("failed", "busy"),
    "+12025550105": ("completed", "voicemail"),
    "+12025550107": ("failed", None),
    "+12025550109": ("completed", None),
    "+12025550110": ("completed", None),
}


async def new_lead(client: httpx.AsyncClient, cw: CallWorld, phone: str | None, **extra: Any) -> str:
    r = await client.post("/api/leads", json={"name": "Pat Lead", "company": "Acme", "phone": phone, **extra},
                          headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def place(client: httpx.AsyncClient, cw: CallWorld, lead_id: str, **headers: str) -> httpx.Response:
    return await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0], "callType": "prospecting"},
                             headers={**cw.world.member.headers, **headers})


async def events_of(client: httpx.AsyncClient, cw: CallWorld, call_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/calls/{call_id}/events", headers=cw.world.member.headers)
    assert r.status_code == 200
    return list(r.json())


@pytest.mark.parametrize("phone", sorted(TEST_NUMBERS))
async def test_test_numbers_end_as_their_scenario_says(live: LiveServer, live_client: httpx.AsyncClient,
                                                       cw: CallWorld, phone: str) -> None:
    final_status, outcome = TEST_NUMBERS[phone]
    lead_id = await new_lead(live_client, cw, phone)
    r = await place(live_client, cw, lead_id)
    assert r.status_code == 200, r.text
    placed = r.json()
    assert placed["success"] is True and placed["jobId"]
    assert placed["callLog"]["status"] == "ringing"
    call_id = placed["callLog"]["id"]
    await play(live, 120)
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["status"] == final_status, call
    if outcome is not None:
        assert call["outcome"] == outcome
    if call["salesResult"] is not None:
        assert call["outcomeSource"] in ("data_collection", "evaluation", "rules") and call["outcomeEvidence"]
    else:
        assert call["outcomeSource"] is None
    assert call["optedOut"] is False
    if final_status == "completed":
        assert call["transcription"], "a completed call has a transcript"
        assert call["transcriptionStatus"] == "completed"
        assert call["durationSeconds"] and call["durationSeconds"] > 0
        assert call["cost"] is not None and call["cost"] > 0 and call["costCurrency"] == "USD"
        assert call["next_action"]
    if phone == "+12025550102":
        assert call["callbackAt"] is not None
    if phone == "+12025550105":
        assert call["phoneResult"] == "voicemail" and call["salesResult"] is None
    lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
    reached = call["phoneResult"] == "answered"
    assert lead["status"] == ("contacted" if reached else "new")
    assert lead["lastCalledAt"] is not None
    trail = await events_of(live_client, cw, call_id)
    statuses = [e["toStatus"] for e in trail if e["kind"] in ("created", "status")]
    assert statuses[0] == "initiating" and statuses[1] == "ringing" and statuses[-1] == final_status
    assert len(statuses) == len(set(statuses)), "no status applied twice"
    sources = {e["source"] for e in trail}
    if phone == "+12025550109":
        assert "webhook" not in sources and "poll" in sources  # only polling found out
    else:
        assert "webhook" in sources or "poll" in sources


async def test_provider_refusal_leaves_a_failed_call_with_a_code_and_a_true_reason(
        live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550106")  # the carrier refuses this number
    r = await place(live_client, cw, lead_id)
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is False and body["jobId"] is None
    assert body["code"] == "provider_refused_call" and body["params"] == {}
    assert body["callLog"]["status"] == "failed" and body["callLog"]["failureCode"] == "provider_refused_call"
    reason = body["error"]
    assert reason == body["callLog"]["failureReason"]
    assert reason.startswith("The lead was not called.") and "rejected the call" in reason
    assert "may" not in reason, "a definite refusal does not say the call may have been placed"
    again = await place(live_client, cw, lead_id)  # nothing was placed: the lead may be called again
    assert again.status_code == 200 and again.json()["code"] == "provider_refused_call"


async def test_provider_at_capacity_is_said_with_its_code(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    cw.sim_account.concurrency_limit = 0  # ElevenLabs' own limit, below the one configured here
    try:
        r = await place(live_client, cw, await new_lead(live_client, cw, "+12025550100"))
    finally:
        cw.sim_account.concurrency_limit = 4
    body = r.json()
    assert body["success"] is False and body["code"] == "provider_at_capacity"
    assert body["error"].startswith("The lead was not called.") and "limit" in body["error"]


async def test_a_rejected_api_key_is_said_as_a_misconfiguration(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    key = cw.sim_account.api_key
    cw.sim_account.api_key = "sk_revoked"  # revoked in ElevenLabs after the agents were listed (cached)
    try:
        r = await place(live_client, cw, await new_lead(live_client, cw, "+12025550100"))
    finally:
        cw.sim_account.api_key = key
    body = r.json()
    assert body["success"] is False and body["code"] == "provider_misconfigured", body
    assert body["error"].startswith("The lead was not called.") and "API key" in body["error"]


@pytest.mark.parametrize(("error", "code"), [
    (ProviderRejected("ElevenLabs refused placing a call (400 invalid_phone_number)."), "provider_refused_call"),
    (ProviderMisconfigured("The ElevenLabs account has insufficient credits."), "provider_misconfigured"),
    (ProviderAtCapacity("ElevenLabs is at the concurrent-call limit; try again when a call ends."),
     "provider_at_capacity"),
    (ProviderRetriable("Could not reach ElevenLabs (ConnectError); the call was not placed."), "provider_unreachable"),
])
def test_each_definite_failure_has_its_code_and_says_the_lead_was_not_called(error: ProviderError,
                                                                             code: str) -> None:
    failure = placement_failure(error)
    assert failure.code == code
    assert failure.sentence == f"The lead was not called. {error.detail}"


async def test_checks_in_order(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    no_phone = await new_lead(live_client, cw, None)
    r = await place(live_client, cw, no_phone)
    assert r.status_code == 404 and "no phone" in r.json()["detail"] and r.json()["code"] == "lead_has_no_phone"
    dnc = await new_lead(live_client, cw, "+12025550100", doNotCall=True, doNotCallReason="asked us")
    r = await place(live_client, cw, dnc)
    assert r.status_code == 409 and "asked us" in r.json()["detail"]
    assert r.json()["code"] == "number_on_dnc" and r.json()["params"]["reason"] == "asked us"
    # The list is by number: another lead with the listed number is refused as well.
    same_number = await new_lead(live_client, cw, "+12025550100")
    r = await place(live_client, cw, same_number)
    assert r.status_code == 409 and r.json()["code"] == "number_on_dnc"
    lead = await new_lead(live_client, cw, "+12025550101")
    r = await live_client.post(f"/api/leads/{lead}/call", json={"agentId": "agent_nope"},
                               headers=cw.world.member.headers)
    assert r.status_code == 400 and "not available" in r.json()["detail"] and r.json()["code"] == "agent_unknown"
    r = await live_client.post("/api/leads/00000000-0000-0000-0000-000000000000/call",
                               json={"agentId": cw.agent_ids[0]}, headers=cw.world.member.headers)
    assert r.status_code == 404 and r.json()["params"] == {"what": "lead"}


async def test_idempotency_key_never_dials_twice(live: LiveServer, live_client: httpx.AsyncClient,
                                                 cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550100")
    first = await place(live_client, cw, lead_id, **{"Idempotency-Key": "abc-1"})
    again = await place(live_client, cw, lead_id, **{"Idempotency-Key": "abc-1"})
    assert first.json()["callLog"]["id"] == again.json()["callLog"]["id"]
    history = (await live_client.get(f"/api/leads/{lead_id}/calls", headers=cw.world.member.headers)).json()
    assert len(history["items"]) == 1


async def test_racing_requests_with_one_key_all_get_the_first_answer(live: LiveServer, live_client: httpx.AsyncClient,
                                                                     cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550100")

    async def one() -> httpx.Response:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            return await place(client, cw, lead_id, **{"Idempotency-Key": "double-click"})

    answers = await asyncio.gather(*(one() for _ in range(20)))  # more than the user's rate limit of 10
    assert [r.status_code for r in answers] == [200] * 20, [r.text for r in answers if r.status_code != 200]
    bodies = [r.json() for r in answers]
    assert {b["callLog"]["id"] for b in bodies} == {bodies[0]["callLog"]["id"]}
    assert all(b["success"] and b["jobId"] == bodies[0]["jobId"] and b["callLog"]["status"] == "ringing"
               for b in bodies)
    assert len(live.simulator.conversations_for(cw.sim_account)) == 1, "one dial"
    history = (await live_client.get(f"/api/leads/{lead_id}/calls", headers=cw.world.member.headers)).json()
    assert len(history["items"]) == 1


async def test_refused_attempts_cost_the_rate_limit_nothing(live: LiveServer, live_client: httpx.AsyncClient,
                                                            cw: CallWorld) -> None:
    billing = live.app.state.billing
    billing.per_user = 2
    try:
        dnc = await new_lead(live_client, cw, "+12025550177", doNotCall=True, doNotCallReason="asked us")
        busy = await new_lead(live_client, cw, "+12025550108")
        assert (await place(live_client, cw, busy)).status_code == 200  # 1 of 2: the lead is now on a call
        budget = await live_client.put("/api/budgets", headers=cw.world.admin.headers,
                                       json={"monthlyLimit": 1, "estimatedCallCost": 5})
        refused = [await place(live_client, cw, dnc), await place(live_client, cw, busy),
                   await live_client.post(f"/api/leads/{await new_lead(live_client, cw, '+12025550100')}/call",
                                          json={"agentId": "agent_nope"},
                                          headers=cw.world.member.headers),
                   await place(live_client, cw, await new_lead(live_client, cw, "+12025550100"))]
        assert [r.json()["code"] for r in refused] == ["number_on_dnc", "lead_already_on_call", "agent_unknown",
                                                       "budget_spent"]
        await live_client.delete(f"/api/budgets/{budget.json()['id']}", headers=cw.world.admin.headers)
        second = await place(live_client, cw, await new_lead(live_client, cw, "+12025550100"))
        assert second.status_code == 200 and second.json()["success"], "2 of 2: the refusals counted for nothing"
        third = await place(live_client, cw, await new_lead(live_client, cw, "+12025550100"))
        assert third.status_code == 429 and third.json()["code"] == "placements_limited_user"
    finally:
        billing.per_user = 10


async def test_duplicate_and_out_of_order_webhooks_end_in_the_same_state(live: LiveServer,
                                                                        live_client: httpx.AsyncClient,
                                                                        cw: CallWorld) -> None:
    once = await new_lead(live_client, cw, "+12025550101")
    call_once = (await place(live_client, cw, once)).json()["callLog"]["id"]
    await play(live, 120)
    live.simulator.faults.duplicate_webhooks = True
    live.simulator.faults.reverse_webhooks = True
    try:
        many = await new_lead(live_client, cw, "+12025550101")
        call_many = (await place(live_client, cw, many)).json()["callLog"]["id"]
        for _ in range(10):
            await play(live, 12)
    finally:
        live.simulator.faults.duplicate_webhooks = False
        live.simulator.faults.reverse_webhooks = False
    a = (await live_client.get(f"/api/calls/{call_once}", headers=cw.world.member.headers)).json()
    b = (await live_client.get(f"/api/calls/{call_many}", headers=cw.world.member.headers)).json()
    for key in ("status", "outcome", "phoneResult", "salesResult", "transcription", "cost", "durationSeconds",
                "summary", "next_action"):
        assert a[key] == b[key], key


async def test_history_is_newest_first_with_cursor(live: LiveServer, live_client: httpx.AsyncClient,
                                                   cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550101")
    ids = []
    for _ in range(3):
        ids.append((await place(live_client, cw, lead_id)).json()["callLog"]["id"])
        live.clock.advance(1)
        await play(live, 80)
    page1 = (await live_client.get(f"/api/leads/{lead_id}/calls", params={"limit": 2},
                                   headers=cw.world.member.headers)).json()
    page2 = (await live_client.get(f"/api/leads/{lead_id}/calls", params={"limit": 2, "cursor": page1["nextCursor"]},
                                   headers=cw.world.member.headers)).json()
    assert [c["id"] for c in page1["items"] + page2["items"]] == list(reversed(ids))
    assert page2["nextCursor"] is None


async def test_cancel_a_long_call(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550108")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await play(live, 20)
    r = await live_client.post(f"/api/calls/{call_id}/cancel", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    assert r.json()["canceled"] is True and r.json()["callLog"]["status"] == "canceled"
    await play(live, 60)
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["status"] == "canceled"
    again = await live_client.post(f"/api/calls/{call_id}/cancel", headers=cw.world.member.headers)
    assert again.status_code == 409


async def test_user_corrects_outcome(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550101")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await play(live, 120)
    r = await live_client.patch(f"/api/calls/{call_id}", json={"outcome": "interested", "notes": "actually keen"},
                                headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "interested" and r.json()["notes"] == "actually keen"
    # The correction says who made it and what it replaced.
    assert r.json()["outcomeSource"] == "seller"
    evidence = r.json()["outcomeEvidence"]
    assert evidence["by"] == cw.world.member.email and evidence["before"] == "not_interested"
    assert evidence["beforeSource"] in ("data_collection", "evaluation", "rules")
    trail = await events_of(live_client, cw, call_id)
    assert any(e["kind"] == "outcome_corrected" for e in trail)


async def test_a_call_the_seller_hangs_up_after_the_lead_answered_is_answered(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550108")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    await play(live, 20)
    before = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert before["status"] == "in_progress"
    r = await live_client.post(f"/api/calls/{call_id}/cancel", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    assert r.json()["callLog"]["phoneResult"] == "answered"
    await play(live, 60)  # the provider's final data arrive, and are classified again
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["status"] == "canceled"
    assert call["phoneResult"] == "answered"
    assert call["outcome"] not in (None, "no_answer")
    assert call["failureCode"] == "hung_up_by_seller"


async def test_a_call_the_seller_hangs_up_while_it_rings_is_noted_as_canceled(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550108")
    call_id = (await place(live_client, cw, lead_id)).json()["callLog"]["id"]
    r = await live_client.post(f"/api/calls/{call_id}/cancel", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 60)
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["status"] == "canceled"
    assert call["phoneResult"] != "answered"
    assert call["failureCode"] == "canceled_by_seller"
