"""The HTTP surface: shapes (checked against the official OpenAPI document), auth, errors,
limits, fault switches, webhook faults, the Twilio hang-up stand-in and mounting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from leadcall.kit.clock import SystemClock
from leadcall.simulator import (
    DEMO_ACCOUNTS,
    DEMO_ES_API_KEY,
    SimulatorState,
    create_simulator_app,
    seed_demo_accounts,
)
from tests.simulator.harness import KEY, Receiver, Sim
from tests.simulator.openapi_check import assert_conforms, assert_response_conforms

LONG = "+12025550108"


async def get_ok(sim: Sim, path: str, **params: Any) -> Any:
    r = await sim.client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_read_routes_answer_the_documented_shapes(sim: Sim) -> None:
    agents = await get_ok(sim, "/v1/convai/agents")
    assert_response_conforms(agents, "get", "/v1/convai/agents")
    assert len(agents["agents"]) == 3 and agents["has_more"] is False
    agent = await get_ok(sim, f"/v1/convai/agents/{sim.agent_id}")
    assert_response_conforms(agent, "get", "/v1/convai/agents/{agent_id}")
    config = agent["conversation_config"]
    assert config["agent"]["language"] == "en" and config["agent"]["first_message"] and config["agent"]["prompt"]["prompt"]
    assert config["tts"]["voice_id"] in sim.account.voices
    assert agent["platform_settings"]["call_limits"] == {"agent_concurrency_limit": -1, "daily_limit": 100000,
                                                         "bursting_enabled": True}
    assert [p["provider"] for p in agent["phone_numbers"]] == ["twilio"]
    voices = await get_ok(sim, "/v1/voices")
    assert_response_conforms(voices, "get", "/v1/voices")
    numbers = await get_ok(sim, "/v1/convai/phone-numbers")
    assert_response_conforms(numbers, "get", "/v1/convai/phone-numbers")
    assert sorted(n["provider"] for n in numbers) == ["sip_trunk", "twilio"]
    assert all(n["assigned_agent"]["agent_id"] in sim.account.agents for n in numbers)
    assert await get_ok(sim, "/v1/convai/phone-numbers", provider="sip_trunk") == [
        n for n in numbers if n["provider"] == "sip_trunk"]
    one = await get_ok(sim, f"/v1/convai/phone-numbers/{sim.phone_id('sip_trunk')}")
    assert_response_conforms(one, "get", "/v1/convai/phone-numbers/{phone_number_id}")
    assert_response_conforms(await get_ok(sim, "/v1/user"), "get", "/v1/user")
    assert_response_conforms(await get_ok(sim, "/v1/user/subscription"), "get", "/v1/user/subscription")
    assert_response_conforms(await get_ok(sim, "/v1/convai/analytics/live-count"), "get",
                             "/v1/convai/analytics/live-count")


async def test_outbound_answers_match_the_spec_and_record_client_data(sim: Sim) -> None:
    twilio = await sim.place("+12025550100", variables={"lead_name": "Ana", "vip": True})
    assert_conforms(twilio.json(), "TwilioOutboundCallResponse")
    body = twilio.json()
    assert body["success"] is True and body["callSid"].startswith("CA") and len(body["callSid"]) == 34
    assert int(body["callSid"][2:], 16) >= 0
    sip = await sim.place("+12025550101", provider="sip_trunk")
    assert_conforms(sip.json(), "SIPTrunkOutboundCallResponse")
    assert sip.json()["sip_call_id"]
    conversation = await sim.conversation(body["conversation_id"])
    assert conversation["metadata"]["phone_call"]["call_sid"] == body["callSid"]
    assert conversation["conversation_initiation_client_data"]["dynamic_variables"] == {"lead_name": "Ana", "vip": True}
    listed = await get_ok(sim, "/v1/convai/conversations")
    assert_response_conforms(listed, "get", "/v1/convai/conversations")
    assert {c["conversation_id"] for c in listed["conversations"]} == {body["conversation_id"],
                                                                      sip.json()["conversation_id"]}


async def test_lists_page_with_cursors_and_filter(sim: Sim) -> None:
    first = await get_ok(sim, "/v1/convai/agents", page_size=2)
    assert len(first["agents"]) == 2 and first["has_more"] is True
    rest = await get_ok(sim, "/v1/convai/agents", page_size=2, cursor=first["next_cursor"])
    assert len(rest["agents"]) == 1 and rest["has_more"] is False and rest["next_cursor"] is None
    assert [a["name"] for a in (await get_ok(sim, "/v1/convai/agents", search="chloe"))["agents"]] == ["Chloe — Follow-up"]
    other_agent = list(sim.account.agents)[1]
    for _ in range(3):
        await sim.place("+12025550100")
    await sim.place("+12025550100", agent_id=other_agent)
    page = await get_ok(sim, "/v1/convai/conversations", page_size=2, agent_id=sim.agent_id)
    assert len(page["conversations"]) == 2 and page["has_more"] is True
    tail = await get_ok(sim, "/v1/convai/conversations", page_size=2, agent_id=sim.agent_id, cursor=page["next_cursor"])
    assert len(tail["conversations"]) == 1 and tail["has_more"] is False
    assert (await sim.client.get("/v1/convai/agents", params={"cursor": "nope"})).json()["detail"]["code"] == \
        "invalid_cursor"


async def test_patch_agent_deep_merges_and_returns_the_agent(sim: Sim) -> None:
    voice = list(sim.account.voices)[3]
    r = await sim.client.patch(f"/v1/convai/agents/{sim.agent_id}", json={
        "name": "Renamed", "tags": ["vip"],
        "conversation_config": {"agent": {"first_message": "Hello {{lead_first_name}}!"}, "tts": {"voice_id": voice}},
        "platform_settings": {"call_limits": {"agent_concurrency_limit": 1}}})
    assert r.status_code == 200, r.text
    agent = r.json()
    assert_response_conforms(agent, "patch", "/v1/convai/agents/{agent_id}")
    assert agent["name"] == "Renamed" and agent["tags"] == ["vip"]
    assert agent["conversation_config"]["agent"]["first_message"] == "Hello {{lead_first_name}}!"
    assert agent["conversation_config"]["agent"]["language"] == "en"  # kept: merged, not replaced
    assert agent["conversation_config"]["agent"]["prompt"]["prompt"]
    assert agent["conversation_config"]["tts"] == {**agent["conversation_config"]["tts"], "voice_id": voice}
    assert agent["platform_settings"]["call_limits"]["daily_limit"] == 100000
    assert await get_ok(sim, f"/v1/convai/agents/{sim.agent_id}") == agent
    # The agent's own limit now applies.
    assert (await sim.place(LONG)).status_code == 200
    limited = await sim.place(LONG)
    assert limited.status_code == 429 and limited.json()["detail"]["code"] == "concurrent_limit_exceeded"
    missing = await sim.client.patch(f"/v1/convai/agents/{sim.agent_id}",
                                     json={"conversation_config": {"tts": {"voice_id": "nope"}}})
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "voice_not_found"


@pytest.mark.parametrize(("headers", "code"), [({}, "missing_api_key"), ({"xi-api-key": "sk_wrong"}, "invalid_api_key")])
@pytest.mark.parametrize("path", ["/v1/convai/agents", "/v1/voices", "/v1/user", "/v1/convai/conversations/conv_x"])
async def test_requests_without_a_valid_key_get_401(sim: Sim, headers: dict[str, str], code: str, path: str) -> None:
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test", headers=headers) as anon:
        r = await anon.get(path)
    assert r.status_code == 401
    detail = r.json()["detail"]
    assert detail["type"] == "authentication_error" and detail["code"] == code and detail["status"] == code
    assert detail["message"]


@pytest.mark.parametrize(("path", "code"), [("/v1/convai/agents/agent_nope", "agent_not_found"),
                                            ("/v1/convai/conversations/conv_nope", "conversation_not_found"),
                                            ("/v1/convai/conversations/conv_nope/audio", "conversation_not_found"),
                                            ("/v1/convai/phone-numbers/phnum_nope", "phone_number_not_found")])
async def test_unknown_ids_get_404(sim: Sim, path: str, code: str) -> None:
    r = await sim.client.get(path)
    assert r.status_code == 404 and r.json()["detail"]["type"] == "not_found" and r.json()["detail"]["code"] == code


async def test_another_accounts_conversation_is_not_found(sim: Sim) -> None:
    other = sim.state.add_account(name="Other", api_key="sk_other", webhook_secret="w")
    sim.state.seed_account(other)
    cid = (await sim.place("+12025550100")).json()["conversation_id"]
    r = await sim.client.get(f"/v1/convai/conversations/{cid}", headers={"xi-api-key": "sk_other"})
    assert r.status_code == 404


async def test_outbound_validation_errors(sim: Sim) -> None:
    body = {"agent_id": sim.agent_id, "agent_phone_number_id": sim.phone_id()}
    r = await sim.client.post("/v1/convai/twilio/outbound-call", json=body)
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "missing", "loc": ["body", "to_number"], "msg": "Field required",
                                    "input": body}]}
    wrong = await sim.client.post("/v1/convai/sip-trunk/outbound-call", json={**body, "to_number": "+12025550100"})
    assert wrong.status_code == 400 and wrong.json()["detail"]["code"] == "invalid_phone_number_provider"
    bad_number = await sim.place("555-0100")
    assert bad_number.status_code == 400 and bad_number.json()["detail"]["code"] == "invalid_phone_number"
    no_agent = await sim.place("+12025550100", agent_id="agent_nope")
    assert no_agent.status_code == 404 and no_agent.json()["detail"]["code"] == "agent_not_found"


async def test_workspace_concurrency_limit_answers_429_until_a_call_ends(sim: Sim) -> None:
    for _ in range(4):
        assert (await sim.place(LONG)).status_code == 200
    r = await sim.place("+12025550100")
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert r.json()["detail"] | {"message": "", "request_id": ""} == {
        "type": "rate_limit_error", "code": "concurrent_limit_exceeded", "status": "too_many_concurrent_requests",
        "message": "", "request_id": ""}
    assert (await get_ok(sim, "/v1/convai/analytics/live-count")) == {"count": 4}
    await sim.state.advance(700)
    assert (await sim.place("+12025550100")).status_code == 200


async def test_fault_switches(sim: Sim) -> None:
    faults = sim.state.faults
    faults.fail_next = 2
    for _ in range(2):
        r = await sim.client.get("/v1/convai/agents")
        assert r.status_code == 503 and r.json()["detail"]["code"] == "internal_error"
    assert (await sim.client.get("/v1/convai/agents")).status_code == 200
    faults.fail_next, faults.fail_status = 1, 500
    failed = await sim.place("+12025550100")
    assert failed.status_code == 500 and failed.json()["detail"]["type"] == "internal_error"
    assert sim.state.conversations == {}  # a failed placement places nothing
    faults.rate_limit_next = 1
    limited = await sim.client.get("/v1/voices")
    assert limited.status_code == 429 and limited.json()["detail"]["code"] == "rate_limit_exceeded"
    faults.timeout_next, faults.timeout_seconds = 1, 0.1
    began = time.perf_counter()
    assert (await sim.client.get("/v1/user")).status_code == 200  # held, then answered
    assert time.perf_counter() - began >= 0.1 and faults.timeout_next == 0
    faults.slow_seconds = 0.05
    began = time.perf_counter()
    assert (await sim.client.get("/v1/user")).status_code == 200
    assert time.perf_counter() - began >= 0.05


@pytest.mark.parametrize(("switch", "expected"), [
    ("drop_webhooks", []),
    ("reverse_webhooks", ["post_call_audio", "post_call_transcription"]),
    ("duplicate_webhooks", ["post_call_transcription", "post_call_transcription", "post_call_audio",
                            "post_call_audio"]),
])
async def test_webhook_fault_switches(sim: Sim, switch: str, expected: list[str]) -> None:
    setattr(sim.state.faults, switch, True)
    await sim.place("+12025550100")
    await sim.state.advance(60)
    assert sim.receiver.types() == expected
    assert [d.type for d in sim.state.deliveries] == expected


async def test_failed_deliveries_are_recorded_not_raised(sim: Sim) -> None:
    sim.receiver.status_code = 500
    cid = (await sim.place("+12025550103")).json()["conversation_id"]
    await sim.state.advance(60)
    assert [(d.type, d.status_code, d.conversation_id, d.ok) for d in sim.state.deliveries] == [
        ("call_initiation_failure", 500, cid, False)]
    sim.state.webhook_transport = None
    sim.account.webhook_url = "http://127.0.0.1:9/unreachable"
    await sim.place("+12025550104")
    await sim.state.advance(60)
    last = sim.state.deliveries[-1]
    assert last.status_code is None and last.error and last.url.endswith("/unreachable")


async def test_no_webhook_url_means_no_delivery(sim: Sim) -> None:
    sim.account.webhook_url = None
    await sim.place("+12025550100")
    await sim.state.advance(60)
    assert sim.state.deliveries == []


def twilio_auth(sim: Sim, token: str | None = None) -> tuple[str, str]:
    return sim.account.twilio_account_sid, token or sim.account.twilio_auth_token


async def hang_up(sim: Sim, call_sid: str, status: str = "completed", token: str | None = None) -> httpx.Response:
    sid = sim.account.twilio_account_sid
    return await sim.client.post(f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json", data={"Status": status},
                                 auth=twilio_auth(sim, token))


async def test_twilio_hang_up_ends_a_long_call_and_the_webhooks_follow(sim: Sim) -> None:
    placed = (await sim.place(LONG)).json()
    await sim.state.advance(60)
    assert (await hang_up(sim, placed["callSid"], "canceled")).json()["status"] == "in-progress"  # Twilio ignores it
    r = await hang_up(sim, placed["callSid"])
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["sid"] == placed["callSid"]
    ended = await sim.conversation(placed["conversation_id"])
    assert ended["status"] == "processing" and ended["metadata"]["call_duration_secs"] == 55
    await sim.state.advance(10)
    done = await sim.conversation(placed["conversation_id"])
    assert done["status"] == "done" and done["metadata"]["termination_reason"] == "Call ended by remote party"
    assert done["metadata"]["cost"] == round(55 * 400 / 60)
    assert sim.receiver.types() == ["post_call_transcription", "post_call_audio"]
    assert (await get_ok(sim, "/v1/convai/analytics/live-count")) == {"count": 0}


async def test_twilio_cancel_while_ringing_fails_the_call(sim: Sim) -> None:
    placed = (await sim.place("+12025550100")).json()
    await sim.state.advance(2)
    assert (await hang_up(sim, placed["callSid"], "canceled")).json()["status"] == "canceled"
    await sim.state.advance(0)
    failed = await sim.conversation(placed["conversation_id"])
    assert failed["status"] == "failed" and "canceled" in failed["metadata"]["termination_reason"]
    assert failed["metadata"]["cost"] == 0 and failed["transcript"] == []
    assert sim.receiver.types() == ["call_initiation_failure"]
    assert sim.receiver.received[0].event["data"]["metadata"]["body"]["CallStatus"] == "canceled"


async def test_twilio_stand_in_checks_auth_and_call_sid(sim: Sim) -> None:
    placed = (await sim.place(LONG)).json()
    assert (await hang_up(sim, placed["callSid"], token="wrong")).status_code == 401
    assert (await hang_up(sim, "CA" + "0" * 32)).status_code == 404
    assert (await hang_up(sim, placed["callSid"], status="ringing")).status_code == 400
    assert (await sim.conversation(placed["conversation_id"]))["status"] == "initiated"


async def test_mounted_app_links_previews_under_its_mount_path() -> None:
    state = SimulatorState(clock=SystemClock())
    seed_demo_accounts(state, webhook_url=None)
    host = FastAPI()
    host.mount("/sim", create_simulator_app(state))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://host.test") as client:
        r = await client.get("/sim/v1/voices", headers={"xi-api-key": DEMO_ES_API_KEY})
        assert r.status_code == 200, r.text
        url = r.json()["voices"][0]["preview_url"]
        assert url.startswith("http://host.test/sim/sim-assets/voices/") and url.endswith("/preview.mp3")
        audio = await client.get(url)  # public: no key
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
        assert audio.content[:2] == b"\xff\xfb"
        assert (await client.get("/sim/sim-assets/voices/nope/preview.mp3")).status_code == 404


async def test_base_url_path_prefixes_every_route(sim: Sim) -> None:
    app = create_simulator_app(sim.state, base_url_path="/el/")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test",
                                 headers={"xi-api-key": KEY}) as client:
        voices = (await client.get("/el/v1/voices")).json()["voices"]
        assert voices[0]["preview_url"].startswith("http://sim.test/el/sim-assets/")
        assert (await client.get(voices[0]["preview_url"])).status_code == 200
        assert (await client.get("/v1/voices")).status_code == 404


async def test_demo_accounts_have_fixed_credentials_and_seeded_resources() -> None:
    state = SimulatorState(clock=SystemClock())
    accounts = seed_demo_accounts(state, webhook_url="http://example.invalid/hook")
    assert [(a.name, a.api_key) for a in accounts] == [(d["name"], d["api_key"]) for d in DEMO_ACCOUNTS]
    spanish, english = accounts
    assert {a.language for a in spanish.agents.values()} == {"es"}
    assert {a.language for a in english.agents.values()} == {"en"}
    assert all(len(a.agents) == 3 and len(a.phones) == 2 and len(a.voices) == 4 for a in accounts)
    assert spanish.twilio_account_sid == DEMO_ACCOUNTS[0]["twilio_account_sid"]
    again = SimulatorState(clock=SystemClock())
    assert set(seed_demo_accounts(again)[0].agents) == set(spanish.agents)  # stable ids across restarts


async def test_background_ticker_moves_calls_in_real_time_at_speed() -> None:
    receiver = Receiver()
    state = SimulatorState(clock=SystemClock(), speed=2000, webhook_transport=httpx.ASGITransport(app=receiver.app()))
    account = state.add_account(name="Fast", api_key="sk_fast", webhook_secret="w",
                                webhook_url="http://receiver.test/hooks/elevenlabs")
    state.seed_account(account)
    app = create_simulator_app(state)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sim.test", headers={"xi-api-key": "sk_fast"}) as c:
        phone = next(p for p in account.phones.values() if p.provider == "twilio")
        r = await c.post("/v1/convai/twilio/outbound-call", json={
            "agent_id": phone.agent_id, "agent_phone_number_id": phone.phone_number_id, "to_number": "+12025550100"})
        for _ in range(50):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
        assert receiver.types()[:1] == ["post_call_transcription"]
        assert (await c.get(f"/v1/convai/conversations/{r.json()['conversation_id']}")).json()["status"] == "done"
