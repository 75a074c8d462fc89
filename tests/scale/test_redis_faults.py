"""The scale-out shape through a Redis outage mid-calls: two web processes, a worker and the simulator as
separate processes on PostgreSQL and a private Redis. The worker is killed and Redis goes away while calls
are live (their webhooks arrive meanwhile); Redis comes back empty, a new worker starts, and every call
reaches the final status its scenario says, once; an SSE client of the other web process is told to resync
and receives live events again; placing meanwhile answers 503 redis_unavailable.

Real processes run in real time here; the simulator runs fast (×10) and every wait is bounded and ends as
soon as the awaited state is seen.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from leadcall.core.events import RESYNC
from leadcall.settings import Settings
from leadcall.simulator import DEMO_ACCOUNTS
from tests.factories import TenantWorld
from tests.redis_server import PrivateRedis, running_private_redis
from tests.scale.test_multiprocess import Processes, available_agents, start_stack, wait_for_status, wait_until_up

pytestmark = pytest.mark.scale

# Scenario number → (final status, outcome) as the simulator plays it; 0109 sends no webhook (polling only).
CALLS = {
    "+12025550100": ("completed", "interested"),
    "+12025550101": ("completed", "not_interested"),
    "+12025550103": ("failed", "no_answer"),
    "+12025550104": ("failed", "busy"),
    "+12025550105": ("completed", "voicemail"),
    "+12025550109": ("completed", None),
}
DEMO = DEMO_ACCOUNTS[1]


@pytest.fixture(scope="module", autouse=True)
def needs_postgres(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("the scale-out shape runs in the PostgreSQL pass of ./dev test")


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    with running_private_redis() as server:
        yield server


@pytest.fixture
def processes(settings: Settings, redis: PrivateRedis) -> Iterator[Processes]:
    procs = Processes(settings)
    procs.env.update({"LEADCALL_REDIS_URL": redis.url, "LEADCALL_REDIS_TIMEOUT_SECONDS": "1"})
    yield procs
    procs.stop_all()


class Listener:
    """An SSE client of one web process, keeping every event it receives."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.events: list[dict[str, Any]] = []
        self._task = asyncio.get_running_loop().create_task(self._listen(url, headers))

    async def _listen(self, url: str, headers: dict[str, str]) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=None) as client, client.stream(
                "GET", "/api/events", headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    if event["name"] in ("call.updated", RESYNC):
                        self.events.append(event)

    async def until(self, seen: Any, what: str, within: float = 60) -> None:
        async with asyncio.timeout(within):
            while True:
                if seen(self.events):
                    return
                assert not self._task.done(), f"the event stream ended: {self._task}"
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._task.cancel()


async def conversation_ended(sim: str, conversation_id: str) -> bool:
    async with httpx.AsyncClient(base_url=sim) as client:
        r = await client.get(f"/v1/convai/conversations/{conversation_id}", headers={"xi-api-key": DEMO["api_key"]})
    return r.status_code == 200 and r.json()["status"] in ("done", "failed")


@pytest.fixture
async def stack(processes: Processes, world: TenantWorld) -> AsyncIterator[dict[str, str]]:
    yield await start_stack(processes, world, "Faults")


async def test_calls_end_right_through_a_redis_restart_and_a_killed_worker(
        processes: Processes, stack: dict[str, str], redis: PrivateRedis, world: TenantWorld) -> None:
    headers = world.member.headers
    first_worker = processes.start("worker")
    listener = Listener(stack["b"], headers)
    async with httpx.AsyncClient(base_url=stack["a"], timeout=30) as client:
        agents = await available_agents(client, headers)
        placed: dict[str, tuple[str, str]] = {}  # call id → (phone, conversation id)
        for index, phone in enumerate(CALLS):
            lead = await client.post("/api/leads", json={"name": f"Fault {index}", "phone": phone}, headers=headers)
            r = await client.post(f"/api/leads/{lead.json()['id']}/call", headers=headers,
                                  json={"agentId": agents[index % len(agents)]["agentId"]})
            assert r.status_code == 200 and r.json()["success"], r.text
            placed[r.json()["callLog"]["id"]] = (phone, r.json()["jobId"])
        await listener.until(lambda events: {e["data"].get("id") for e in events} >= set(placed),
                             "the SSE client of B did not see the calls placed through A")

        # Mid-calls: the worker dies and Redis goes away; the calls go on at ElevenLabs.
        first_worker.send_signal(signal.SIGKILL)
        first_worker.wait(timeout=10)
        redis.stop()
        refused = await client.post(f"/api/leads/{world.lead_ids[0]}/call", headers=headers,
                                    json={"agentId": agents[0]["agentId"]})
        assert refused.status_code == 503 and refused.json()["code"] == "redis_unavailable", refused.text
        assert (await client.get("/health")).status_code == 503
        deadline = time.monotonic() + 60
        for _phone, conversation_id in placed.values():  # their webhooks reach B while Redis is down
            while not await conversation_ended(stack["sim"], conversation_id):
                assert time.monotonic() < deadline, "the simulator's calls did not end"
                await asyncio.sleep(0.1)
        unfinished = [(await client.get(f"/api/calls/{call_id}", headers=headers)).json()["status"]
                      for call_id in placed]
        assert "ringing" in unfinished or "in_progress" in unfinished, "the outage was not mid-calls"

        # Redis comes back empty (no persistence: the queued jobs are gone) and a new worker starts.
        redis.start()
        processes.start("worker")
        for call_id, (phone, _conversation_id) in placed.items():
            status, outcome = CALLS[phone]
            call = await wait_for_status(client, call_id, headers, status, within=90)
            if outcome is not None:
                assert call["outcome"] == outcome, (phone, call)
            trail = (await client.get(f"/api/calls/{call_id}/events", headers=headers)).json()
            statuses = [e["toStatus"] for e in trail if e["kind"] in ("created", "status")]
            assert statuses[0] == "initiating" and statuses[-1] == status
            assert len(statuses) == len(set(statuses)), (phone, statuses)

        # B's relay is subscribed again: its SSE client was told to resync, and live news reach it again.
        await listener.until(lambda events: any(e["name"] == RESYNC for e in events),
                             "the SSE client of B was never told to resync")
        seen_before = len(listener.events)
        # A's own link to Redis comes back within its probe's backoff (at most 5 s): once its /health says so,
        # a placement through A works again.
        await wait_until_up(f"{stack['a']}/health", within=15)
        lead = await client.post("/api/leads", json={"name": "After", "phone": "+12025550101"}, headers=headers)
        after = await client.post(f"/api/leads/{lead.json()['id']}/call", headers=headers,
                                  json={"agentId": agents[0]["agentId"]})
        assert after.status_code == 200 and after.json()["success"], after.text
        after_id = after.json()["callLog"]["id"]
        await listener.until(lambda events: any(e["data"].get("id") == after_id and e["data"]["status"] == "completed"
                                                for e in events[seen_before:]),
                             "no live status reached B's SSE client after the restart")
    listener.stop()
    async with httpx.AsyncClient(base_url=stack["b"]) as client:
        health = (await client.get("/health")).json()
    assert health["status"] == "ok" and health["relay"] == "ok" and health["redis"] == "ok", health
