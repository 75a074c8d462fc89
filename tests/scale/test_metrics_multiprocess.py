"""Two web processes and a worker share PROMETHEUS_MULTIPROC_DIR: a scrape of B counts what A and the worker did."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from leadcall.calls.models import WebhookDelivery
from leadcall.core.db import transaction
from tests.factories import TenantWorld
from tests.scale.test_multiprocess import (  # noqa: F401 - fixtures used by name
    Processes,
    available_agents,
    needs_postgres_and_redis,
    processes,
    stack,
    wait_for_a_sweep,
    wait_for_status,
)

TOKEN = "multiprocess-metrics-token"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def metered(processes: Processes, tmp_path: Path) -> Path:  # noqa: F811 - the imported fixture
    """Every process of the stack writes its metrics into one empty directory (and may be scraped)."""
    processes.env.update({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "LEADCALL_METRICS_TOKEN": TOKEN})
    return tmp_path


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(base_url=url) as client:
        r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def series(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name and v}


async def test_a_scrape_of_b_counts_the_call_a_placed_and_the_webhooks_the_worker_applied(
        metered: Path, processes: Processes, stack: dict[str, str],  # noqa: F811 - the imported fixtures
        world: TenantWorld, app: FastAPI) -> None:
    started = time.time()
    processes.start("worker")
    await wait_for_a_sweep(started)
    headers = world.member.headers
    async with httpx.AsyncClient(base_url=stack["a"], timeout=30) as client:
        agents = await available_agents(client, headers)
        placed = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": agents[0]["agentId"]},
                                   headers=headers)
        assert placed.status_code == 200 and placed.json()["success"], placed.text
        call = placed.json()["callLog"]
        await wait_for_status(client, call["id"], headers, "completed")
    async with transaction(app.state.container.sessionmaker) as session:
        applied = (await session.execute(select(WebhookDelivery.kind, func.count()).where(
            WebhookDelivery.account_id == call["elevenLabsConfigId"], WebhookDelivery.processed_at.is_not(None))
            .group_by(WebhookDelivery.kind))).all()
    assert applied, "the simulator's webhooks were stored and applied"
    b = await scrape(stack["b"])
    # one placement, made by A, counted in B's scrape; exactly one dial at the provider
    assert series(b, "leadcall_placements_total") == {frozenset({("result", "placed"), ("code", "none")}): 1}
    assert series(b, "leadcall_placement_seconds_count") == {frozenset(): 1}
    ended = series(b, "leadcall_calls_ended_total")
    assert list(ended.values()) == [1] and dict(next(iter(ended)))["status"] == "completed"
    dials = {dict(k)["status"]: v for k, v in series(b, "leadcall_provider_requests_total").items()
             if dict(k)["endpoint"] == "/v1/convai/twilio/outbound-call"}
    assert dials == {"200": 1}
    # B received the webhooks, the worker process applied them: both counted in the one scrape
    received = {dict(k)["type"]: v for k, v in series(b, "leadcall_webhooks_received_total").items()
                if dict(k)["result"] == "stored"}
    applied_by_kind = {str(kind): float(n) for kind, n in applied}
    assert received == applied_by_kind
    assert {dict(k)["type"]: v for k, v in series(b, "leadcall_webhook_apply_seconds_count").items()} == (
        applied_by_kind)
    lag = {dict(k)["job"]: v for k, v in series(b, "leadcall_job_lag_seconds_count").items()}
    # (jobs earlier tests left in the shared queue run too: at least ours)
    assert lag.get("process_webhook", 0) >= sum(applied_by_kind.values()) and lag.get("sweep", 0) >= 1
    a = await scrape(stack["a"])  # any process answers the same sums
    for name in ("leadcall_placements_total", "leadcall_webhooks_received_total", "leadcall_provider_requests_total"):
        assert series(a, name) == series(b, name), name
