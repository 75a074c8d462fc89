"""Campaign dispatcher: its own cost per attempt against the placement it drives, the time from a freed slot to
the next dial, and pacing accuracy, measured side by side in one run of the embedded shape (SQLite or, with
--postgres, PostgreSQL) with the simulator at high speed and the real clock.

    .venv/bin/python bench/campaigns.py [--postgres] [--leads N] [--speed S]

Phase 1 (capacity-bound): N leads, 4 live calls at most, pacing out of the way (20/s): every dial after the
first four waits for a call to end, so "slot freed → next dial" is measured from the call's end (the
dispatcher's settle hook) to the start of the next placement.
Phase 2 (pacing-bound): N/2 leads at 4 calls/s, live calls out of the way: the achieved rate over the
configured one.
Dispatcher cost: the time of its claims plus its own work before and after `CallService.place_call`, per
attempt, over the time of `place_call` itself (the placement saga, provider request included).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import free_port, make_tenant, serve  # noqa: E402

from leadcall.app import create_app, link_simulator_webhooks  # noqa: E402
from leadcall.campaigns.dispatcher import CampaignDispatcher  # noqa: E402
from leadcall.core.db import transaction  # noqa: E402
from leadcall.core.migrate import upgrade  # noqa: E402
from leadcall.core.secrets import SecretBox  # noqa: E402
from leadcall.rules.service import put_rules  # noqa: E402
from leadcall.settings import Settings  # noqa: E402

KEY = f"sk_bench_{uuid.uuid4().hex}"
SECRET = f"wsec_{uuid.uuid4().hex}"
OPEN = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


def arg(name: str, default: float) -> float:
    return float(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


class Timings:
    def __init__(self) -> None:
        self.claim = 0.0
        self.dial = 0.0
        self.place = 0.0
        self.attempts = 0
        self.place_starts: list[float] = []
        self.freed: list[float] = []


def instrument(dispatcher: CampaignDispatcher, calls: Any, timings: Timings) -> None:
    claim, dial, settle, place = dispatcher._claim_many, dispatcher._dial, dispatcher.settle, calls.place_call

    async def timed_claim(campaign_id: str, most: int, cache: Any) -> Any:
        started = time.perf_counter()
        try:
            return await claim(campaign_id, most, cache)
        finally:
            timings.claim += time.perf_counter() - started

    async def timed_dial(claimed: Any) -> None:
        started = time.perf_counter()
        try:
            await dial(claimed)
        finally:
            timings.dial += time.perf_counter() - started
            timings.attempts += 1

    async def timed_place(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        if kwargs.get("path") == "campaign":
            timings.place_starts.append(time.monotonic())
        try:
            return await place(*args, **kwargs)
        finally:
            if kwargs.get("path") == "campaign":
                timings.place += time.perf_counter() - started

    async def timed_settle(session: Any, call: Any) -> None:
        if (call.idempotency_key or "").startswith("campaign:") and call.status in ("completed", "failed"):
            timings.freed.append(time.monotonic())
        await settle(session, call)

    dispatcher._claim_many = timed_claim  # type: ignore[method-assign]
    dispatcher._dial = timed_dial  # type: ignore[method-assign]
    dispatcher.settle = timed_settle  # type: ignore[method-assign]
    calls.place_call = timed_place


async def run_campaign(client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, lead_ids: list[str],
                       **settings: Any) -> float:
    r = await client.post("/api/campaigns", headers=headers, json={
        "name": f"Bench {uuid.uuid4().hex[:6]}", "agentIds": [agent_id], "leads": {"ids": lead_ids}, **settings})
    assert r.status_code == 201, r.text
    campaign_id = r.json()["id"]
    started = time.monotonic()
    r = await client.post(f"/api/campaigns/{campaign_id}/start", headers=headers)
    assert r.status_code == 200, r.text
    while True:
        await asyncio.sleep(0.5)
        state = (await client.get(f"/api/campaigns/{campaign_id}", headers=headers)).json()
        if state["state"] in ("completed", "canceled"):
            assert state["counts"]["done"] == len(lead_ids), state["counts"]
            return time.monotonic() - started


async def main() -> None:
    leads = int(arg("--leads", 60))
    speed = arg("--speed", 120)
    admin = None
    if "--postgres" in sys.argv:
        import asyncpg

        name = f"leadcall_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='leadcall-bench-')}/bench.db"
    await asyncio.to_thread(upgrade, url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, secret_keys=SecretBox.generate_key(), session_secret="bench",
                        public_base_url=base, simulator_enabled=True, simulator_speed=speed, run_worker=True,
                        provider_hosts=f"127.0.0.1:{port}")
    app = create_app(settings)
    server = await serve(app, port)
    try:
        sim = app.state.simulator
        sim_account = sim.add_account(name="Bench", api_key=KEY, webhook_secret=SECRET, concurrency_limit=1000)
        sim.seed_account(sim_account, language="en")
        container = app.state.container
        tenant = await make_tenant(container.sessionmaker, container.secret_box, sim_base_url=f"{base}/sim",
                                   api_key=KEY, webhook_secret=SECRET, targets=app.state.voice_manager.targets)
        async with transaction(container.sessionmaker) as session:
            await put_rules(session, tenant.tenant_id, None, windows=OPEN, max_attempts_per_24h=None,
                            max_attempts_total=None, require_consent=False, region_rules=False,
                            now=datetime.now(UTC), actor_id=None)
        await link_simulator_webhooks(app)
        timings = Timings()
        instrument(app.state.dispatcher, app.state.call_service, timings)
        headers = {"Authorization": f"Bearer {tenant.admin_token}"}
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            agent_id = (await client.get("/api/voice/agents/available", headers=headers)).json()[0]["agentId"]
            ids = []
            for i in range(leads + leads // 2):
                r = await client.post("/api/leads", headers=headers,
                                      json={"name": f"Bench {i}", "phone": f"+1202555{2000 + i:04d}"})
                ids.append(r.json()["id"])
            no_retry = {k: {"afterSeconds": 10, "maxAttempts": 1} for k in ("no_answer", "busy", "voicemail", "failed")}
            await run_campaign(client, headers, agent_id, ids[:leads], maxLiveCalls=4, callsPerSecond=20,
                               retry=no_retry)
            starts, freed = list(timings.place_starts), list(timings.freed)
            waits = []
            for at in starts[4:]:  # each dial after the first four waited for a freed slot
                before = [f for f in freed if f <= at]
                if before:
                    waits.append(at - before[-1])
            cost = (timings.claim + timings.dial - timings.place) / timings.attempts
            place = timings.place / timings.attempts
            timings.place_starts.clear()
            rate = 4.0
            await run_campaign(client, headers, agent_id, ids[leads:], maxLiveCalls=200, callsPerSecond=rate,
                               retry=no_retry)
            paced = timings.place_starts
            achieved = (len(paced) - 1) / (paced[-1] - paced[0])
    finally:
        server.should_exit = True
        await server.task  # type: ignore[attr-defined]
        if admin is not None:
            await admin.close()
    waits.sort()
    shape = "PostgreSQL" if "--postgres" in sys.argv else "SQLite"
    print(f"campaigns bench ({shape}, {leads} + {leads // 2} leads, simulator x{speed:g})")
    print(f"  dispatcher cost per attempt {cost * 1000:.1f} ms vs placement {place * 1000:.1f} ms: "
          f"ratio {cost / place:.3f} (target <= 0.1)")
    print(f"  slot freed -> next dial: p50 {statistics.median(waits) * 1000:.0f} ms, "
          f"p99 {waits[min(len(waits) - 1, int(len(waits) * 0.99))] * 1000:.0f} ms over {len(waits)} dials "
          f"(target p99 < 250 ms)")
    print(f"  pacing: {achieved:.2f} calls/s achieved for {rate:g} configured: ratio {achieved / rate:.3f} "
          f"(target 0.95-1.05)")


if __name__ == "__main__":
    asyncio.run(main())
