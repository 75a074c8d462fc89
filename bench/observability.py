"""Placement throughput with metrics and logs on vs off, in one run; prints the ratio (target >= 0.95).

On: every metric recorded (prometheus-client, this process's registry) and every log line of leadcall at INFO
printed as JSON (with its ids, redacted) to a file. Off: the metrics replaced by no-ops and leadcall's logger at
WARNING (the lines of a placement are not made at all). Rounds alternate off/on so drift hits both alike.
The simulator answers at once: the CPU-bound worst case, where observability's share is largest.

    .venv/bin/python bench/observability.py
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import free_port, make_tenant, rate, serve  # noqa: E402

from leadcall.app import create_app  # noqa: E402
from leadcall.core import metrics  # noqa: E402
from leadcall.core.migrate import upgrade  # noqa: E402
from leadcall.core.observability import JsonFormatter  # noqa: E402
from leadcall.core.secrets import SecretBox  # noqa: E402
from leadcall.settings import Settings  # noqa: E402

ROUNDS = 4
CALLS_PER_ROUND = 80
CONCURRENCY = 8
KEY, SECRET = "sk_bench_obs_0001", "wsec_bench_obs_0001"
RECORDED = ("PLACEMENTS", "PLACEMENT_SECONDS", "WEBHOOKS", "CALLS_ENDED", "WEBHOOK_APPLY_SECONDS",
            "PROVIDER_REQUESTS", "PROVIDER_SECONDS", "RECONCILER_ACTIONS", "JOB_LAG", "SSE_CLIENTS")


class _Nothing:
    """A metric that records nothing (the 'off' half)."""

    def labels(self, *args: Any, **kwargs: Any) -> _Nothing:
        return self

    def inc(self, *args: Any) -> None: ...
    def dec(self, *args: Any) -> None: ...
    def observe(self, *args: Any) -> None: ...


def switch(on: bool, real: dict[str, Any], handler: logging.Handler) -> None:
    for name in RECORDED:
        setattr(metrics, name, real[name] if on else _Nothing())
    leadcall = logging.getLogger("leadcall")
    leadcall.setLevel(logging.INFO if on else logging.WARNING)
    root = logging.getLogger()
    if on and handler not in root.handlers:
        root.addHandler(handler)
    elif not on and handler in root.handlers:
        root.removeHandler(handler)


async def main() -> None:
    folder = tempfile.mkdtemp(prefix="leadcall-bench-obs-")
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    await asyncio.to_thread(upgrade, url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, secret_keys=SecretBox.generate_key(), session_secret="bench",
                        public_base_url=base, simulator_enabled=True, run_worker=False, provider_hosts=f"127.0.0.1:{port}",
                        placements_per_user_per_minute=1_000_000, placements_per_tenant_per_minute=1_000_000,
                        log_format="json", metrics_account_labels=True)
    app = create_app(settings)
    server = await serve(app, port)
    sim = app.state.simulator
    sim_account = sim.add_account(name="Bench", api_key=KEY, webhook_secret=SECRET, concurrency_limit=100_000)
    sim.seed_account(sim_account, language="en")
    container = app.state.container
    tenant = await make_tenant(container.sessionmaker, container.secret_box, sim_base_url=f"{base}/sim",
                               api_key=KEY, webhook_secret=SECRET, targets=app.state.voice_manager.targets)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    # Every handler of the root writes to the file (the stderr one the app installed included, redirected).
    log_file = Path(folder) / "leadcall.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonFormatter())
    for existing in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(existing)
    real = {name: getattr(metrics, name) for name in RECORDED}
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=CONCURRENCY * 2)) as client:
        agent_id = (await client.get("/api/voice/agents/available", headers=headers)).json()[0]["agentId"]
        lead_ids = []
        for i in range(2 * ROUNDS * CALLS_PER_ROUND + 1):
            r = await client.post("/api/leads", json={"name": f"Bench {i}", "phone": "+12025550108"}, headers=headers)
            lead_ids.append(r.json()["id"])

        def place(lead_id: str):  # type: ignore[no-untyped-def]
            async def go() -> None:
                r = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": agent_id}, headers=headers)
                assert r.status_code == 200 and r.json()["success"], r.text
            return go

        await place(lead_ids.pop())()  # warm up
        rates: dict[bool, list[float]] = {True: [], False: []}
        for round_ in range(2 * ROUNDS):
            on = round_ % 2 == 1
            switch(on, real, handler)
            batch, lead_ids = lead_ids[:CALLS_PER_ROUND], lead_ids[CALLS_PER_ROUND:]
            rates[on].append(await rate("placement", [place(x) for x in batch], CONCURRENCY))
        switch(True, real, handler)
    server.should_exit = True
    await server.task  # type: ignore[attr-defined]
    handler.close()
    off, on = sum(rates[False]) / ROUNDS, sum(rates[True]) / ROUNDS
    lines = sum(1 for _ in log_file.open())
    print(f"placements/s with metrics and logs off: {off:.1f}")
    print(f"placements/s with metrics and logs on:  {on:.1f}  ({lines} JSON log lines written)")
    print(f"ratio on/off: {on / off:.3f} (target >= 0.95)")


if __name__ == "__main__":
    asyncio.run(main())
