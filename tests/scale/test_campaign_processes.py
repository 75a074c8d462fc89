"""A campaign in the scale-out shape: two web processes, two worker processes (arq on Redis) and the simulator
sharing PostgreSQL; one worker is killed mid-campaign and replaced. Every lead is dialled exactly once and the
campaign completes. Reuses the multi-process test's processes and stack."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from tests.factories import TenantWorld
from tests.scale.test_multiprocess import (  # noqa: F401 - fixtures, found by pytest in this module's names
    Processes,
    available_agents,
    needs_postgres_and_redis,
    processes,
    stack,
    wait_for_a_sweep,
)

pytestmark = pytest.mark.scale


async def test_two_workers_and_a_killed_one_dial_each_lead_of_a_campaign_once(
        processes: Processes, stack: dict[str, str], world: TenantWorld) -> None:  # noqa: F811 - the fixtures above
    started = time.time()
    first = processes.start("worker")
    processes.start("worker")
    await wait_for_a_sweep(started)
    async with httpx.AsyncClient(base_url=stack["a"], timeout=30) as client:
        r = await client.put("/api/calling-rules", headers=world.admin.headers, json={
            "windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}],
            "regionRules": False})
        assert r.status_code == 200, r.text
        leads = []
        for i in range(12):
            r = await client.post("/api/leads", json={"name": f"Multi {i}", "phone": f"+120255506{i:02d}"},
                                  headers=world.member.headers)
            leads.append(r.json()["id"])
        agents = await available_agents(client, world.member.headers)
        r = await client.post("/api/campaigns", headers=world.manager.headers, json={
            "name": "Two workers", "agentIds": [agents[0]["agentId"]], "leads": {"ids": leads}, "maxLiveCalls": 4,
            "callsPerSecond": 5})
        assert r.status_code == 201, r.text
        campaign_id = r.json()["id"]
        r = await client.post(f"/api/campaigns/{campaign_id}/start", headers=world.manager.headers)
        assert r.status_code == 200, r.text
        path = f"/api/campaigns/{campaign_id}"
        deadline = time.monotonic() + 60
        while (await client.get(path, headers=world.member.headers)).json()["counts"]["done"] < 2:
            assert time.monotonic() < deadline, "the workers dialled nobody"
            await asyncio.sleep(0.3)
        first.send_signal(signal.SIGKILL)  # dies mid-campaign, perhaps between a claim and its dial
        first.wait(timeout=10)
        processes.start("worker")
        deadline = time.monotonic() + 180
        while (campaign := (await client.get(path, headers=world.member.headers)).json())["state"] != "completed":
            assert time.monotonic() < deadline, f"the campaign did not complete: {campaign['counts']}"
            await asyncio.sleep(0.5)
        assert campaign["counts"]["done"] == 12 and campaign["endCode"] == "all_called"
        per_lead = []
        for lead in leads:
            calls = (await client.get(f"/api/leads/{lead}/calls", headers=world.member.headers)).json()["items"]
            per_lead.append(len(calls))
    assert per_lead == [1] * 12
