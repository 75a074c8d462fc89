"""GET /metrics: only for the bearer of the metrics token, and its counters move by exactly what happened."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import func, select

from leadcall.calls.models import WebhookDelivery
from leadcall.core import metrics
from leadcall.core.db import transaction
from tests.calls.test_placing import new_lead, place
from tests.calls.test_webhooks_and_worker import signed
from tests.live import CallWorld, LiveServer, play

TOKEN = "metrics-token-for-tests"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def metrics_on(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.app.state.container.settings, "metrics_token", SecretStr(TOKEN))
    monkeypatch.setattr(live.app.state.container.settings, "metrics_account_labels", True)


async def scrape(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    keys = {k for k in (*before, *after) if k[0] == name}
    return {k[1]: after.get(k, 0.0) - before.get(k, 0.0) for k in keys if after.get(k, 0.0) != before.get(k, 0.0)}


async def deliveries(live: LiveServer, account_id: str) -> int:
    async with transaction(live.app.state.container.sessionmaker) as session:
        return int((await session.execute(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.account_id == account_id))).scalar_one())


async def test_not_served_without_a_token_set(live_client: httpx.AsyncClient) -> None:
    r = await live_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404


@pytest.mark.usefixtures("metrics_on")
async def test_only_the_bearer_of_the_token_may_scrape(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, cw.world.admin.headers):
        r = await live_client.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["code"] == "metrics_token_required" and TOKEN not in r.text
    assert await scrape(live_client)


def of_account(moves: dict[frozenset[tuple[str, str]], float], account_id: str) -> dict[tuple[str, str], float]:
    return {(dict(k)["endpoint"], dict(k)["status"]): v for k, v in moves.items() if dict(k)["account"] == account_id}


@pytest.mark.usefixtures("metrics_on")
async def test_a_real_call_moves_the_counters_by_exactly_what_happened(live: LiveServer, live_client: httpx.AsyncClient,
                                                                      cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, "+12025550100")
    budget = await live_client.put("/api/budgets", headers=cw.world.admin.headers,
                                   json={"monthlyLimit": 100, "estimatedCallCost": 2})
    assert budget.status_code == 200, budget.text
    currency = budget.json()["currency"]
    sim_before = sum(cw.sim_account.requests.values())
    before = await scrape(live_client)
    r = await place(live_client, cw, lead_id)
    assert r.status_code == 200 and r.json()["success"] is True
    ringing = await scrape(live_client)
    assert moved(before, ringing, "leadcall_placements_total") == {frozenset({("result", "placed"), ("code", "none")}): 1}
    assert moved(before, ringing, "leadcall_placement_seconds_count") == {frozenset(): 1}
    assert value(ringing, "leadcall_calls_live", status="ringing") == value(before, "leadcall_calls_live",
                                                                            status="ringing") + 1
    assert value(ringing, "leadcall_budget_holds", currency=currency) == value(
        before, "leadcall_budget_holds", currency=currency) + 1
    # the provider requests counted for this account are the simulator's, one by one: here the dial alone
    dialled = of_account(moved(before, ringing, "leadcall_provider_requests_total"), cw.account_id)
    assert dialled == {("/v1/convai/twilio/outbound-call", "200"): 1}
    assert sum(cw.sim_account.requests.values()) - sim_before == 1
    assert moved(before, ringing, "leadcall_provider_request_seconds_count").get(
        frozenset({("endpoint", "/v1/convai/twilio/outbound-call")})) == 1
    stored_before = await deliveries(live, cw.account_id)
    sim_ringing = sum(cw.sim_account.requests.values())
    await play(live, 120)
    after = await scrape(live_client)
    webhooks = moved(ringing, after, "leadcall_webhooks_received_total")
    stored = await deliveries(live, cw.account_id) - stored_before
    assert stored >= 1 and sum(webhooks.values()) == stored
    assert all(dict(labels)["result"] == "stored" for labels in webhooks)
    assert {dict(labels)["type"] for labels in webhooks} <= {"post_call_transcription", "post_call_audio"}
    # each stored webhook was applied once, and its time to apply observed
    applied = moved(ringing, after, "leadcall_webhook_apply_seconds_count")
    assert {dict(k)["type"]: v for k, v in applied.items()} == {dict(k)["type"]: v for k, v in webhooks.items()}
    polled = of_account(moved(ringing, after, "leadcall_provider_requests_total"), cw.account_id)
    assert sum(polled.values()) == sum(cw.sim_account.requests.values()) - sim_ringing
    assert all(status == "200" for _, status in polled)
    assert moved(ringing, after, "leadcall_placements_total") == {}
    assert value(after, "leadcall_budget_holds", currency=currency) <= value(
        ringing, "leadcall_budget_holds", currency=currency) - 1
    assert value(after, "leadcall_calls_confirming") >= 0 and ("leadcall_job_queue_depth", frozenset()) in after


@pytest.mark.usefixtures("metrics_on")
async def test_provider_requests_are_summed_over_accounts_unless_asked(live: LiveServer, live_client: httpx.AsyncClient,
                                                                       cw: CallWorld,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.app.state.container.settings, "metrics_account_labels", False)
    lead_id = await new_lead(live_client, cw, "+12025550100")
    before = await scrape(live_client)
    assert (await place(live_client, cw, lead_id)).status_code == 200
    after = await scrape(live_client)
    assert moved(before, after, "leadcall_provider_requests_total") == {
        frozenset({("account", "all"), ("endpoint", "/v1/convai/twilio/outbound-call"), ("status", "200")}): 1}


def test_endpoints_name_no_ids() -> None:
    assert metrics.endpoint_of("/sim/v1/convai/conversations/conv_01jx9k2m3n4p5q") == "/v1/convai/conversations/{id}"
    assert metrics.endpoint_of("/v1/convai/agents/agent_3701k3ttaq12") == "/v1/convai/agents/{id}"
    assert metrics.endpoint_of("/v1/convai/twilio/outbound-call") == "/v1/convai/twilio/outbound-call"
    assert metrics.endpoint_of(f"/2010-04-01/Accounts/AC{'1' * 32}/Calls/CA{'a1' * 16}.json") == (
        "/2010-04-01/Accounts/{id}/Calls/{id}")


@pytest.mark.usefixtures("metrics_on")
async def test_refusals_are_counted_with_their_code(live: LiveServer, live_client: httpx.AsyncClient,
                                                    cw: CallWorld) -> None:
    no_phone = await new_lead(live_client, cw, None)
    before = await scrape(live_client)
    r = await place(live_client, cw, no_phone)
    assert r.status_code == 404 and r.json()["code"] == "lead_has_no_phone"
    body = json.dumps({"type": "call_initiation_failure", "event_timestamp": int(live.clock.now()),
                       "data": {"agent_id": "a", "conversation_id": "conv_x", "failure_reason": "busy",
                                "metadata": {"type": "twilio", "body": {}}}}).encode()
    url = f"/api/webhooks/elevenlabs/call-status?account={cw.account_id}"
    bad = await live_client.post(url, content=body, headers={"ElevenLabs-Signature": signed("other", body, 1)})
    assert bad.status_code == 401
    after = await scrape(live_client)
    assert moved(before, after, "leadcall_placements_total") == {
        frozenset({("result", "refused"), ("code", "lead_has_no_phone")}): 1}
    assert moved(before, after, "leadcall_webhooks_received_total") == {
        frozenset({("type", "unknown"), ("result", "refused_unauthenticated")}): 1}


@pytest.mark.usefixtures("metrics_on")
async def test_open_event_streams_are_counted(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    before = value(await scrape(live_client), "leadcall_sse_clients")
    async with httpx.AsyncClient(base_url=live.url, timeout=None) as c, c.stream(
            "GET", "/api/events", headers=cw.world.member.headers) as stream:
        lines = stream.aiter_lines()  # held: a dropped line iterator closes the stream
        assert (await anext(lines)).startswith(": connected")
        assert value(await scrape(live_client), "leadcall_sse_clients") == before + 1
    for _ in range(200):  # the server notices the client went away on its own schedule
        if value(await scrape(live_client), "leadcall_sse_clients") == before:
            break
        await asyncio.sleep(0.01)
    assert value(await scrape(live_client), "leadcall_sse_clients") == before


def test_several_processes_are_summed_when_prometheus_multiproc_dir_is_set(tmp_path: Path) -> None:
    """Two processes each count a placement; a third, scraping, sees both (prometheus-client's shared files)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from leadcall.core import metrics; metrics.PLACEMENTS.labels('placed', 'none').inc()"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True)
    show = "import sys; from leadcall.core import metrics; sys.stdout.write(metrics.exposition({'ringing': 3}).decode())"
    text = subprocess.run([sys.executable, "-c", show], env=env, check=True, capture_output=True, text=True).stdout
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert value(samples, "leadcall_placements_total", result="placed", code="none") == 2
    assert value(samples, "leadcall_calls_live", status="ringing") == 3
