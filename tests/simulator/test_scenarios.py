"""Every test number plays its scenario in simulated time: statuses, transcript, analysis,
cost, and the webhooks that reach the account's URL (signed, in the right order)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

import pytest

from tests.simulator.harness import SECRET, START, Sim
from tests.simulator.openapi_check import assert_conforms, assert_response_conforms

CONVERSATION = "/v1/convai/conversations/{conversation_id}"


async def call(sim: Sim, number: str, **kwargs: Any) -> str:
    r = await sim.place(number, **kwargs)
    assert r.status_code == 200, r.text
    return str(r.json()["conversation_id"])


def outcome(conversation: dict[str, Any]) -> Any:
    return conversation["analysis"]["data_collection_results"].get("sales_outcome", {}).get("value")


@pytest.mark.parametrize(("number", "sales_outcome", "successful"), [
    ("+12025550100", "interested", "success"),
    ("+12025550101", "not_interested", "failure"),
    ("+12025550102", "callback_requested", "success"),
])
async def test_answered_calls_walk_the_lifecycle_and_end_done(sim: Sim, number: str, sales_outcome: str,
                                                              successful: str) -> None:
    cid = await call(sim, number, variables={"lead_name": "Pat Lee", "lead_first_name": "Pat"})
    seen = [(await sim.conversation(cid))["status"]]
    for _ in range(60):
        await sim.state.advance(1)
        status = (await sim.conversation(cid))["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["initiated", "in-progress", "processing", "done"]
    done = await sim.conversation(cid)
    assert_response_conforms(done, "get", CONVERSATION)
    assert outcome(done) == sales_outcome
    assert done["analysis"]["call_successful"] == successful
    assert done["transcript"][0]["role"] == "agent" and "Pat" in done["transcript"][0]["message"]
    assert {t["role"] for t in done["transcript"]} == {"agent", "user"}
    meta = done["metadata"]
    talk = meta["call_duration_secs"]
    assert talk > 0 and meta["cost"] == round(talk * 400 / 60)
    assert meta["cost_fiat"] == pytest.approx(talk * 0.1 / 60, abs=1e-6)
    assert meta["accepted_time_unix_secs"] == int(START) + 5 and meta["start_time_unix_secs"] == int(START)
    assert meta["phone_call"]["type"] == "twilio" and meta["phone_call"]["external_number"] == number
    assert meta["termination_reason"] and meta["error"] is None
    assert done["has_audio"] is True
    assert done["conversation_initiation_client_data"]["dynamic_variables"]["lead_name"] == "Pat Lee"
    assert sim.receiver.types() == ["post_call_transcription", "post_call_audio"]
    transcription, audio = (r.event for r in sim.receiver.received)
    assert transcription["data"] == done and transcription["event_timestamp"] == int(START) + 5 + talk + 4
    assert base64.b64decode(audio["data"]["full_audio"])[:2] == b"\xff\xfb"
    assert sim.receiver.received[1].transfer_encoding == "chunked"
    assert [(d.type, d.status_code) for d in sim.state.deliveries] == [("post_call_transcription", 200),
                                                                        ("post_call_audio", 200)]


async def test_webhooks_are_signed_like_elevenlabs(sim: Sim) -> None:
    await call(sim, "+12025550100")
    await sim.state.advance(60)
    for received in sim.receiver.received:
        stamp, digest = (part.split("=", 1)[1] for part in received.signature.split(","))
        expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + received.body, hashlib.sha256).hexdigest()
        assert digest == expected and int(stamp) == int(sim.clock.now())


async def test_callback_names_a_day_and_time_in_transcript_and_data(sim: Sim, sim_es: Sim) -> None:
    cid = await call(sim, "+12025550102")
    await sim.state.advance(60)
    done = await sim.conversation(cid)
    said = " ".join(t["message"] for t in done["transcript"] if t["role"] == "user")
    assert "Thursday at 10 am" in said
    when = datetime.fromisoformat(done["analysis"]["data_collection_results"]["callback_time"]["value"])
    assert when.weekday() == 3 and when.hour == 10 and when.tzinfo is not None
    assert when.timestamp() > START

    cid_es = await call(sim_es, "+12025550102", variables={"lead_first_name": "Lucía"})
    await sim_es.state.advance(60)
    done_es = await sim_es.conversation(cid_es)
    assert "el jueves a las 10" in " ".join(t["message"] for t in done_es["transcript"])
    assert done_es["transcript"][0]["message"].startswith("Hola Lucía")
    assert done_es["metadata"]["main_language"] == "es"


@pytest.mark.parametrize(("number", "reason", "sip_code"), [("+12025550103", "no-answer", 480),
                                                            ("+12025550104", "busy", 486)])
@pytest.mark.parametrize("provider", ["twilio", "sip_trunk"])
async def test_unanswered_calls_fail_cost_nothing_and_report_initiation_failure(
        sim: Sim, number: str, reason: str, sip_code: int, provider: str) -> None:
    cid = await call(sim, number, provider=provider)
    assert (await sim.conversation(cid))["status"] == "initiated"
    await sim.state.advance(40)
    failed = await sim.conversation(cid)
    assert_response_conforms(failed, "get", CONVERSATION)
    assert failed["status"] == "failed" and failed["transcript"] == [] and failed["analysis"] is None
    assert failed["metadata"]["cost"] == 0 and failed["metadata"]["cost_fiat"] == 0.0
    assert failed["metadata"]["call_duration_secs"] == 0 and failed["metadata"]["accepted_time_unix_secs"] is None
    assert reason in failed["metadata"]["termination_reason"]
    assert failed["has_audio"] is False
    assert (await sim.client.get(f"/v1/convai/conversations/{cid}/audio")).status_code == 404
    assert sim.receiver.types() == ["call_initiation_failure"]
    data = sim.receiver.received[0].event["data"]
    assert data["conversation_id"] == cid and data["failure_reason"] == reason
    if provider == "twilio":
        assert data["metadata"]["type"] == "twilio"
        body = data["metadata"]["body"]
        assert body["CallStatus"] == reason and body["Direction"] == "outbound-api" and body["To"] == number
        assert body["AccountSid"] == sim.account.twilio_account_sid
    else:
        assert data["metadata"] == {"type": "sip", "body": data["metadata"]["body"]}
        assert data["metadata"]["body"]["sip_status_code"] == sip_code
        assert failed["metadata"]["phone_call"]["type"] == "sip_trunking"


async def test_voicemail_is_done_with_a_greeting_and_counts_as_failure(sim: Sim) -> None:
    cid = await call(sim, "+12025550105", variables={"lead_name": "Dana"})
    await sim.state.advance(60)
    done = await sim.conversation(cid)
    assert done["status"] == "done"
    assert "voicemail" in done["metadata"]["termination_reason"].lower()
    assert "voicemail of Dana" in done["transcript"][0]["message"]
    assert done["analysis"]["call_successful"] == "failure" and outcome(done) is None
    assert done["metadata"]["cost"] > 0
    assert sim.receiver.types() == ["post_call_transcription", "post_call_audio"]


async def test_refused_number_answers_an_error_and_creates_no_conversation(sim: Sim) -> None:
    r = await sim.place("+12025550106")
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert detail["type"] == "invalid_request" and detail["code"] == "call_initiation_failed" and detail["message"]
    listed = (await sim.client.get("/v1/convai/conversations")).json()
    assert listed["conversations"] == [] and sim.state.conversations == {}


async def test_dropped_call_fails_with_a_partial_transcript_and_an_error(sim: Sim) -> None:
    cid = await call(sim, "+12025550107")
    await sim.state.advance(8)
    assert (await sim.conversation(cid))["status"] == "in-progress"
    await sim.state.advance(30)
    failed = await sim.conversation(cid)
    assert_response_conforms(failed, "get", CONVERSATION)
    assert failed["status"] == "failed"
    assert failed["metadata"]["termination_reason"].startswith("Call dropped")
    assert failed["metadata"]["error"]["code"] == 1011
    assert 0 < len(failed["transcript"]) <= 2 and failed["transcript"][-1]["role"] == "user"
    assert failed["metadata"]["cost"] > 0 and failed["analysis"]["call_successful"] == "unknown"
    assert sim.receiver.types() == []  # post_call_transcription is sent for `done` only; polling finds it


async def test_long_call_stays_live_for_minutes_and_counts_for_concurrency(sim: Sim) -> None:
    cid = await call(sim, "+12025550108")
    await sim.state.advance(300)
    live = await sim.conversation(cid)
    assert live["status"] == "in-progress" and live["metadata"]["cost"] is None
    assert 0 < len(live["transcript"]) < 6
    count = await sim.client.get("/v1/convai/analytics/live-count", params={"agent_id": sim.agent_id})
    assert count.json() == {"count": 1}
    await sim.state.advance(400)
    done = await sim.conversation(cid)
    assert done["status"] == "done" and done["metadata"]["call_duration_secs"] == 600
    assert (await sim.client.get("/v1/convai/analytics/live-count")).json() == {"count": 0}


async def test_number_109_completes_without_any_webhook(sim: Sim) -> None:
    cid = await call(sim, "+12025550109")
    await sim.state.advance(120)
    assert (await sim.conversation(cid))["status"] == "done"
    assert sim.receiver.received == [] and sim.state.deliveries == []


async def test_number_110_sends_each_webhook_twice_and_out_of_order(sim: Sim) -> None:
    cid = await call(sim, "+12025550110")
    await sim.state.advance(120)
    assert (await sim.conversation(cid))["status"] == "done"
    assert sim.receiver.types() == ["post_call_audio", "post_call_audio",
                                    "post_call_transcription", "post_call_transcription"]
    assert sim.receiver.received[0].body == sim.receiver.received[1].body  # byte-identical redelivery


async def test_other_numbers_are_answered_with_an_outcome_fixed_by_the_number(sim: Sim) -> None:
    outcomes = []
    for number in ("+14155550123", "+14155550124", "+14155550125", "+14155550123"):
        cid = await call(sim, number)
        await sim.state.advance(120)
        done = await sim.conversation(cid)
        assert done["status"] == "done"
        outcomes.append(outcome(done))
    assert outcomes[0] == outcomes[3]
    assert set(outcomes) <= {"interested", "not_interested", "callback_requested"}


async def test_spanish_agents_speak_spanish(sim_es: Sim) -> None:
    cid = await call(sim_es, "+12025550101", variables={"lead_first_name": "Marta", "lead_company": "Acme SL"})
    await sim_es.state.advance(60)
    done = await sim_es.conversation(cid)
    text = " ".join(t["message"] for t in done["transcript"])
    assert text.startswith("Hola Marta") and "no me interesa" in text and "Acme SL" in text


async def test_transcript_without_variables_reads_naturally(sim: Sim) -> None:
    cid = await call(sim, "+12025550100")
    await sim.state.advance(60)
    first = (await sim.conversation(cid))["transcript"][0]["message"]
    assert first.startswith("Hi, this is Alex") and "{" not in first


async def test_webhook_data_matches_the_conversation_model(sim: Sim) -> None:
    await call(sim, "+12025550100")
    await sim.state.advance(60)
    assert_conforms(sim.receiver.received[0].event["data"], "GetConversationResponseModel")
