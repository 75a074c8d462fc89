from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from leadcall.kit.clock import ManualClock
from leadcall.simulator import SimAccount, SimulatorState, create_simulator_app

KEY = "sk_unit_0001"


@pytest.fixture
async def sim() -> AsyncIterator[tuple[SimulatorState, SimAccount, httpx.AsyncClient]]:
    state = SimulatorState(clock=ManualClock())
    account = state.add_account(name="Unit", api_key=KEY, webhook_secret="wsec", concurrency_limit=2)
    state.seed_account(account, language="es")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_simulator_app(state)),
                                 base_url="http://sim", headers={"xi-api-key": KEY}) as client:
        yield state, account, client


def call_body(account: SimAccount, to: str, provider: str = "twilio") -> dict[str, str]:
    phone = next(p for p in account.phones.values() if p.provider == provider)
    agent = next(iter(account.agents))
    return {"agent_id": agent, "agent_phone_number_id": phone.phone_number_id, "to_number": to}


async def test_auth_errors_use_elevenlabs_shapes(sim: tuple[SimulatorState, SimAccount, httpx.AsyncClient]) -> None:
    _, _, client = sim
    missing = await client.get("/v1/convai/agents", headers={"xi-api-key": ""})
    assert missing.status_code == 401 and missing.json()["detail"]["code"] == "missing_api_key"
    wrong = await client.get("/v1/convai/agents", headers={"xi-api-key": "nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"]["type"] == "authentication_error"
    unknown = await client.get("/v1/convai/agents/agent_nope")
    assert unknown.status_code == 404 and unknown.json()["detail"]["code"] == "agent_not_found"


async def test_validation_concurrency_and_refusal(sim: tuple[SimulatorState, SimAccount, httpx.AsyncClient]) -> None:
    state, account, client = sim
    invalid = await client.post("/v1/convai/twilio/outbound-call", json={"agent_id": "x"})
    assert invalid.status_code == 422
    assert {tuple(e["loc"]) for e in invalid.json()["detail"]} >= {("body", "to_number")}
    refused = await client.post("/v1/convai/twilio/outbound-call", json=call_body(account, "+12025550106"))
    assert refused.status_code == 400 and not state.conversations
    wrong_kind = await client.post("/v1/convai/sip-trunk/outbound-call", json=call_body(account, "+12025550100"))
    assert wrong_kind.status_code == 400
    for _ in range(2):
        ok = await client.post("/v1/convai/twilio/outbound-call", json=call_body(account, "+12025550108"))
        assert ok.status_code == 200
    busy = await client.post("/v1/convai/twilio/outbound-call", json=call_body(account, "+12025550108"))
    assert busy.status_code == 429 and busy.json()["detail"]["code"] == "concurrent_limit_exceeded"
    assert "retry-after" not in busy.headers
    count = await client.get("/v1/convai/analytics/live-count")
    assert count.json() == {"count": 2}


async def test_fault_switches(sim: tuple[SimulatorState, SimAccount, httpx.AsyncClient]) -> None:
    state, _, client = sim
    state.faults.fail_next = 1
    assert (await client.get("/v1/convai/agents")).status_code == 503
    assert (await client.get("/v1/convai/agents")).status_code == 200
    state.faults.rate_limit_next = 1
    limited = await client.get("/v1/voices")
    assert limited.status_code == 429 and limited.json()["detail"]["code"] == "rate_limit_exceeded"


async def test_status_lifecycle_and_twilio_hang_up(sim: tuple[SimulatorState, SimAccount, httpx.AsyncClient]) -> None:
    state, account, client = sim
    placed = (await client.post("/v1/convai/twilio/outbound-call", json=call_body(account, "+12025550108"))).json()
    conv_url = f"/v1/convai/conversations/{placed['conversation_id']}"
    assert (await client.get(conv_url)).json()["status"] == "initiated"
    await state.advance(20)
    assert (await client.get(conv_url)).json()["status"] == "in-progress"
    hang_up = f"/2010-04-01/Accounts/{account.twilio_account_sid}/Calls/{placed['callSid']}.json"
    refused = await client.post(hang_up, data={"Status": "completed"}, headers={"Authorization": "Basic eDp5"})
    assert refused.status_code == 401
    auth = base64.b64encode(f"{account.twilio_account_sid}:{account.twilio_auth_token}".encode()).decode()
    ended = await client.post(hang_up, data={"Status": "completed"}, headers={"Authorization": f"Basic {auth}"})
    assert ended.status_code == 200 and ended.json()["status"] == "completed"
    await state.advance(10)
    final = (await client.get(conv_url)).json()
    assert final["status"] == "done" and final["metadata"]["termination_reason"] == "Call ended by remote party"
    assert final["metadata"]["call_duration_secs"] == 14
    audio = await client.get(conv_url + "/audio")
    assert audio.status_code == 200 and audio.content[:2] == b"\xff\xfb"
