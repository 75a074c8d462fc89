"""kill -9 in the middle of a dial, in both shapes: ElevenLabs has accepted the call (the phone
rings) but the web process dies before it records the answer. Nothing is lost and nothing is
dialled twice: the call is confirmed by our id and ends as the provider says.

Real processes in real time: `leadcall serve` (and `leadcall worker` in the scale-out shape)
against a simulator served from this test process (×10 speed), so the test sees what the
provider has and can hold its answer to the dial while the web process is killed. Every wait is
bounded and ends as soon as the awaited state is seen.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from leadcall.kit.clock import SystemClock
from leadcall.settings import Settings
from leadcall.simulator import SimAccount, SimulatorState, create_simulator_app
from tests.factories import TenantWorld
from tests.live import free_port, serve
from tests.scale.test_multiprocess import REDIS_URL, Processes, wait_until_up

NUMBER = "+12025550100"  # answered, interested


@dataclass
class Provider:
    state: SimulatorState
    account: SimAccount
    url: str

    def dialled(self) -> list[Any]:
        return [c for c in self.state.conversations_for(self.account) if c.to_number == NUMBER]


@pytest.fixture
async def quiet(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The test process's own app shares the database and, embedded, runs a worker on the tests' manual
    clock: it must not take part in the real-time processes' work."""
    await app.state.worker.stop()
    yield
    if settings.run_worker and settings.redis_url is None:  # as the app started it
        app.state.worker.start()


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    state = SimulatorState(clock=SystemClock(), speed=10)
    account = state.add_account(name="Kill", api_key=f"sk_kill_{uuid.uuid4().hex}",
                                webhook_secret=f"wsec_{uuid.uuid4().hex}", concurrency_limit=10)
    state.seed_account(account)
    server, task, url = await serve(create_simulator_app(state))
    yield Provider(state, account, url)
    server.should_exit = server.force_exit = True  # the held answer's request is not waited for
    await task


async def connect(web: str, world: TenantWorld, provider: Provider) -> str:
    """The tenant's account on the simulator, its webhooks pointed at us; returns an agent id."""
    async with httpx.AsyncClient(base_url=web, timeout=30) as client:
        r = await client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers, json={
            "name": "Kill", "apiKey": provider.account.api_key, "webhookSecret": provider.account.webhook_secret,
            "baseUrl": provider.url, "concurrencyLimit": 10})
        assert r.status_code == 201, r.text
        provider.account.webhook_url = r.json()["webhookUrl"]
        agents = (await client.get("/api/voice/agents/available", headers=world.member.headers)).json()
    return str(agents[0]["agentId"])


async def kill_mid_dial(processes: Processes, web: Any, url: str, world: TenantWorld, provider: Provider,
                        agent_id: str) -> None:
    """Place a call whose answer the provider holds, and kill -9 the web process once the phone rings."""
    provider.state.faults.hold_after_placing_next, provider.state.faults.hold_seconds = 1, 60

    async def dial() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=90) as client:
            await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": agent_id},
                              headers=world.member.headers)

    dialling = asyncio.create_task(dial())
    for _ in range(400):  # up to 20 s
        if provider.dialled():
            break
        await asyncio.sleep(0.05)
    assert len(provider.dialled()) == 1, "the provider accepted the call"
    web.send_signal(signal.SIGKILL)
    web.wait(timeout=10)
    with pytest.raises(httpx.HTTPError):
        await dialling  # the answer never came: the process died


async def the_call(client: httpx.AsyncClient, world: TenantWorld) -> dict[str, Any]:
    history = (await client.get(f"/api/leads/{world.lead_ids[0]}/calls", headers=world.member.headers)).json()
    assert len(history["items"]) == 1, history
    return dict(history["items"][0])


async def settles_as_the_provider_says(client: httpx.AsyncClient, world: TenantWorld, provider: Provider,
                                       agent_id: str, *, found_by: str) -> None:
    call = await the_call(client, world)
    assert call["status"] == "initiating" and call["elevenLabsJobId"] is None
    again = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": agent_id},
                              headers=world.member.headers)
    assert again.status_code == 409 and again.json()["code"] == "lead_already_on_call", again.text
    deadline = time.monotonic() + 120
    while call["status"] not in ("completed", "failed", "canceled") and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        call = await the_call(client, world)
    rang = provider.dialled()
    assert len(rang) == 1, "dialled exactly once"
    assert rang[0].status(provider.state.now()) == "done"
    assert (call["status"], call["outcome"], call["elevenLabsJobId"]) == ("completed", "interested",
                                                                         rang[0].conversation_id), call
    assert call["transcription"] and call["cost"] and call["cost"] > 0 and call["placementState"] == "placed"
    trail = (await client.get(f"/api/calls/{call['id']}/events", headers=world.member.headers)).json()
    ringing = next(e for e in trail if e["toStatus"] == "ringing")
    assert found_by in ringing["detail"], ringing
    if found_by == "found at ElevenLabs by our id":  # the reconciler said what it was doing first
        confirming = [e for e in trail if e["kind"] == "confirming"]
        assert len(confirming) == 1 and "server stopped" in confirming[0]["detail"]
    statuses = [e["toStatus"] for e in trail if e["kind"] in ("created", "status")]
    assert statuses[0] == "initiating" and statuses[1] == "ringing" and statuses[-1] == "completed"
    assert len(statuses) == len(set(statuses))


async def test_kill_9_mid_dial_embedded(settings: Settings, world: TenantWorld, provider: Provider,
                                        quiet: None) -> None:
    """One `leadcall serve` (its own worker inside, no Redis), killed and started again. No webhook
    arrives: only the reconciler, asking ElevenLabs for our id, can find the call."""
    provider.state.faults.drop_webhooks = True
    processes = Processes(settings)
    processes.env.pop("LEADCALL_REDIS_URL", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    host = provider.url.removeprefix("http://")
    env = {"LEADCALL_PUBLIC_BASE_URL": url, "LEADCALL_PROVIDER_HOSTS": host}
    try:
        web = processes.start("serve", "--port", str(port), **env)
        await wait_until_up(f"{url}/health", within=90)
        agent_id = await connect(url, world, provider)
        await kill_mid_dial(processes, web, url, world, provider, agent_id)
        processes.start("serve", "--port", str(port), **env)
        await wait_until_up(f"{url}/health", within=90)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            await settles_as_the_provider_says(client, world, provider, agent_id,
                                               found_by="found at ElevenLabs by our id")
    finally:
        processes.stop_all()


@pytest.mark.parametrize("webhooks", [True, False], ids=["webhook", "reconciler"])
async def test_kill_9_mid_dial_scale_out(settings: Settings, world: TenantWorld, provider: Provider,
                                         quiet: None, webhooks: bool) -> None:
    """Two web processes and a worker on PostgreSQL + Redis; the one dialling is killed. The call's
    transcription webhook reaches the other process and names the call by our id; without webhooks
    the worker process's reconciler finds it at ElevenLabs by our id."""
    if settings.is_sqlite or not REDIS_URL:
        pytest.skip("the scale-out shape runs in the PostgreSQL + Redis pass of ./dev test")
    provider.state.faults.drop_webhooks = not webhooks
    processes = Processes(settings)
    processes.env["LEADCALL_PROVIDER_HOSTS"] = provider.url.removeprefix("http://")
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    try:
        web_a = processes.start("serve", "--port", str(port_a), LEADCALL_PUBLIC_BASE_URL=url_b)
        processes.start("serve", "--port", str(port_b), LEADCALL_PUBLIC_BASE_URL=url_b)
        processes.start("worker")
        await wait_until_up(f"{url_a}/health", within=90)
        await wait_until_up(f"{url_b}/health", within=90)
        agent_id = await connect(url_a, world, provider)
        await kill_mid_dial(processes, web_a, url_a, world, provider, agent_id)
        async with httpx.AsyncClient(base_url=url_b, timeout=30) as client:
            await settles_as_the_provider_says(client, world, provider, agent_id, found_by=(
                "its webhook carries our id" if webhooks else "found at ElevenLabs by our id"))
    finally:
        processes.stop_all()
