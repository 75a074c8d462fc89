from __future__ import annotations

import asyncio
import csv
import io

import httpx

from leadcall.billing.service import ALERTS_SWEEP_SECONDS
from tests.live import CallWorld, LiveServer, finish_jobs, make_call_world, play


async def make_leads(client: httpx.AsyncClient, cw: CallWorld, n: int, phone: str = "+12025550101") -> list[str]:
    ids = []
    for i in range(n):
        r = await client.post("/api/leads", json={"name": f"Budget {i}", "phone": phone}, headers=cw.world.member.headers)
        ids.append(r.json()["id"])
    return ids


async def test_concurrent_placements_never_exceed_the_budget(live: LiveServer, live_client: httpx.AsyncClient) -> None:
    cw = await make_call_world(live, live_client, concurrency_limit=500)
    admin = cw.world.admin.headers
    await live_client.put("/api/voice/providers/elevenlabs/config", headers=admin,
                          json={"id": cw.account_id, "concurrencyLimit": 500})
    r = await live_client.put("/api/budgets", headers=admin, json={"monthlyLimit": 10, "estimatedCallCost": 1})
    assert r.status_code == 200, r.text
    leads = await make_leads(live_client, cw, 100, phone="+12025550108")
    headers = cw.world.admin.headers  # admins may place, and the per-user rate limit is raised below
    live.app.state.billing.per_user = 1000
    live.app.state.billing.per_tenant = 1000

    async def place(lead_id: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as c:
            return await c.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]}, headers=headers)

    results = await asyncio.gather(*(place(lead) for lead in leads))
    placed = [r for r in results if r.status_code == 200 and r.json()["success"]]
    refused = [r for r in results if r.status_code == 402]
    others = [r.text for r in results if r not in placed and r not in refused]
    assert len(placed) == 10, others
    assert len(refused) == 90, others
    assert "budget" in refused[0].json()["detail"] and refused[0].json()["until"]
    assert refused[0].json()["code"] == "budget_spent"
    assert set(refused[0].json()["params"]) == {"limit", "currency", "used", "until"}
    dialled = [c for c in live.simulator.conversations_for(cw.sim_account)] \
        if hasattr(live.simulator, "conversations_for") else None
    if dialled is not None:
        assert len(dialled) == 10
    budgets = (await live_client.get("/api/budgets", headers=admin)).json()
    assert budgets[0]["reserved"] == 10 and budgets[0]["usedPercent"] == 100 and budgets[0]["spent"] == 0
    await finish_jobs(live)
    await live.app.state.billing.check_alerts(cw.world.tenant_id, cw.world.org_id)
    alerts = (await live_client.get("/api/alerts", headers=admin)).json()
    assert alerts == [], "holds are for admission: nothing is spent yet, so no alert"


async def test_rate_limit_answers_429_with_retry_after(live: LiveServer, live_client: httpx.AsyncClient,
                                                       cw: CallWorld) -> None:
    billing = live.app.state.billing
    billing.per_user = 2
    try:
        leads = await make_leads(live_client, cw, 3)
        codes = []
        for lead in leads:
            r = await live_client.post(f"/api/leads/{lead}/call", json={"agentId": cw.agent_ids[0]},
                                       headers=cw.world.member.headers)
            codes.append(r.status_code)
        assert codes[:2] == [200, 200] and codes[2] == 429
        assert int(r.headers["Retry-After"]) >= 1 and "try again" in r.json()["detail"]
        assert r.json()["code"] == "placements_limited_user" and r.json()["params"]["limit"] == 2
        assert r.json()["params"]["seconds"] == int(r.headers["Retry-After"])
    finally:
        billing.per_user = 10


async def test_usage_report_and_csv_agree(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    for lead in await make_leads(live_client, cw, 3, phone="+12025550100"):
        await live_client.post(f"/api/leads/{lead}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    await play(live, 150)
    report = (await live_client.get("/api/usage", headers=cw.world.manager.headers)).json()
    assert report["total"]["calls"] == 3 and report["total"]["cost"] > 0 and report["total"]["minutes"] > 0
    assert sum(x["calls"] for x in report["byOutcome"]) == 3
    assert report["byOutcome"][0]["key"] == "interested"
    text = (await live_client.get("/api/usage", params={"format": "csv"}, headers=cw.world.manager.headers)).text
    rows = list(csv.reader(io.StringIO(text)))
    total = next(r for r in rows if r[0] == "total")
    assert int(total[3]) == report["total"]["calls"]
    assert abs(float(total[6]) - report["total"]["cost"]) < 0.0001
    per_agent = sum(float(r[6]) for r in rows if r[0] == "agent")
    assert abs(per_agent - report["total"]["cost"]) < 0.001
    assert (await live_client.get("/api/usage", headers=cw.world.member.headers)).status_code == 403


async def test_retention_removes_transcripts_but_keeps_figures(live: LiveServer, live_client: httpx.AsyncClient,
                                                               cw: CallWorld) -> None:
    lead = (await make_leads(live_client, cw, 1, phone="+12025550100"))[0]
    call_id = (await live_client.post(f"/api/leads/{lead}/call", json={"agentId": cw.agent_ids[0]},
                                      headers=cw.world.member.headers)).json()["callLog"]["id"]
    await play(live, 150)
    from datetime import timedelta

    from sqlalchemy import update

    from leadcall.calls.models import CallLog
    from leadcall.core.db import transaction

    r = await live_client.put("/api/retention", json={"days": 1}, headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    async with transaction(live.app.state.container.sessionmaker) as session:  # the call, two days older
        row = await session.get(CallLog, call_id)
        assert row is not None
        await session.execute(update(CallLog).where(CallLog.id == call_id)
                              .values(created_at=row.created_at - timedelta(days=2)))
    purged = await live.app.state.retention.sweep()
    assert purged.calls >= 1
    call = (await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)).json()
    assert call["transcription"] is None and call["audioUrl"] is None
    assert call["cost"] > 0 and call["outcome"] == "interested" and call["durationSeconds"] > 0



async def completed_call(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld, phone: str = "+12025550100",
                         ) -> dict[str, object]:
    """Places a call to `phone` and lets it end; returns the call as the API shows it (with its real cost)."""
    lead = (await make_leads(client, cw, 1, phone=phone))[0]
    placed = await client.post(f"/api/leads/{lead}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert placed.status_code == 200 and placed.json()["success"], placed.text
    await play(live, 120)
    call = (await client.get(f"/api/calls/{placed.json()['callLog']['id']}", headers=cw.world.member.headers)).json()
    assert call["status"] == "completed" and call["cost"] > 0, call
    return dict(call)


async def thresholds(client: httpx.AsyncClient, cw: CallWorld) -> list[int]:
    return sorted(a["threshold"] for a in (await client.get("/api/alerts", headers=cw.world.admin.headers)).json())


async def test_alerts_are_about_real_spend_not_holds(live: LiveServer, live_client: httpx.AsyncClient,
                                                     cw: CallWorld) -> None:
    """A real 45 % with a live call's hold on top (85 % used or held) raises nothing; a real 90 % raises 50 and 80."""
    admin = cw.world.admin.headers
    cost = float(str((await completed_call(live, live_client, cw))["cost"]))
    limit = round(cost / 0.45, 4)
    r = await live_client.put("/api/budgets", headers=admin,
                              json={"monthlyLimit": limit, "estimatedCallCost": round(0.4 * limit, 4)})
    assert r.status_code == 200, r.text
    long_call = (await make_leads(live_client, cw, 1, phone="+12025550108"))[0]
    placed = await live_client.post(f"/api/leads/{long_call}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200 and placed.json()["success"], placed.text
    budget = (await live_client.get("/api/budgets", headers=admin)).json()[0]
    assert budget["usedPercent"] >= 80 and budget["spent"] == cost
    await finish_jobs(live)
    assert await live.app.state.billing.check_alerts(cw.world.tenant_id, cw.world.org_id) == 0
    assert await thresholds(live_client, cw) == []
    r = await live_client.put("/api/budgets", headers=admin,
                              json={"monthlyLimit": limit, "estimatedCallCost": round(0.1 * limit, 4)})
    assert r.status_code == 200, r.text  # room for another hold beside the long call's
    await completed_call(live, live_client, cw)  # a second call of the same cost: 90 % really spent
    await finish_jobs(live)  # the job its settled cost enqueued
    alerts = (await live_client.get("/api/alerts", headers=admin)).json()
    assert sorted(a["threshold"] for a in alerts) == [50, 80]
    assert all(abs(a["spent"] - 2 * cost) < 1e-6 for a in alerts), alerts  # what was spent, no hold


async def test_alerts_come_from_a_job_and_a_lost_job_is_made_good_by_the_sweep(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    billing, worker = live.app.state.billing, live.app.state.worker
    await worker.run_chores()  # the sweep's re-check of every budget is next due ALERTS_SWEEP_SECONDS from now
    jobs, billing.jobs = billing.jobs, None  # the process dies between its commit and the enqueue
    try:
        cost = float(str((await completed_call(live, live_client, cw))["cost"]))
    finally:
        billing.jobs = jobs
    r = await live_client.put("/api/budgets", headers=admin, json={"monthlyLimit": 2 * cost, "estimatedCallCost": cost})
    assert r.status_code == 200, r.text  # 1 of 2 calls' worth spent: 50 %
    assert await thresholds(live_client, cw) == [], "no job ran, so no alert yet"
    await worker.run_once()
    assert await thresholds(live_client, cw) == [], \
        "the sweep re-checks budgets every ALERTS_SWEEP_SECONDS, not on each pass"
    live.clock.advance(ALERTS_SWEEP_SECONDS)
    await worker.run_once()
    assert await thresholds(live_client, cw) == [50]

    await completed_call(live, live_client, cw)  # 2 of 2 spent: 80 % and 100 %, by the job its cost enqueued
    await finish_jobs(live)
    assert await thresholds(live_client, cw) == [50, 80, 100]
    # Checks run again, at once, by the job and by the sweep, raise nothing twice.
    raised = await asyncio.gather(*(billing.check_alerts(cw.world.tenant_id, cw.world.org_id) for _ in range(4)),
                                  billing.check_all_alerts())  # (which may raise other tests' tenants' alerts)
    assert raised[:4] == [0, 0, 0, 0]
    assert await thresholds(live_client, cw) == [50, 80, 100]
    live.clock.advance(ALERTS_SWEEP_SECONDS)
    await worker.run_once()
    assert await thresholds(live_client, cw) == [50, 80, 100]


async def test_concurrent_checks_raise_each_threshold_once(live: LiveServer, live_client: httpx.AsyncClient,
                                                           cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    billing = live.app.state.billing
    jobs, billing.jobs = billing.jobs, None  # only the checks below raise
    try:
        cost = float(str((await completed_call(live, live_client, cw))["cost"]))
        r = await live_client.put("/api/budgets", headers=admin, json={"monthlyLimit": cost, "estimatedCallCost": cost})
        assert r.status_code == 200, r.text
    finally:
        billing.jobs = jobs
    raised = await asyncio.gather(*(billing.check_alerts(cw.world.tenant_id, cw.world.org_id) for _ in range(5)))
    assert sum(raised) == 3, raised
    assert await thresholds(live_client, cw) == [50, 80, 100]
