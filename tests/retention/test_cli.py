"""`leadcall retention show|set|run`: what an operator types, and what it changes."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import timedelta

import httpx
from sqlalchemy import update

from leadcall.calls.models import CallLog
from leadcall.core.db import transaction
from leadcall.settings import Settings
from tests.live import CallWorld, LiveServer, play
from tests.test_cli import LEADCALL


async def leadcall(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url,
           "LEADCALL_SECRET_KEYS": settings.secret_keys.get_secret_value()}
    return await asyncio.to_thread(subprocess.run, [LEADCALL, "retention", *args], env=env, capture_output=True,
                                   text=True, timeout=120, check=False)


async def test_retention_from_the_command_line(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
                                               settings: Settings) -> None:
    tenant = cw.world.tenant_id
    assert (await leadcall(settings, "show", "--tenant", tenant)).stdout.startswith("content kept forever;")
    done = await leadcall(settings, "set", "--tenant", tenant, "--days", "3")
    assert done.returncode == 0, done.stderr
    assert "content kept 3 days; conversations kept at ElevenLabs" in done.stdout
    policy = (await live_client.get("/api/retention", headers=cw.world.admin.headers)).json()
    assert (policy["days"], policy["deleteAtProvider"]) == (3, False)

    for bad in (["--days", "0"], ["--days", "3", "--forever"], []):
        refused = await leadcall(settings, "set", "--tenant", tenant, *bad)
        assert refused.returncode != 0 and "Traceback" not in refused.stderr, bad
    unknown = await leadcall(settings, "show", "--tenant", "no-such-tenant")
    assert unknown.returncode == 1 and "tenant not found" in unknown.stderr

    lead = await live_client.post("/api/leads", json={"name": "Old Call", "phone": "+12025550100"},
                                  headers=cw.world.member.headers)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    call_id = placed.json()["callLog"]["id"]
    await play(live, 150)
    # The command runs on the real clock: the call is made a week older than now.
    async with transaction(live.app.state.container.sessionmaker) as session:
        call = await session.get(CallLog, call_id)
        assert call is not None and call.transcript
        await session.execute(update(CallLog).where(CallLog.id == call_id)
                              .values(created_at=call.created_at - timedelta(days=400)))
    ran = await leadcall(settings, "run", "--tenant", tenant)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("1 call(s) lost their content"), ran.stdout
    after = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.admin.headers)).json()
    assert after["transcription"] is None and after["cost"] > 0
    forever = await leadcall(settings, "set", "--tenant", tenant, "--forever")
    assert forever.returncode == 0 and "content kept forever" in forever.stdout
