"""The whole product served over real HTTP on 127.0.0.1, with the simulator mounted at /sim,
in simulated time: tests move the ManualClock, never sleep for a scenario."""

from __future__ import annotations

import asyncio
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from leadcall.app import create_app
from leadcall.core.jobs import InProcessJobs
from leadcall.kit.clock import ManualClock
from leadcall.settings import Settings
from tests.factories import TenantWorld, make_world


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    app: FastAPI
    url: str
    clock: ManualClock
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def simulator(self) -> Any:
        return self.app.state.simulator

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def serve(app: Any, port: int | None = None) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """Serves an ASGI app on 127.0.0.1 from the running event loop; returns once it accepts connections."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    return server, task, f"http://127.0.0.1:{port}"


async def start_live(settings: Settings, clock: ManualClock, **overrides: Any) -> LiveServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The mounted simulator is named as the one origin accounts may point at besides ElevenLabs' own.
    app = create_app(settings.model_copy(update={"public_base_url": url, "simulator_enabled": True,
                                                  "provider_hosts": f"127.0.0.1:{port}", "run_worker": False,
                                                  **overrides}), clock=clock)
    server, task, _ = await serve(app, port)
    return LiveServer(app, url, clock, server, task)


@dataclass
class CallWorld:
    world: TenantWorld
    account_id: str
    sim_account: Any
    agent_ids: list[str]


async def make_call_world(live: LiveServer, client: httpx.AsyncClient, *, language: str = "en",
                          concurrency_limit: int = 4) -> CallWorld:
    """A tenant with one ElevenLabs account on the simulator, its webhooks pointed at us."""
    world = await make_world(live.app)
    sim = live.simulator
    key = f"sk_test_{uuid.uuid4().hex}"
    secret = f"wsec_{uuid.uuid4().hex}"
    sim_account = sim.add_account(name=f"acct-{key[-6:]}", api_key=key, webhook_secret=secret, webhook_url=None,
                                  concurrency_limit=concurrency_limit)
    sim.seed_account(sim_account, language=language)
    r = await client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers, json={
        "name": "Main", "apiKey": key, "webhookSecret": secret, "baseUrl": f"{live.url}/sim",
        "concurrencyLimit": concurrency_limit, "twilioAccountSid": sim_account.twilio_account_sid,
        "twilioAuthToken": sim_account.twilio_auth_token, "twilioBaseUrl": f"{live.url}/sim"})
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["webhookUrl"].startswith(live.url)
    sim_account.webhook_url = account["webhookUrl"]
    agents_r = await client.get("/api/voice/agents/available", headers=world.member.headers)
    assert agents_r.status_code == 200, agents_r.text
    agents = agents_r.json()
    return CallWorld(world, account["id"], sim_account, [a["agentId"] for a in agents])


async def finish_jobs(live: LiveServer) -> None:
    """Let the jobs the web process enqueued after its commits run to their end. In-process jobs are awaited;
    with Redis, whose arq queue no worker serves in these tests, the worker's periodic chores do the same work
    (the budget alerts' re-check of every budget)."""
    jobs = live.app.state.jobs
    if isinstance(jobs, InProcessJobs):
        await jobs.drain()
    else:
        await live.app.state.worker.run_chores()


async def drain_in_process(live: LiveServer) -> None:
    """The embedded shape's webhook applies, run to their end (not every job: a long one, such as a campaign's
    dispatch run, would hold each step up); with Redis nobody serves the arq queue here, and the sweep
    (`run_once`) applies stored webhooks once their job's lease lapses."""
    jobs = live.app.state.jobs
    if isinstance(jobs, InProcessJobs):
        await jobs.drain_lane("process_webhook")


async def play(live: LiveServer, seconds: float, step: float = 2.0) -> None:
    """Let `seconds` of simulated time pass: the simulator moves calls on and sends its
    webhooks over HTTP; our worker polls and processes what is due."""
    worker = live.app.state.worker
    elapsed = 0.0
    while elapsed < seconds:
        await live.simulator.advance(step)
        elapsed += step
        await asyncio.sleep(0.02)  # let what the webhooks scheduled after their commits start
        await drain_in_process(live)  # and run to their end (webhook applies, one at a time)
        await worker.run_once()


async def call_with_alert(live: LiveServer, client: httpx.AsyncClient, victim: CallWorld) -> tuple[str, str, str]:
    """A tenant's completed call whose real cost crossed a budget threshold: (call id, budget id, alert id).
    Alerts are about money spent, not held, so the call must end and its cost settle first."""
    world = victim.world
    placed = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": victim.agent_ids[0]},
                               headers=world.member.headers)
    assert placed.status_code == 200, placed.text
    call_id = str(placed.json()["callLog"]["id"])
    await play(live, 120)
    call = (await client.get(f"/api/calls/{call_id}", headers=world.member.headers)).json()
    assert call["status"] == "completed" and call["cost"], call
    budget = await client.put("/api/budgets", json={"monthlyLimit": max(round(call["cost"] * 1.5, 2), 0.01)},
                              headers=world.admin.headers)
    assert budget.status_code == 200, budget.text
    await live.app.state.billing.check_alerts(world.tenant_id, world.org_id)
    await finish_jobs(live)
    alerts = (await client.get("/api/alerts", headers=world.admin.headers)).json()
    assert alerts, "the call's cost crossed the 50 % threshold"
    return call_id, str(budget.json()["id"]), str(alerts[0]["id"])
