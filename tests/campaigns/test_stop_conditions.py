"""Stop conditions on the lead itself: a lead marked won, or given to another owner after the campaign started,
gets no further attempt (its pending one ends with the reason); a lead reassigned before the start is called."""

from __future__ import annotations

import httpx

from tests.campaigns.helpers import act, attempts, calls_of, dispatcher, new_campaign, new_lead, read
from tests.live import CallWorld, LiveServer, finish_jobs, play

NO_ANSWER = "+12025550103"
RETRY = {"no_answer": {"afterSeconds": 600, "maxAttempts": 2}}


async def test_a_lead_won_or_reassigned_after_the_start_is_not_called_again(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    won, moved, moved_before = [await new_lead(live_client, cw, NO_ANSWER, ownerId=cw.world.member.user_id)
                                for _ in range(3)]
    r = await live_client.patch(f"/api/leads/{moved_before}", json={"ownerId": cw.world.manager.user_id},
                                headers=cw.world.manager.headers)
    assert r.status_code == 200, r.text
    campaign = await new_campaign(live_client, cw, [won, moved, moved_before], retry=RETRY)
    assert "won" in campaign["stopOn"] and "reassigned" in campaign["stopOn"]
    await act(live_client, cw, campaign["id"], "start")
    for _ in range(12):  # the first attempts ring out unanswered; each lead gets its retry
        await dispatcher(live).dispatch()
        await play(live, 20)
        await finish_jobs(live)
        if len(await attempts(live_client, cw, campaign["id"])) == 6:
            break
    rows = await attempts(live_client, cw, campaign["id"])
    assert sorted((r["attempt"], r["state"]) for r in rows) == [(1, "done")] * 3 + [(2, "pending")] * 3
    for lead, change in ((won, {"status": "won"}), (moved, {"ownerId": cw.world.manager.user_id})):
        r = await live_client.patch(f"/api/leads/{lead}", json=change, headers=cw.world.manager.headers)
        assert r.status_code == 200, r.text
    live.clock.advance(700)
    for _ in range(8):
        await dispatcher(live).dispatch()
        await play(live, 20)
        await finish_jobs(live)
        if (await read(live_client, cw, campaign["id"]))["state"] == "completed":
            break
    retries = {r["leadId"]: r for r in await attempts(live_client, cw, campaign["id"]) if r["attempt"] == 2}
    assert (retries[won]["state"], retries[won]["code"]) == ("canceled", "stopped_won")
    assert (retries[moved]["state"], retries[moved]["code"]) == ("canceled", "stopped_reassigned")
    assert retries[moved_before]["state"] == "done", "its owner at the start is its owner still"
    assert [len(await calls_of(live_client, cw, lead)) for lead in (won, moved, moved_before)] == [1, 1, 2]
    ended = await read(live_client, cw, campaign["id"])
    assert ended["state"] == "completed" and ended["counts"]["canceled"] == 2


async def test_without_the_condition_a_reassigned_lead_is_called_again(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await new_lead(live_client, cw, NO_ANSWER, ownerId=cw.world.member.user_id)
    campaign = await new_campaign(live_client, cw, [lead], retry=RETRY, stopOn=["interested", "won"])
    await act(live_client, cw, campaign["id"], "start")
    for _ in range(12):
        await dispatcher(live).dispatch()
        await play(live, 20)
        await finish_jobs(live)
        if len(await attempts(live_client, cw, campaign["id"])) == 2:
            break
    r = await live_client.patch(f"/api/leads/{lead}", json={"ownerId": cw.world.manager.user_id},
                                headers=cw.world.manager.headers)
    assert r.status_code == 200, r.text
    live.clock.advance(700)
    await dispatcher(live).dispatch()
    assert len(await calls_of(live_client, cw, lead)) == 2
