"""The campaigns' API: settings and their bad input, roles, another tenant's ids, the preview of who will be
called and who is skipped and why, leads called in their own hours, the attempts and the results CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from leadcall.campaigns import results
from tests.campaigns.helpers import act, attempts, calls_of, dispatcher, new_campaign, new_lead, read
from tests.live import CallWorld, LiveServer, finish_jobs, make_call_world


def body(cw: CallWorld, lead_ids: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": "List", "agentIds": [cw.agent_ids[0]], "leads": {"ids": lead_ids}, **extra}


async def test_bad_input_answers_a_clear_4xx_and_writes_nothing(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await new_lead(live_client, cw, "+12025550180")
    headers = cw.world.manager.headers
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "x", "leads": {"ids": [lead]}}, 422, "agentIds"),
        (body(cw, [lead], leads={"ids": [lead], "filter": {"q": "a"}}), 422, "leads"),
        (body(cw, [lead], startAt="2030-01-02T10:00:00Z", endAt="2030-01-01T10:00:00Z"), 422, "endAt"),
        (body(cw, [lead], startAt="2030-01-02T10:00:00"), 422, "offset"),
        (body(cw, [lead], windows=[{"days": ["mon"], "start": "10:00", "end": "09:00"}]), 422, "end after"),
        (body(cw, [lead], windows=[{"days": ["mon"], "start": "09:00", "end": "12:00"},
                                   {"days": ["mon"], "start": "11:00", "end": "13:00"}]), 422, "overlap"),
        (body(cw, [lead], retry={"busy": {"afterSeconds": 1, "maxAttempts": 2}}), 422, "afterSeconds"),
        (body(cw, [lead], callsPerSecond=0), 422, "callsPerSecond"),
        (body(cw, [lead], stopOn=["never"]), 422, "stopOn"),
        (body(cw, [lead], agentIds=["agent_nobody"]), 422, "campaign_agent_unknown"),
        (body(cw, [lead, "00000000-0000-0000-0000-000000000000"]), 404, "not_found"),
    ]
    for sent, status, says in cases:
        r = await live_client.post("/api/campaigns", json=sent, headers=headers)
        assert r.status_code == status, (sent, r.text)
        assert says in r.text, (says, r.text)
        assert r.json()["error"]
    listed = (await live_client.get("/api/campaigns", headers=headers)).json()
    assert listed["items"] == [], "nothing was written"
    r = await live_client.get("/api/campaigns", params={"cursor": "nonsense!"}, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "cursor_invalid"


async def test_roles_and_another_tenants_ids(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await new_lead(live_client, cw, "+12025550181")
    r = await live_client.post("/api/campaigns", json=body(cw, [lead]), headers=cw.world.member.headers)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed", "members see campaigns, not run them"
    campaign = await new_campaign(live_client, cw, [lead])
    path = f"/api/campaigns/{campaign['id']}"
    assert (await live_client.get(path, headers=cw.world.member.headers)).status_code == 200
    r = await live_client.post(f"{path}/start", headers=cw.world.member.headers)
    assert r.status_code == 403
    # A member of another organization of the same tenant does not see it; the tenant's admin does.
    assert (await live_client.get(path, headers=cw.world.other_org_member.headers)).status_code == 404
    assert (await live_client.get(path, headers=cw.world.admin.headers)).status_code == 200
    other = await make_call_world(live, live_client)
    intruder = other.world.admin.headers
    for method, suffix, sent in (("GET", "", None), ("PATCH", "", {"name": "mine"}), ("DELETE", "", None),
                                 ("GET", "/preview", None), ("POST", "/start", None), ("POST", "/pause", None),
                                 ("POST", "/resume", None), ("POST", "/cancel", {"hangUp": True}),
                                 ("GET", "/attempts", None), ("GET", "/export?format=csv", None),
                                 ("GET", "/report", None)):
        r = await live_client.request(method, f"{path}{suffix}", json=sent, headers=intruder)
        assert r.status_code == 404, (method, suffix, r.text)
    # Another tenant's lead in the selection is a lead not found, not a way to call it.
    r = await live_client.post("/api/campaigns", json=body(other, [lead]), headers=other.world.manager.headers)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (await read(live_client, cw, campaign["id"]))["name"] == "Q4 list"


async def test_life_cycle_conflicts(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await new_lead(live_client, cw, "+12025550108")
    campaign = await new_campaign(live_client, cw, [lead])
    path = f"/api/campaigns/{campaign['id']}"
    headers = cw.world.manager.headers
    r = await live_client.post(f"{path}/pause", headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "campaign_not_running"
    r = await live_client.patch(path, json={"name": "Renamed", "maxLiveCalls": 1}, headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    await act(live_client, cw, campaign["id"], "start")
    for method, suffix, sent, code in (("POST", "/start", None, "campaign_not_draft"),
                                       ("PATCH", "", {"name": "x"}, "campaign_not_editable"),
                                       ("DELETE", "", None, "campaign_active")):
        r = await live_client.request(method, f"{path}{suffix}", json=sent, headers=headers)
        assert r.status_code == 409 and r.json()["code"] == code, r.text
    await act(live_client, cw, campaign["id"], "pause")
    r = await live_client.patch(path, json={"leads": {"ids": [lead]}}, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "campaign_leads_fixed"
    await act(live_client, cw, campaign["id"], "cancel")
    r = await live_client.post(f"{path}/cancel", headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "campaign_already_ended"
    assert (await live_client.delete(path, headers=headers)).status_code == 204
    assert (await live_client.get(path, headers=headers)).status_code == 404
    assert len(await calls_of(live_client, cw, lead)) <= 1, "its calls are kept"


async def test_the_preview_counts_who_will_be_called_and_lists_who_is_skipped_and_why(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    callable_leads = [await new_lead(live_client, cw, f"+120255501{90 + i}") for i in range(3)]
    listed = await new_lead(live_client, cw, "+12025550195")
    no_phone = await new_lead(live_client, cw, None)
    r = await live_client.post("/api/dnc", json={"phone": "+12025550195", "reason": "asked"},
                               headers=cw.world.admin.headers)
    assert r.status_code in (200, 201), r.text
    campaign = await new_campaign(live_client, cw, [*callable_leads, listed, no_phone])
    preview = (await live_client.get(f"/api/campaigns/{campaign['id']}/preview",
                                     headers=cw.world.member.headers)).json()
    assert preview["total"] == 5 and preview["willCall"] == 3
    assert {s["code"]: s["count"] for s in preview["skipped"]} == {"number_on_dnc": 1, "lead_has_no_phone": 1}
    assert {(s["leadId"], s["code"]) for s in preview["skippedLeads"]} == {
        (listed, "number_on_dnc"), (no_phone, "lead_has_no_phone")}
    one = (await live_client.get(f"/api/campaigns/{campaign['id']}/preview", params={"limit": 1},
                                 headers=cw.world.member.headers)).json()
    assert len(one["skippedLeads"]) == 1 and one["nextCursor"]
    rest = (await live_client.get(f"/api/campaigns/{campaign['id']}/preview",
                                  params={"limit": 1, "cursor": one["nextCursor"]},
                                  headers=cw.world.member.headers)).json()
    assert {one["skippedLeads"][0]["leadId"], rest["skippedLeads"][0]["leadId"]} == {listed, no_phone}
    assert rest["nextCursor"] is None
    # No calling window before the end: the campaign's own window opens after its end date.
    zone = ZoneInfo("America/New_York")
    local = datetime.fromtimestamp(live.clock.now(), tz=zone)
    opens = (local + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    narrow = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": f"{opens:%H}:00",
               "end": f"{opens:%H}:30"}]
    late = await new_campaign(live_client, cw, callable_leads[:1], windows=narrow,
                              endAt=(local + timedelta(hours=1)).isoformat())
    preview = (await live_client.get(f"/api/campaigns/{late['id']}/preview", headers=cw.world.member.headers)).json()
    assert preview["willCall"] == 0 and preview["skipped"] == [{"code": "no_calling_window", "count": 1}]
    # Consent required by the team: a lead without it is skipped as such.
    r = await live_client.put("/api/calling-rules", headers=cw.world.admin.headers, json={
        "windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}],
        "requireConsent": True, "regionRules": False})
    assert r.status_code == 200, r.text
    r = await live_client.post(f"/api/leads/{callable_leads[0]}/consent", json={"source": "form"},
                               headers=cw.world.member.headers)
    assert r.status_code in (200, 201), r.text
    preview = (await live_client.get(f"/api/campaigns/{campaign['id']}/preview",
                                     headers=cw.world.member.headers)).json()
    assert preview["willCall"] == 1
    assert {s["code"]: s["count"] for s in preview["skipped"]} == {"no_consent": 2, "number_on_dnc": 1,
                                                                   "lead_has_no_phone": 1}
    started = await act(live_client, cw, campaign["id"], "start")
    assert started["counts"]["skipped"] == 4 and started["counts"]["pending"] + started["counts"]["live"] == 1


async def test_leads_in_madrid_and_new_york_are_called_in_their_own_hours(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    r = await live_client.put("/api/calling-rules", headers=cw.world.admin.headers, json={
        "windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "09:00", "end": "20:00"}],
        "regionRules": False})
    assert r.status_code == 200, r.text
    madrid, new_york = ZoneInfo("Europe/Madrid"), ZoneInfo("America/New_York")
    # To 10:00 in Madrid (04:00 in New York): Madrid's lead is in its hours, New York's is not.
    local = datetime.fromtimestamp(live.clock.now(), tz=madrid)
    ten = local.replace(hour=10, minute=0, second=0, microsecond=0)
    if ten <= local:
        ten += timedelta(days=1)
    live.clock.advance((ten - local).total_seconds())
    in_madrid = await new_lead(live_client, cw, "+12025550220", timezone="Europe/Madrid")
    in_new_york = await new_lead(live_client, cw, "+12025550221", timezone="America/New_York")
    campaign = await new_campaign(live_client, cw, [in_madrid, in_new_york])
    await act(live_client, cw, campaign["id"], "start")
    await dispatcher(live).dispatch()
    await finish_jobs(live)
    assert len(await calls_of(live_client, cw, in_madrid)) == 1
    assert await calls_of(live_client, cw, in_new_york) == []
    waiting = next(a for a in await attempts(live_client, cw, campaign["id"]) if a["leadId"] == in_new_york)
    due = datetime.fromisoformat(waiting["dueAt"]).astimezone(new_york)
    assert (due.hour, due.minute) == (9, 0), "due at 09:00 New York time"
    now = datetime.fromtimestamp(live.clock.now(), tz=UTC)
    live.clock.advance((due - now).total_seconds() + 1)
    for _ in range(3):  # a dial the provider could not take (a refused connection on a busy machine) comes again
        await dispatcher(live).dispatch()
        await finish_jobs(live)
        if await calls_of(live_client, cw, in_new_york):
            break
        live.clock.advance(31)
    [call] = await calls_of(live_client, cw, in_new_york)
    placed = datetime.fromisoformat(call["timestamp"])
    assert 9 <= placed.astimezone(new_york).hour < 20
    [madrid_call] = await calls_of(live_client, cw, in_madrid)
    assert 9 <= datetime.fromisoformat(madrid_call["timestamp"]).astimezone(madrid).hour < 20


async def test_attempts_and_the_results_csv(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await new_lead(live_client, cw, "+12025550100", name='=HYPERLINK("http://x","y")')
    campaign = await new_campaign(live_client, cw, [lead])
    await act(live_client, cw, campaign["id"], "start")
    await dispatcher(live).dispatch()
    await finish_jobs(live)
    page = (await live_client.get(f"/api/campaigns/{campaign['id']}/attempts",
                                  params={"state": "dialing", "limit": 1}, headers=cw.world.member.headers)).json()
    assert [a["leadId"] for a in page["items"]] == [lead] and page["nextCursor"] is None
    assert page["items"][0]["callId"]
    r = await live_client.get(f"/api/campaigns/{campaign['id']}/attempts", params={"state": "nonsense"},
                              headers=cw.world.member.headers)
    assert r.status_code == 422
    r = await live_client.get(f"/api/campaigns/{campaign['id']}/export", params={"format": "csv"},
                              headers=cw.world.member.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1 and rows[0]["leadId"] == lead and rows[0]["state"] == "dialing"
    assert rows[0]["leadName"].startswith("'="), "a formula is shown as text"
    r = await live_client.get(f"/api/campaigns/{campaign['id']}/export", params={"format": "xlsx"},
                              headers=cw.world.member.headers)
    assert r.status_code == 422


async def test_the_results_csv_streams_in_chunks_and_misses_nobody(live: LiveServer, live_client: httpx.AsyncClient,
                                                                   cw: CallWorld,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    leads = [await new_lead(live_client, cw, f"+1202555013{i}") for i in range(5)]
    campaign = await new_campaign(live_client, cw, leads)
    await act(live_client, cw, campaign["id"], "start")
    path = f"/api/campaigns/{campaign['id']}/export"
    whole = await live_client.get(path, headers=cw.world.member.headers)
    sent: list[int] = []
    batches = results._attempt_batches

    async def counted(*args: Any) -> AsyncIterator[list[list[object]]]:
        async for batch in batches(*args):
            sent.append(len(batch))
            yield batch

    monkeypatch.setattr(results, "EXPORT_CHUNK", 2)
    monkeypatch.setattr(results, "_attempt_batches", counted)
    chunked = await live_client.get(path, headers=cw.world.member.headers)
    assert sent == [2, 2, 1], "read two attempts at a time"
    # (the dispatcher may move an attempt on between the two reads: rows are compared by who and which attempt)
    for text in (whole.text, chunked.text):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert sorted((r["leadId"], r["attempt"]) for r in rows) == sorted((lead, "1") for lead in leads)
    assert chunked.text.splitlines()[0] == whole.text.splitlines()[0]
    missing = await live_client.get(f"/api/campaigns/{uuid.uuid4()}/export", headers=cw.world.member.headers)
    assert missing.status_code == 404
