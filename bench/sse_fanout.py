"""SSE fan-out latency: 1,000 browsers listening for call events, served by one web process
and by two (PostgreSQL + Redis). An event is published to Redis, as any process publishing
a call update does; each client notes when it arrives. Prints p50/p99 for both shapes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import free_port, make_tenant, p, summary  # noqa: E402

from leadcall.core.db import make_engine, make_sessionmaker  # noqa: E402
from leadcall.core.events import Event  # noqa: E402
from leadcall.core.migrate import upgrade  # noqa: E402
from leadcall.core.redis_events import CHANNEL  # noqa: E402
from leadcall.core.secrets import SecretBox  # noqa: E402

CLIENTS = 1000
EVENTS = 20
PG = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
LEADCALL = str(Path(sys.executable).with_name("leadcall"))


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def measure(urls: list[str], token: str, tenant_id: str, redis: Redis) -> list[float]:
    latencies: list[float] = []
    connected = 0
    all_connected = asyncio.Event()
    done = asyncio.Event()
    expected = CLIENTS * EVENTS

    async def client(url: str) -> None:
        nonlocal connected
        async with httpx.AsyncClient(base_url=url, timeout=None) as http, http.stream(
                "GET", "/api/events", headers={"Authorization": f"Bearer {token}"}) as response:
            first = True
            async for line in response.aiter_lines():
                if first:
                    first = False
                    connected += 1
                    if connected == CLIENTS:
                        all_connected.set()
                if line.startswith("data: "):
                    sent = json.loads(line[6:])["data"]["sentAt"]
                    latencies.append(time.time() - sent)
                    if len(latencies) >= expected:
                        done.set()

    tasks = [asyncio.create_task(client(urls[i % len(urls)])) for i in range(CLIENTS)]
    await asyncio.wait_for(all_connected.wait(), 120)
    await asyncio.sleep(1.0)  # every subscription is registered in its process
    for _ in range(EVENTS):
        event = Event("call.updated", tenant_id, None, {"id": uuid.uuid4().hex, "sentAt": time.time()})
        await redis.publish(CHANNEL, event.to_json())
        await asyncio.sleep(0.1)
    try:
        await asyncio.wait_for(done.wait(), 30)
    except TimeoutError:
        pass
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if len(latencies) < expected:
        print(f"  only {len(latencies)} of {expected} deliveries arrived")
    return latencies


async def main() -> None:
    name = f"leadcall_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    await asyncio.to_thread(upgrade, database_url)
    keys = SecretBox.generate_key()
    engine = make_engine(database_url)
    tenant = await make_tenant(make_sessionmaker(engine))
    await engine.dispose()
    env = {**os.environ, "LEADCALL_DATABASE_URL": database_url, "LEADCALL_REDIS_URL": REDIS_URL,
           "LEADCALL_SECRET_KEYS": keys, "LEADCALL_SESSION_SECRET": "bench"}
    ports = [free_port(), free_port()]
    procs = [await asyncio.create_subprocess_exec(LEADCALL, "serve", "--port", str(port), env=env,
                                                  stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
             for port in ports]
    redis = Redis.from_url(REDIS_URL)
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            await wait_up(f"{url}/health")
        one = await measure(urls[:1], tenant.token, tenant.tenant_id, redis)
        two = await measure(urls, tenant.token, tenant.tenant_id, redis)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await asyncio.wait_for(proc.wait(), 10)
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    for label, values in (("one web process ", one), ("two web processes", two)):
        verdict = "meets" if values and p(values, 0.99) < 0.25 else "misses"
        print(f"SSE fan-out, {CLIENTS} clients, {label}: {summary(values)} — {verdict} p99 < 250 ms")


if __name__ == "__main__":
    asyncio.run(main())
