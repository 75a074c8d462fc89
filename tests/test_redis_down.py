"""A web process of the scale-out shape while its Redis refuses, freezes and restarts: requests that need
Redis answer a 503 that says so (never a 500, never a hang), `/health` fails while Redis or the live-event
relay is down and recovers by itself, and SSE clients are told to re-read their state once the relay is back.

Each test runs the app against its own redis-server on a free port (never the shared one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from leadcall.app import create_app
from leadcall.core.events import RESYNC
from leadcall.kit.clock import ManualClock
from leadcall.settings import Settings
from tests.factories import PASSWORD, TenantWorld, make_world
from tests.live import serve
from tests.redis_server import PrivateRedis, running_private_redis


@dataclass
class Scaled:
    app: FastAPI
    url: str
    redis: PrivateRedis
    world: TenantWorld


@pytest.fixture
def server() -> Iterator[PrivateRedis]:
    with running_private_redis() as redis:
        yield redis


@pytest.fixture
async def scaled(settings: Settings, server: PrivateRedis) -> AsyncIterator[Scaled]:
    app = create_app(settings.model_copy(update={"redis_url": server.url, "redis_timeout_seconds": 0.5}),
                     clock=ManualClock(start=time.time()))
    uvicorn_server, task, url = await serve(app)
    try:
        yield Scaled(app, url, server, await make_world(app))
    finally:
        uvicorn_server.should_exit = True
        await task


async def health(url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        return await client.get("/health")


async def until_healthy(url: str, within: float = 30) -> httpx.Response:
    """Waits for the process to recover by itself (a state, not a time)."""
    async with asyncio.timeout(within):
        while True:
            r = await health(url)
            if r.status_code == 200:
                return r
            await asyncio.sleep(0.05)


async def test_health_fails_while_redis_is_down_and_recovers_by_itself(scaled: Scaled) -> None:
    r = await health(scaled.url)
    assert r.status_code == 200 and r.json()["relay"] == "ok" and r.json()["redis"] == "ok"
    scaled.redis.stop()
    r = await health(scaled.url)
    assert r.status_code == 503, "a load balancer takes this process out of rotation"
    body = r.json()
    assert body["status"] == "failing" and body["redis"] == "unreachable"
    assert "Redis cannot be reached" in body["problems"]
    scaled.redis.start()
    body = (await until_healthy(scaled.url)).json()
    assert body == {**body, "status": "ok", "redis": "ok", "relay": "ok", "problems": []}


async def test_health_names_a_relay_that_lost_redis(scaled: Scaled) -> None:
    scaled.redis.stop()
    async with asyncio.timeout(30):  # the relay notices the closed connection
        while True:
            if not scaled.app.state.events.relay_connected:
                break
            await asyncio.sleep(0.01)
    body = (await health(scaled.url)).json()
    assert body["relay"] == "reconnecting"
    assert any("live events do not reach this process's browsers" in p for p in body["problems"])
    scaled.redis.start()
    await until_healthy(scaled.url)


async def test_requests_that_need_redis_answer_503_with_a_code_while_redis_refuses(scaled: Scaled) -> None:
    world = scaled.world
    scaled.redis.stop()
    async with httpx.AsyncClient(base_url=scaled.url, timeout=20) as client:
        placed = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": "agent_any"},
                                   headers=world.member.headers)
        assert placed.status_code == 503, placed.text
        body = placed.json()
        assert body["error"] == "unavailable" and body["code"] == "redis_unavailable" and body["params"] == {}
        assert "Redis" in body["detail"] and "try again" in body["detail"]
        calls = await client.get(f"/api/leads/{world.lead_ids[0]}/calls", headers=world.member.headers)
        assert calls.status_code == 200 and calls.json()["items"] == [], "nothing was placed or half written"
        # Sign-in attempts are counted in Redis too: refused the same way, not waved through.
        login = await client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
        assert login.status_code == 503 and login.json()["code"] == "redis_unavailable"
    scaled.redis.start()
    await until_healthy(scaled.url)
    async with httpx.AsyncClient(base_url=scaled.url, timeout=20) as client:
        login = await client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
    assert login.status_code == 200, login.text


async def test_a_frozen_redis_costs_a_placement_a_bounded_delay_then_a_503(scaled: Scaled) -> None:
    world = scaled.world
    scaled.redis.freeze()
    try:
        async with httpx.AsyncClient(base_url=scaled.url, timeout=20) as client:
            # Redis stays frozen until the test ends: only Redis deadlines can end this request.
            placed = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": "agent_any"},
                                       headers=world.member.headers)
            assert placed.status_code == 503 and placed.json()["code"] == "redis_unavailable"
            assert (await client.get("/health")).status_code == 503
    finally:
        scaled.redis.thaw()
    await until_healthy(scaled.url)


async def test_an_sse_client_is_told_to_resync_once_the_relay_is_back(scaled: Scaled) -> None:
    async with httpx.AsyncClient(base_url=scaled.url, timeout=None) as client, client.stream(
            "GET", "/api/events", headers=scaled.world.member.headers) as response:
        lines = response.aiter_lines()
        assert (await asyncio.wait_for(anext(lines), 5)).startswith(": connected")
        scaled.redis.restart()
        async with asyncio.timeout(30):
            async for line in lines:
                if line == f"event: {RESYNC}":
                    break
        data = await asyncio.wait_for(anext(lines), 5)
        assert data.startswith("data: ") and scaled.world.tenant_id in data


async def test_a_worker_gone_before_this_process_started_counts_from_its_start(scaled: Scaled) -> None:
    """A web process (re)started next to a worker that starts with it is not failing at once for the sweeps
    an older worker left in Redis; a minute later without a sweep it is."""
    clock = scaled.app.state.container.clock
    redis = Redis.from_url(scaled.redis.url)
    await redis.set("leadcall:heartbeat:sweep", repr(clock.now() - 300))
    await redis.aclose()
    r = await health(scaled.url)
    assert r.status_code == 200 and r.json()["lastSweepSecondsAgo"] == 300.0
    clock.advance(61)
    r = await health(scaled.url)
    assert r.status_code == 503 and "no worker has swept in the last minute" in r.json()["problems"][0]
