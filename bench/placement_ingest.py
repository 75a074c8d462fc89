"""Placement throughput vs a pass-through endpoint, and webhook ingest vs a bare
verify-and-insert endpoint, measured side by side in one run.

SQLite (the embedded default) by default; `--postgres` runs it on PostgreSQL.
`--redis` uses the scale-out shape (events, caches, rate limits in Redis; webhook
processing enqueued for `leadcall worker` processes instead of run in the web process).
`--volume N` first fills the tenant with N leads and 10 N calls (bench/volume_data.py), so placement
and ingest run with big tables underneath.

Placement is measured twice in the same run: with a simulator that answers at once (the
CPU-bound worst case: it measures leadcall's own cost per call against a bare forward) and
with the simulator answering the outbound-call request after a provider latency like the
real API's (150 ms by default, `--provider-latency-ms N` to change it), which is what a
deployment sees. The target applies to the latter; both figures are printed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from fastapi import Request
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import free_port, make_tenant, rate, serve  # noqa: E402

from leadcall.app import create_app  # noqa: E402
from leadcall.core.db import transaction  # noqa: E402
from leadcall.core.migrate import upgrade  # noqa: E402
from leadcall.core.secrets import SecretBox  # noqa: E402
from leadcall.settings import Settings  # noqa: E402
from leadcall.voice.repository import unscoped_get_account  # noqa: E402
from leadcall.voice.types import CallRequest  # noqa: E402

N_CALLS = 300
N_CALLS_WITH_LATENCY = 160
N_HOOKS = 600
CONCURRENCY = 8
KEY, SECRET = "sk_bench_0001", "wsec_bench_0001"


def signed(body: bytes) -> str:
    t = int(time.time())
    return f"t={t},v0=" + hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


async def main() -> None:
    admin = None
    if "--postgres" in sys.argv:
        import asyncpg

        name = f"leadcall_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    else:
        folder = tempfile.mkdtemp(prefix="leadcall-bench-")
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
    await asyncio.to_thread(upgrade, url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    redis_url = os.environ.get("LEADCALL_REDIS_URL", "redis://127.0.0.1:6379/0") if "--redis" in sys.argv else None
    settings = Settings(database_url=url, secret_keys=SecretBox.generate_key(), session_secret="bench", redis_url=redis_url,
                        public_base_url=base, simulator_enabled=True, run_worker=False, provider_hosts=f"127.0.0.1:{port}",
                        placements_per_user_per_minute=1_000_000, placements_per_tenant_per_minute=1_000_000)
    app = create_app(settings)

    @app.post("/bench/passthrough", include_in_schema=False)
    async def passthrough(request: Request) -> dict[str, str]:
        """The same outbound-call request to the same simulator, with nothing of leadcall around it."""
        body = await request.json()
        voices = request.app.state.voice_manager
        account = request.app.state.bench_account
        agent = request.app.state.bench_agent
        placed = await voices.start_call(account, CallRequest(agent_id=agent.agent_id,
                                                              phone_number=agent.phone_numbers[0],
                                                              to_number=body["to"], dynamic_variables={}))
        return {"conversation_id": placed.conversation_id}

    @app.post("/bench/bare-webhook", include_in_schema=False)
    async def bare_webhook(request: Request) -> dict[str, bool]:
        """Verify the signature and insert the raw body: the least an ingest endpoint can do."""
        raw = await request.body()
        header = dict(p.split("=", 1) for p in request.headers["elevenlabs-signature"].split(","))
        expected = hmac.new(SECRET.encode(), f"{header['t']}.".encode() + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, header["v0"]):
            return {"ok": False}
        async with transaction(request.app.state.container.sessionmaker) as session:
            await session.execute(text("INSERT INTO bench_hooks (id, body) VALUES (:id, :body)"),
                                  {"id": uuid.uuid4().hex, "body": raw.decode()})
        return {"ok": True}

    server = await serve(app, port)
    sim = app.state.simulator
    latency_ms = float(sys.argv[sys.argv.index("--provider-latency-ms") + 1]) if "--provider-latency-ms" in sys.argv else 150
    sim_account = sim.add_account(name="Bench", api_key=KEY, webhook_secret=SECRET, concurrency_limit=100_000)
    sim.seed_account(sim_account, language="en")
    container = app.state.container
    async with container.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_hooks (id VARCHAR(36) PRIMARY KEY, body TEXT)"))
    tenant = await make_tenant(container.sessionmaker, container.secret_box, sim_base_url=f"{base}/sim",
                               api_key=KEY, webhook_secret=SECRET, targets=app.state.voice_manager.targets)
    for _ in range(600):  # the account's first listing is fetched in the background: until then it is pending
        async with transaction(container.sessionmaker) as session:
            account = await unscoped_get_account(session, tenant.account_id or "")
            assert account is not None
            agents = (await app.state.voice_manager.account_listing(session, account)).infos
        if any(a.phone_numbers for a in agents):
            break
        await asyncio.sleep(0.1)
    if "--volume" in sys.argv:
        from volume_data import fill

        n = int(sys.argv[sys.argv.index("--volume") + 1])
        await fill(container.sessionmaker, tenant.tenant_id, leads=n, calls=10 * n, hot_lead_calls=n)
    app.state.bench_account = account
    app.state.bench_agent = next(a for a in agents if a.phone_numbers)
    headers = {"Authorization": f"Bearer {tenant.token}"}

    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=CONCURRENCY * 2)) as client:
        agent_id = (await client.get("/api/voice/agents/available", headers=headers)).json()[0]["agentId"]
        lead_ids = []
        for i in range(N_CALLS + N_CALLS_WITH_LATENCY):
            r = await client.post("/api/leads", json={"name": f"Bench {i}", "phone": "+12025550108"}, headers=headers)
            lead_ids.append(r.json()["id"])

        def place(lead_id: str):  # type: ignore[no-untyped-def]
            async def go() -> None:
                r = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": agent_id}, headers=headers)
                assert r.status_code == 200 and r.json()["success"], r.text
            return go

        def direct():  # type: ignore[no-untyped-def]
            async def go() -> None:
                r = await client.post("/bench/passthrough", json={"to": "+12025550108"})
                assert r.status_code == 200, r.text
            return go

        async def compare(leads: list[str], provider_seconds: float) -> tuple[float, float]:
            """(placements/s, pass-throughs/s), alternating halves so drift hits both alike."""
            sim.faults.slow_seconds = provider_seconds
            await direct()()
            half = len(leads) // 2
            ours = [await rate("placement", [place(x) for x in leads[:half]], CONCURRENCY)]
            bare = [await rate("pass-through", [direct() for _ in range(half)], CONCURRENCY)]
            ours.append(await rate("placement", [place(x) for x in leads[half:]], CONCURRENCY))
            bare.append(await rate("pass-through", [direct() for _ in range(half)], CONCURRENCY))
            return sum(ours) / 2, sum(bare) / 2

        instant = await compare(lead_ids[:N_CALLS], 0)
        realistic = await compare(lead_ids[N_CALLS:], latency_ms / 1000)
        sim.faults.slow_seconds = 0

        def hook_body() -> bytes:
            return json.dumps({"type": "call_initiation_failure", "event_timestamp": int(time.time()),
                               "data": {"agent_id": "agent_x", "conversation_id": "conv_" + uuid.uuid4().hex,
                                        "failure_reason": "busy", "metadata": {"type": "twilio", "body": {}}}}).encode()

        def ingest(path: str):  # type: ignore[no-untyped-def]
            body = hook_body()

            async def go() -> None:
                r = await client.post(path, content=body, headers={"ElevenLabs-Signature": signed(body),
                                                                   "content-type": "application/json"})
                assert r.status_code == 200, r.text
            return go

        hook_path = f"/api/webhooks/elevenlabs/transcription?account={tenant.account_id}"
        h = N_HOOKS // 2
        applied: list[float] = []

        async def ours() -> float:
            """Hooks/s taken in; then (outside the timing) the embedded shape's applies left by the burst are
            awaited, so they do not run into the next measurement, and their time is kept."""
            got = await rate("ingest", [ingest(hook_path) for _ in range(h)], CONCURRENCY)
            if hasattr(app.state.jobs, "drain"):
                started = time.perf_counter()
                await app.state.jobs.drain()
                applied.append(time.perf_counter() - started)
            return got

        ingest_ours = [await ours()]
        ingest_bare = [await rate("bare", [ingest("/bench/bare-webhook") for _ in range(h)], CONCURRENCY)]
        ingest_ours.append(await ours())
        ingest_bare.append(await rate("bare", [ingest("/bench/bare-webhook") for _ in range(h)], CONCURRENCY))
    ours_ingest, bare_ingest = sum(ingest_ours) / 2, sum(ingest_bare) / 2
    server.should_exit = True
    await server.task  # type: ignore[attr-defined]
    if admin is not None:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        await admin.close()
    print(f"database: {'PostgreSQL' if admin is not None else 'SQLite'}{' + Redis (jobs to arq)' if redis_url else ''}; "
          f"{CONCURRENCY} requests in flight")
    for label, (ours_rate, bare_rate), target in (
            (f"provider answers in {latency_ms:.0f} ms", realistic, "target ≥ 0.70"),
            ("provider answers at once", instant, "CPU-bound: leadcall's cost per call vs a bare forward")):
        print(f"placement, {label}: {ours_rate:7.1f} calls/s   pass-through: {bare_rate:7.1f} calls/s   "
              f"ratio {ours_rate / bare_rate:.2f} ({target})")
    print(f"ingest:      {ours_ingest:7.1f} hooks/s   bare verify+insert: {bare_ingest:7.1f} hooks/s   "
          f"ratio {ours_ingest / bare_ingest:.2f} (target ≥ 0.60)")
    if applied:
        print(f"  in-process applies still queued when a burst of {h} ended: done {sum(applied) / len(applied):.2f} s "
              f"later (mean of {len(applied)})")


if __name__ == "__main__":
    asyncio.run(main())
