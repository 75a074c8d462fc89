"""The dispatcher: each lead dialled through the placement saga, retried by its phone result, stopped by its
outcome, paused and canceled at once, never dialled twice by racing or killed workers, within the spending cap,
fair across campaigns."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from leadcall.calls.models import CallLog
from leadcall.campaigns.dispatcher import CLAIM_SECONDS, DISPATCH_JOB, CampaignDispatcher, Claimed
from leadcall.campaigns.models import Campaign
from leadcall.core.db import transaction
from leadcall.core.jobs import InProcessJobs
from leadcall.kit.clock import ManualClock
from tests.calls.test_metrics import metrics_on, moved, scrape  # noqa: F401 (metrics_on is a fixture)
from tests.campaigns.helpers import (
    act,
    attempts,
    calls_of,
    dispatcher,
    new_campaign,
    new_lead,
    read,
    run_to_end,
    total_calls,
)
from tests.live import CallWorld, LiveServer, finish_jobs, make_call_world, play

INTERESTED, NOT_INTERESTED, NO_ANSWER, BUSY, VOICEMAIL, LONG = (
    "+12025550100", "+12025550101", "+12025550103", "+12025550104", "+12025550105", "+12025550108")


async def test_each_lead_is_called_and_retried_by_its_phone_result(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    numbers = {"interested": INTERESTED, "no_answer": NO_ANSWER, "busy": BUSY, "voicemail": VOICEMAIL}
    leads = {name: await new_lead(live_client, cw, phone) for name, phone in numbers.items()}
    campaign = await new_campaign(live_client, cw, list(leads.values()))
    assert campaign["state"] == "draft" and campaign["counts"]["total"] == 0
    started = await act(live_client, cw, campaign["id"], "start")
    assert started["state"] == "running" and started["counts"] == {
        "total": 4, "pending": 4, "live": 0, "done": 0, "skipped": 0, "canceled": 0}
    ended = await run_to_end(live, live_client, cw, campaign["id"])
    assert ended["state"] == "completed" and ended["endCode"] == "all_called"
    rows = await attempts(live_client, cw, campaign["id"])
    tries = Counter(r["leadId"] for r in rows)
    # no answer: 2 attempts at most; busy: 3; voicemail: 1; an interested lead is never called again.
    assert tries == {leads["interested"]: 1, leads["no_answer"]: 2, leads["busy"]: 3, leads["voicemail"]: 1}
    for name, lead_id in leads.items():
        calls = await calls_of(live_client, cw, lead_id)
        assert len(calls) == tries[lead_id], name
        own = sorted((r for r in rows if r["leadId"] == lead_id), key=lambda r: r["attempt"])
        assert [r["callId"] for r in own] == [c["id"] for c in reversed(calls)]
        assert {r["state"] for r in own} == {"done"}
    by_lead = {r["leadId"]: r for r in rows}
    assert by_lead[leads["interested"]]["outcome"] == "interested"
    assert by_lead[leads["voicemail"]]["phoneResult"] == "voicemail"
    assert ended["counts"]["done"] == 4 and ended["byOutcome"]["interested"] == 1
    retry_gap = [r for r in rows if r["leadId"] == leads["busy"]]
    first, second = sorted(retry_gap, key=lambda r: r["attempt"])[:2]
    assert datetime.fromisoformat(second["dueAt"]) - datetime.fromisoformat(first["updatedAt"]) >= timedelta(
        seconds=9), "the next attempt waits the policy's afterSeconds"
    report = (await live_client.get(f"/api/campaigns/{campaign['id']}/report", headers=cw.world.member.headers)).json()
    total = report["total"]
    # Voicemail is left out of the connect rate: of 6 dials that were not voicemail, one reached the lead.
    assert total["voicemail"] == 1 and total["dialled"] == 6 and total["reached"] == 1
    assert total["connectRate"] == round(1 / 6, 4) and total["interested"] == 1
    assert report["byAgent"][0]["agentId"] == cw.agent_ids[0]


async def test_stop_conditions_end_a_leads_attempts_when_it_is_reached_otherwise(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, NO_ANSWER)
    campaign = await new_campaign(live_client, cw, [lead_id], retry={
        "no_answer": {"afterSeconds": 3600, "maxAttempts": 3}})
    await act(live_client, cw, campaign["id"], "start")
    await dispatcher(live).dispatch()
    for _ in range(6):
        await play(live, 20)
        await finish_jobs(live)
        if len(await attempts(live_client, cw, campaign["id"])) == 2:
            break
    [first, retry] = sorted(await attempts(live_client, cw, campaign["id"]), key=lambda r: r["attempt"])
    assert first["phoneResult"] == "no_answer" and retry["state"] == "pending"
    # The seller calls the lead themselves and it says it is interested: a stop condition.
    r = await live_client.patch(f"/api/leads/{lead_id}", json={"phone": INTERESTED}, headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    r = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 90)
    await finish_jobs(live)
    rows = sorted(await attempts(live_client, cw, campaign["id"]), key=lambda r: r["attempt"])
    assert rows[1]["state"] == "canceled" and rows[1]["code"] == "stopped_interested"
    assert (await read(live_client, cw, campaign["id"]))["state"] == "completed"
    live.clock.advance(3700)
    await dispatcher(live).dispatch()
    assert len(await calls_of(live_client, cw, lead_id)) == 2, "the campaign did not call an interested lead again"


async def test_pause_stops_new_dials_at_once_resume_goes_on_and_cancel_hangs_up(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    leads = [await new_lead(live_client, cw, LONG) for _ in range(5)]
    campaign = await new_campaign(live_client, cw, leads, maxLiveCalls=2)
    await act(live_client, cw, campaign["id"], "start")
    await dispatcher(live).dispatch()
    await finish_jobs(live)
    running = await read(live_client, cw, campaign["id"])
    assert running["liveCalls"] == 2 and running["counts"]["pending"] == 3
    paused = await act(live_client, cw, campaign["id"], "pause")
    assert paused["state"] == "paused" and paused["liveCalls"] == 2
    await play(live, 30)  # the live calls go on; nothing new is dialled
    await dispatcher(live).dispatch()
    await finish_jobs(live)
    assert await total_calls(live_client, cw, leads) == 2
    r = await live_client.patch(f"/api/campaigns/{campaign['id']}", json={"maxLiveCalls": 3},
                                headers=cw.world.manager.headers)
    assert r.status_code == 200 and r.json()["maxLiveCalls"] == 3, "a paused campaign can be edited"
    resumed = await act(live_client, cw, campaign["id"], "resume")
    assert resumed["state"] == "running"
    await dispatcher(live).dispatch()
    await finish_jobs(live)
    assert (await read(live_client, cw, campaign["id"]))["liveCalls"] == 3
    canceled = await act(live_client, cw, campaign["id"], "cancel", {"hangUp": True})
    assert canceled["hungUp"] == 3 and canceled["notHungUp"] == []
    assert canceled["campaign"]["state"] == "canceled" and canceled["campaign"]["counts"]["canceled"] == 2
    await play(live, 30)
    await dispatcher(live).dispatch()
    calls = [c for lead in leads for c in [*(await calls_of(live_client, cw, lead))]]
    assert len(calls) == 3 and {c["status"] for c in calls} == {"canceled"}
    r = await live_client.post(f"/api/campaigns/{campaign['id']}/resume", headers=cw.world.manager.headers)
    assert r.status_code == 409 and r.json()["code"] == "campaign_not_paused"


async def started_but_not_woken(live: LiveServer, client: httpx.AsyncClient, world: CallWorld,
                                campaign: dict[str, Any], *scheduled: dict[str, Any]) -> None:
    """Started with a start time ahead (scheduled: nothing dials), then running as the sweep would make it,
    without any dispatcher run: the test decides who dispatches. `scheduled`: campaigns started so already,
    made running with it."""
    await scheduled_soon(client, world, campaign, live.clock.now())
    await finish_jobs(live)
    live.clock.advance(31)
    async with transaction(live.app.state.container.sessionmaker) as session:
        await session.execute(update(Campaign).where(Campaign.id.in_([c["id"] for c in (campaign, *scheduled)]))
                              .values(state="running"))


async def scheduled_soon(client: httpx.AsyncClient, world: CallWorld, campaign: dict[str, Any],
                         now: float) -> None:
    r = await client.patch(f"/api/campaigns/{campaign['id']}", headers=world.world.manager.headers, json={
        "startAt": (datetime.fromtimestamp(now, tz=UTC) + timedelta(seconds=30)).isoformat()})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/campaigns/{campaign['id']}/start", headers=world.world.manager.headers)
    assert r.status_code == 200 and r.json()["state"] == "scheduled", r.text


def another_dispatcher(live: LiveServer, kind: type[CampaignDispatcher] = CampaignDispatcher) -> CampaignDispatcher:
    app = live.app
    return kind(sessionmaker=app.state.container.sessionmaker, calls=app.state.call_service,
                campaigns=app.state.campaigns, clock=live.clock, jobs=None)


async def test_a_pause_between_claim_and_reservation_dials_nobody(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await new_lead(live_client, cw, INTERESTED)
    campaign = await new_campaign(live_client, cw, [lead_id])
    await started_but_not_woken(live, live_client, cw, campaign)
    held = another_dispatcher(live)
    claimed = await held._claim(campaign["id"])
    assert isinstance(claimed, Claimed) and claimed.lead_id == lead_id
    # The pause is answered while that dispatcher holds its claim; its reservation then sees the pause.
    await act(live_client, cw, campaign["id"], "pause")
    await held._dial(claimed)
    assert await calls_of(live_client, cw, lead_id) == []
    [row] = await attempts(live_client, cw, campaign["id"])
    assert row["state"] in ("pending", "due") and row["callId"] is None
    await act(live_client, cw, campaign["id"], "resume")
    await dispatcher(live).dispatch()
    await finish_jobs(live)
    assert len(await calls_of(live_client, cw, lead_id)) == 1, "resumed, it is dialled once"


async def test_racing_dispatchers_and_a_killed_one_dial_each_lead_exactly_once(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    leads = [await new_lead(live_client, cw, f"+120255501{60 + i}") for i in range(6)]
    campaign = await new_campaign(live_client, cw, leads, maxLiveCalls=3)
    await started_but_not_woken(live, live_client, cw, campaign)
    second = another_dispatcher(live)
    # A worker claims an attempt and is killed before it dials: its lease holds the attempt until it lapses.
    killed = await another_dispatcher(live)._claim(campaign["id"])
    assert isinstance(killed, Claimed)
    await asyncio.gather(dispatcher(live).dispatch(), second.dispatch(), dispatcher(live).dispatch())
    await finish_jobs(live)
    assert await calls_of(live_client, cw, killed.lead_id) == [], "held by the dead worker's lease"
    for _ in range(40):
        if (await read(live_client, cw, campaign["id"]))["state"] != "running":
            break
        await play(live, 10)
        live.clock.advance(CLAIM_SECONDS / 4)
        await asyncio.gather(dispatcher(live).dispatch(), second.dispatch())
        await finish_jobs(live)
    assert (await read(live_client, cw, campaign["id"]))["state"] == "completed"
    assert [len(await calls_of(live_client, cw, lead)) for lead in leads] == [1] * 6
    async with transaction(live.app.state.container.sessionmaker) as session:
        keys = list((await session.execute(select(CallLog.idempotency_key).where(
            CallLog.lead_id.in_(leads)))).scalars())
    assert len(keys) == 6 and all(k and k.startswith("campaign:") for k in keys)
    assert f"campaign:{killed.attempt_id}" in keys, "the killed worker's attempt was dialled once, later"


async def test_the_spending_cap_stops_the_campaign(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    leads = [await new_lead(live_client, cw, f"+120255501{70 + i}") for i in range(3)]
    campaign = await new_campaign(live_client, cw, leads, maxLiveCalls=1, spendingCap=0.0001)
    await act(live_client, cw, campaign["id"], "start")
    ended = await run_to_end(live, live_client, cw, campaign["id"])
    assert ended["endCode"] == "spending_cap_reached" and ended["cost"] > 0
    assert ended["counts"]["done"] == 1 and ended["counts"]["canceled"] == 2
    assert await total_calls(live_client, cw, leads) == 1


class RecordingDispatcher(CampaignDispatcher):
    """Records whose attempt each dial is, and lets a little time pass per dial (pacing sees real gaps)."""

    order: list[str] = []

    async def _dial(self, claimed: Claimed) -> None:
        self.order.append(claimed.campaign_id)
        assert isinstance(self.clock, ManualClock)
        self.clock.advance(0.05)
        await super()._dial(claimed)


async def test_a_big_campaign_does_not_delay_another_tenants_small_one(
        live: LiveServer, live_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = live.app.state.jobs
    if isinstance(jobs, InProcessJobs):  # only the recording dispatcher dials here (with Redis nobody serves arq)
        async def nobody() -> None:
            return None

        monkeypatch.setitem(jobs.handlers, DISPATCH_JOB, nobody)
    big_world = await make_call_world(live, live_client, concurrency_limit=40)
    small_world = await make_call_world(live, live_client)
    big_leads = [await new_lead(live_client, big_world, f"+120255502{i:02d}") for i in range(12)]
    small_leads = [await new_lead(live_client, small_world, f"+120255503{i:02d}") for i in range(2)]
    big = await new_campaign(live_client, big_world, big_leads, maxLiveCalls=30)
    small = await new_campaign(live_client, small_world, small_leads, maxLiveCalls=3)
    await scheduled_soon(live_client, big_world, big, live.clock.now())
    await started_but_not_woken(live, live_client, small_world, small, big)
    recorder = another_dispatcher(live, RecordingDispatcher)
    assert isinstance(recorder, RecordingDispatcher)
    recorder.order = []
    await recorder.dispatch()
    first = list(recorder.order)
    for _ in range(5):  # a dial the provider could not take (a refused connection on a busy machine) comes again
        if await total_calls(live_client, big_world, big_leads) == 12:
            break
        live.clock.advance(31)
        await recorder.dispatch()
    assert [len(await calls_of(live_client, big_world, lead)) for lead in big_leads] == [1] * 12, [
        (a["state"], a["code"], a["detail"]) for a in await attempts(live_client, big_world, big["id"])]
    # Round robin: the small campaign's two dials come within the first rounds, not after the big one's twelve.
    assert first[:4].count(small["id"]) == 2, first
    assert await total_calls(live_client, small_world, small_leads) == 2


@pytest.mark.usefixtures("metrics_on")
async def test_the_dispatchers_dials_are_counted_in_the_metrics(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    leads = [await new_lead(live_client, cw, phone) for phone in (INTERESTED, NOT_INTERESTED, BUSY)]
    campaign = await new_campaign(live_client, cw, leads)
    before = await scrape(live_client)
    await act(live_client, cw, campaign["id"], "start")
    assert (await run_to_end(live, live_client, cw, campaign["id"]))["state"] == "completed"
    dials = moved(before, await scrape(live_client), "leadcall_campaign_dials_total")
    placed = dials.pop(frozenset({("result", "placed"), ("code", "")}), 0)
    # Each call the campaign made is one dial counted as placed (busy: three attempts); what else moved is a
    # refusal the dispatcher tried again (a busy machine's provider refusing a connection), counted by code.
    assert placed == await total_calls(live_client, cw, leads) == 5
    assert all(dict(labels)["result"] == "refused" for labels in dials)
