"""The scale-out shape delivers outgoing webhooks: with two web processes and a worker process on PostgreSQL
and Redis, a call placed through process A reaches a CRM's receiver (on this machine) as `call.completed`,
signed, once, sent by the worker process's delivery job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from standardwebhooks import Webhook

from leadcall.settings import Settings
from tests.factories import TenantWorld
from tests.integrations.receiver import Receiver, start_receiver
from tests.scale.test_multiprocess import (  # noqa: F401 - `stack` and the skip outside PostgreSQL + Redis are fixtures
    Processes,
    available_agents,
    needs_postgres_and_redis,
    stack,
    wait_for_a_sweep,
)

pytestmark = pytest.mark.scale


@pytest.fixture
def processes(settings: Settings) -> Iterator[Processes]:
    """The processes of `stack`, allowed to reach this machine's receiver (a private target)."""
    procs = Processes(settings)
    procs.env["LEADCALL_ALLOW_PRIVATE_TARGETS"] = "true"
    yield procs
    procs.stop_all()


async def _completed(receiver: Receiver, call_id: str, within: float = 90) -> list[dict[str, object]]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [r for r in receiver.received if r.json["type"] == "call.completed" and r.json["data"]["id"] == call_id]
        if found:
            return [r.json for r in found]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no call.completed for {call_id}: {[r.json['type'] for r in receiver.received]}")


async def test_call_completed_reaches_the_crm_from_the_worker_process(
        processes: Processes, stack: dict[str, str], world: TenantWorld) -> None:  # noqa: F811
    receiver, stop_receiver = await start_receiver()
    try:
        started = time.time()
        # Workers write events too (a webhook's processing ends the call): they share the public base URL.
        processes.start("worker", LEADCALL_PUBLIC_BASE_URL=stack["b"])
        await wait_for_a_sweep(started)
        headers = world.member.headers
        async with httpx.AsyncClient(base_url=stack["a"], timeout=30) as client:
            created = await client.post("/api/webhook-endpoints", json={"url": f"{receiver.url}/ok"},
                                        headers=world.admin.headers)
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
            agents = await available_agents(client, headers)
            placed = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": agents[0]["agentId"]},
                                       headers=headers)
            assert placed.status_code == 200 and placed.json()["success"], placed.text
        call_id = placed.json()["callLog"]["id"]
        (completed,) = await _completed(receiver, call_id)
        await asyncio.sleep(2)  # a second worker pass: a repeat, if there were one, would have come by now
        assert len([r for r in receiver.received if r.json["type"] == "call.completed"]) == 1
        data = completed["data"]
        assert isinstance(data, dict) and data["status"] == "completed" and data["outcome"] == "interested"
        assert str(data["recordingUrl"]).startswith(stack["b"])  # the public base URL of the processes
        for got in receiver.received:
            Webhook(secret).verify(got.body, got.headers)  # each one signed with the endpoint's secret
        ours = sorted((r.json for r in receiver.received if r.json["data"].get("id") == call_id
                       and str(r.json["type"]).startswith("call.")), key=lambda p: int(p["sequence"]))
        assert ours[0]["type"] == "call.created" and ours[0]["sequence"] == 1
        assert [p["sequence"] for p in ours] == list(range(1, len(ours) + 1))
    finally:
        await stop_receiver()
