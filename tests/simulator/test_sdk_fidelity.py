"""The official `elevenlabs` SDK, pointed at the simulator over real HTTP (uvicorn on
127.0.0.1), accepts every answer, and its `construct_event` accepts the webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from elevenlabs.client import AsyncElevenLabs, ElevenLabs
from elevenlabs.core.api_error import ApiError

from leadcall.kit.clock import ManualClock
from leadcall.simulator import SimAccount, SimulatorState, create_simulator_app
from tests.live import serve
from tests.simulator.harness import Receiver

KEY = "sk_sdk_fidelity_0001"
SECRET = "wsec_sdk_fidelity_0001"
NO_RETRY = {"max_retries": 0}


@dataclass
class Served:
    state: SimulatorState
    clock: ManualClock
    account: SimAccount
    url: str
    receiver: Receiver


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    receiver = Receiver()
    hook_server, hook_task, hook_url = await serve(receiver.app())
    clock = ManualClock(start=time.time())  # construct_event checks `t` against the real clock
    state = SimulatorState(clock=clock)
    account = state.add_account(name="SDK", api_key=KEY, webhook_secret=SECRET,
                                webhook_url=f"{hook_url}/hooks/elevenlabs")
    state.seed_account(account, language="en")
    server, task, url = await serve(create_simulator_app(state))
    yield Served(state, clock, account, url, receiver)
    for s, t in ((server, task), (hook_server, hook_task)):
        s.should_exit = True
        await t


async def test_async_sdk_reads_everything_places_calls_and_verifies_webhooks(served: Served) -> None:
    client = AsyncElevenLabs(api_key=KEY, base_url=served.url)
    agents = await client.conversational_ai.agents.list()
    assert len(agents.agents) == 3 and agents.has_more is False
    agent = await client.conversational_ai.agents.get(agents.agents[0].agent_id)
    assert agent.conversation_config.agent is not None and agent.conversation_config.agent.language == "en"
    assert agent.conversation_config.tts is not None and agent.conversation_config.tts.voice_id
    assert agent.platform_settings is not None and agent.platform_settings.call_limits is not None
    assert agent.platform_settings.call_limits.agent_concurrency_limit == -1
    updated = await client.conversational_ai.agents.update(agent.agent_id, name="Ava 2", tags=["vip"])
    assert updated.name == "Ava 2" and updated.tags == ["vip"]
    voices = await client.voices.get_all()
    preview = voices.voices[0].preview_url
    assert preview and preview.startswith(served.url)
    async with httpx.AsyncClient() as plain:
        assert (await plain.get(preview)).headers["content-type"] == "audio/mpeg"
    workspace = await client.conversational_ai.settings.get()
    assert workspace.webhooks is not None and workspace.webhooks.post_call_webhook_id
    hooks = await client.webhooks.list()
    [hook] = [h for h in hooks.webhooks if h.webhook_id == workspace.webhooks.post_call_webhook_id]
    assert hook.webhook_url.endswith("/hooks/elevenlabs") and hook.is_disabled is False
    numbers = await client.conversational_ai.phone_numbers.list()
    assert sorted(n.provider for n in numbers) == ["sip_trunk", "twilio"]
    twilio_number = next(n for n in numbers if n.provider == "twilio")
    sip_number = next(n for n in numbers if n.provider == "sip_trunk")
    user = await client.user.get()
    assert user.subscription.tier == "pro"
    subscription = await client.user.subscription.get()
    assert subscription.status == "active"

    placed = await client.conversational_ai.twilio.outbound_call(
        agent_id=agent.agent_id, agent_phone_number_id=twilio_number.phone_number_id, to_number="+12025550100",
        conversation_initiation_client_data={"dynamic_variables": {"lead_first_name": "Pat"}},
        request_options=NO_RETRY)
    assert placed.success is True and placed.call_sid and placed.call_sid.startswith("CA")
    sip = await client.conversational_ai.sip_trunk.outbound_call(
        agent_id=agent.agent_id, agent_phone_number_id=sip_number.phone_number_id, to_number="+12025550103",
        request_options=NO_RETRY)
    assert sip.success is True and sip.sip_call_id
    assert placed.conversation_id is not None and sip.conversation_id is not None
    ringing = await client.conversational_ai.conversations.get(placed.conversation_id)
    assert ringing.status == "initiated"

    await served.state.advance(60)
    done = await client.conversational_ai.conversations.get(placed.conversation_id)
    assert done.status == "done" and done.metadata.cost and done.metadata.cost > 0
    assert done.metadata.call_duration_secs > 0 and done.metadata.cost_fiat
    assert done.analysis is not None and done.analysis.call_successful == "success"
    assert done.transcript[0].role == "agent" and done.transcript[0].message and "Pat" in done.transcript[0].message
    assert done.metadata.phone_call is not None and done.metadata.phone_call.type == "twilio"
    failed = await client.conversational_ai.conversations.get(sip.conversation_id)
    assert failed.status == "failed" and failed.metadata.cost == 0
    listed = await client.conversational_ai.conversations.list(agent_id=agent.agent_id)
    assert {c.conversation_id for c in listed.conversations} == {placed.conversation_id, sip.conversation_id}
    audio = b"".join([chunk async for chunk in client.conversational_ai.conversations.audio.get(placed.conversation_id)])
    assert audio[:2] == b"\xff\xfb"

    # Every delivered webhook passes the SDK's own verification.
    assert sorted(served.receiver.types()) == ["call_initiation_failure", "post_call_audio", "post_call_transcription"]
    for received in served.receiver.received:
        event = client.webhooks.construct_event(rawBody=received.body.decode(), sig_header=received.signature,
                                                secret=SECRET)
        assert event["type"] == received.type
    with pytest.raises(ApiError):
        client.webhooks.construct_event(rawBody=served.receiver.received[0].body.decode() + " ",
                                        sig_header=served.receiver.received[0].signature, secret=SECRET)


async def test_sync_sdk_sees_elevenlabs_errors(served: Served) -> None:
    def calls() -> list[int | None]:
        statuses: list[int | None] = []
        bad = ElevenLabs(api_key="sk_wrong", base_url=served.url)
        good = ElevenLabs(api_key=KEY, base_url=served.url)
        agent_id = next(iter(served.account.agents))
        phone_id = next(p.phone_number_id for p in served.account.phones.values() if p.provider == "twilio")
        for attempt in (lambda: bad.conversational_ai.agents.list(),
                        lambda: good.conversational_ai.conversations.get("conv_nope"),
                        lambda: good.conversational_ai.twilio.outbound_call(
                            agent_id=agent_id, agent_phone_number_id=phone_id, to_number="+12025550106",
                            request_options=NO_RETRY)):
            try:
                attempt()
            except ApiError as exc:
                statuses.append(exc.status_code)
        served.state.faults.rate_limit_next = 1
        try:
            good.conversational_ai.twilio.outbound_call(agent_id=agent_id, agent_phone_number_id=phone_id,
                                                        to_number="+12025550100", request_options=NO_RETRY)
        except ApiError as exc:
            statuses.append(exc.status_code)
        return statuses

    assert await asyncio.to_thread(calls) == [401, 404, 400, 429]
    assert served.state.conversations == {}  # no retry placed a call behind our back


async def test_injected_timeout_makes_a_real_client_time_out(served: Served) -> None:
    served.state.faults.timeout_next, served.state.faults.timeout_seconds = 1, 0.5
    async with httpx.AsyncClient(base_url=served.url, headers={"xi-api-key": KEY}) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v1/convai/agents", timeout=0.1)
        assert (await client.get("/v1/convai/agents")).status_code == 200
