"""/health tells a load balancer whether the web process can work, and an operator whether calls are being
followed (a worker sweeping), in both shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from leadcall import public
from tests.live import LiveServer


async def test_health_is_ok_while_a_worker_sweeps_and_failing_when_none_does(
        live: LiveServer, live_client: httpx.AsyncClient) -> None:
    await live.app.state.worker.run_once()
    r = await live_client.get("/health")
    assert r.status_code == 200
    redis = "ok" if live.app.state.container.settings.redis_url else "not used"
    assert r.json() == {"status": "ok", "database": "ok", "redis": redis, "relay": redis, "lastSweepSecondsAgo": 0.0,
                        "problems": []}
    live.clock.advance(61)
    r = await live_client.get("/health")
    assert r.status_code == 503, "calls placed now would never be followed"
    body = r.json()
    assert body["status"] == "failing" and body["lastSweepSecondsAgo"] == 61.0
    assert body["problems"] and "not followed" in body["problems"][0]
    await live.app.state.worker.run_once()
    assert (await live_client.get("/health")).json()["status"] == "ok"


async def test_health_fails_when_the_database_cannot_be_reached(live: LiveServer, live_client: httpx.AsyncClient,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    @asynccontextmanager
    async def unreachable(_maker: Any) -> AsyncIterator[Any]:
        raise OSError("connection refused")
        yield

    monkeypatch.setattr(public, "transaction", unreachable)
    r = await live_client.get("/health")
    assert r.status_code == 503
    assert r.json()["status"] == "failing" and r.json()["database"] == "unreachable"
    assert r.json()["problems"] == ["the database cannot be reached"]
