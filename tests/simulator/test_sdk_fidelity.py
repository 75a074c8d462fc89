"""The official `elevenlabs` SDK, pointed at the simulator over real HTTP, accepts every answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from elevenlabs.client import AsyncElevenLabs, ElevenLabs
from fastapi import FastAPI, Request

from leadcall.kit.clock import ManualClock
from leadcall.simulator import SimAccount, SimulatorState, create_simulator_app
from tests.live import serve

KEY = "sk_sdk_fidelity_key_0001"
SECRET = "wsec_sdk_fidelity_0001"


class Sim:
    def __init__(self, state: SimulatorState, account: SimAccount, url: str, received: list[dict[str, Any]]) -> None:
        self.state, self.account, self.url, self.received = state, account, url, received


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    received: list[dict[str, Any]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        received.append({"body": (await request.body()).decode(), "signature": request.headers["elevenlabs-signature"]})
        return {"ok": True}

    clock = ManualClock(start=time.time())  # the SDK checks signatures against the real clock
    state = SimulatorState(clock=clock)
    hook_server, hook_task, hook_url = await serve(receiver)
    account = state.add_account(name="SDK", api_key=KEY, webhook_secret=SECRET, webhook_url=f"{hook_url}/hook")
    state.seed_account(account, language="en")
    server, task, url = await serve(create_simulator_app(state))
    yield Sim(state, account, url, received)
    for s, t in ((server, task), (hook_server, hook_task)):
        s.should_exit = True
        await t


async def test_sdk_reads_agents_voices_numbers_and_places_a_call(sim: Sim) -> None:
    client = AsyncElevenLabs(api_key=KEY, base_url=sim.url)
    agents = await client.conversational_ai.agents.list()
    assert len(agents.agents) == 3 and agents.has_more is False
    agent = await client.conversational_ai.agents.get(agents.agents[0].agent_id)
    assert agent.conversation_config.agent is not None
    assert agent.conversation_config.agent.language == "en"
    voices = await client.voices.get_all()
    assert voices.voices and voices.voices[0].preview_url
    numbers = await client.conversational_ai.phone_numbers.list()
    twilio = next(n for n in numbers if n.provider == "twilio")
    placed = await client.conversational_ai.twilio.outbound_call(
        agent_id=agents.agents[0].agent_id, agent_phone_number_id=twilio.phone_number_id, to_number="+12025550100",
        conversation_initiation_client_data={"dynamic_variables": {"lead_name": "Ana"}},
        request_options={"max_retries": 0})
    assert placed.success is True and placed.conversation_id and placed.call_sid and placed.call_sid.startswith("CA")
    live = await client.conversational_ai.conversations.get(placed.conversation_id)
    assert live.status == "initiated"
    await sim.state.advance(60)
    done = await client.conversational_ai.conversations.get(placed.conversation_id)
    assert done.status == "done"
    assert done.metadata.cost and done.metadata.cost > 0 and done.metadata.cost_fiat
    assert done.analysis is not None and done.analysis.call_successful == "success"
    assert done.transcript and done.transcript[0].role == "agent" and "Ana" in (done.transcript[0].message or "")
    listed = await client.conversational_ai.conversations.list()
    assert listed.conversations[0].conversation_id == placed.conversation_id
    sip = next(n for n in numbers if n.provider == "sip_trunk")
    sip_call = await client.conversational_ai.sip_trunk.outbound_call(
        agent_id=agents.agents[1].agent_id, agent_phone_number_id=sip.phone_number_id, to_number="+12025550101")
    assert sip_call.success and sip_call.sip_call_id


async def test_sdk_sync_client_and_errors(sim: Sim) -> None:
    from elevenlabs.core.api_error import ApiError

    def run() -> None:  # the sync client, in a thread: the simulator serves from this test's loop
        bad = ElevenLabs(api_key="sk_wrong", base_url=sim.url)
        with pytest.raises(ApiError) as info:
            bad.conversational_ai.agents.list()
        assert info.value.status_code == 401
        assert info.value.body["detail"]["code"] == "invalid_api_key"
        good = ElevenLabs(api_key=KEY, base_url=sim.url)
        with pytest.raises(ApiError) as missing:
            good.conversational_ai.conversations.get("conv_missing")
        assert missing.value.status_code == 404
        assert missing.value.body["detail"]["type"] == "not_found"
        assert good.user.get().subscription.tier == "pro"

    await asyncio.to_thread(run)


async def test_sdk_accepts_the_simulators_webhook_signatures(sim: Sim) -> None:
    client = ElevenLabs(api_key=KEY, base_url=sim.url)
    agents = (await AsyncElevenLabs(api_key=KEY, base_url=sim.url).conversational_ai.agents.list()).agents
    phone = next(p for p in sim.account.phones.values() if p.provider == "twilio")
    async with httpx.AsyncClient(base_url=sim.url) as http:
        r = await http.post("/v1/convai/twilio/outbound-call", headers={"xi-api-key": KEY},
                            json={"agent_id": agents[0].agent_id, "agent_phone_number_id": phone.phone_number_id,
                                  "to_number": "+12025550104"})
        assert r.status_code == 200 and set(r.json()) == {"success", "message", "conversation_id", "callSid"}
    await sim.state.advance(60)
    assert sim.received, "the busy call sends call_initiation_failure"
    for delivery in sim.received:
        event = client.webhooks.construct_event(rawBody=delivery["body"], sig_header=delivery["signature"],
                                                secret=SECRET)
        assert event["type"] == "call_initiation_failure"
        assert event["data"]["failure_reason"] == "busy"
    tampered = sim.received[0]["body"].replace("busy", "no-answer")
    with pytest.raises(Exception, match="signature"):
        client.webhooks.construct_event(rawBody=tampered, sig_header=sim.received[0]["signature"], secret=SECRET)
    assert json.loads(sim.received[0]["body"])["event_timestamp"] == int(sim.state.clock.now())
