"""The calling rules through the API: the do-not-call list by number, consent, the rules themselves,
eligibility, and placement refusing (409) with the rule's code, racing placements included."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.live import CallWorld, LiveServer

ALL_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


async def new_lead(client: httpx.AsyncClient, cw: CallWorld, phone: str | None, **extra: Any) -> str:
    r = await client.post("/api/leads", json={"name": "Pat Lead", "phone": phone, **extra},
                          headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def place(client: httpx.AsyncClient, cw: CallWorld, lead_id: str,
                headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                             headers=headers or cw.world.member.headers)


async def lead_events(client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/leads/{lead_id}/events", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_a_listed_number_is_refused_on_every_lead_that_has_it(live: LiveServer, live_client: httpx.AsyncClient,
                                                                    cw: CallWorld) -> None:
    world, client = cw.world, live_client
    first = await new_lead(client, cw, "+12025550100")
    r = await client.post("/api/dnc", json={"phone": "202 555 0100", "reason": "asked by email"},
                          headers=world.member.headers)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    r = await client.post("/api/dnc", json={"phone": "202 555 0100", "reason": "asked by email"},
                          headers=world.manager.headers)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["phone"] == "+12025550100" and entry["source"] == "api" and entry["createdBy"]
    again = await client.post("/api/dnc", json={"phone": "+12025550100"}, headers=world.manager.headers)
    assert again.status_code == 200 and again.json()["reason"] == "asked by email"
    # A lead created after the number was listed is refused too, and shows it wherever it shows.
    second = await new_lead(client, cw, "+1 (202) 555-0100")
    shown = (await client.get(f"/api/leads/{second}", headers=world.member.headers)).json()
    assert shown["dnc"]["reason"] == "asked by email" and shown["dnc"]["source"] == "api"
    listed_rows = (await client.get("/api/leads?q=5550100", headers=world.member.headers)).json()["items"]
    assert listed_rows and all(row["dnc"] is not None for row in listed_rows)
    for lead_id in (first, second):
        r = await place(client, cw, lead_id)
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "number_on_dnc" and body["params"]["reason"] == "asked by email"
        assert body["params"]["since"] and body["nextAllowedAt"] is None
        e = (await client.get(f"/api/leads/{lead_id}/eligibility", headers=world.member.headers)).json()
        assert e["allowed"] is False and e["code"] == "number_on_dnc" and e["timezone"] == "America/New_York"
        assert e["timezoneSource"] == "phone" and e["refusals"][0]["code"] == "number_on_dnc"
    refused = [e for e in await lead_events(client, cw, second) if e["kind"] == "placement_refused"]
    assert [e["code"] for e in refused] == ["number_on_dnc"] and refused[0]["actor"] == world.member.email
    assert refused[0]["params"]["reason"] == "asked by email"
    listing = (await client.get("/api/dnc?q=0100", headers=world.member.headers)).json()
    assert [i["phone"] for i in listing["items"]] == ["+12025550100"]
    # Only admins take a number off the list; the number travels URL-encoded.
    r = await client.delete("/api/dnc/%2B12025550100", headers=world.manager.headers)
    assert r.status_code == 403
    r = await client.delete("/api/dnc/%2B12025550100", headers=world.admin.headers)
    assert r.status_code == 204
    assert (await client.delete("/api/dnc/%2B12025550100", headers=world.admin.headers)).status_code == 404
    assert (await client.get(f"/api/leads/{second}/eligibility", headers=world.member.headers)).json()["allowed"]
    assert (await client.get(f"/api/leads/{second}", headers=world.member.headers)).json()["dnc"] is None
    kinds = [e["kind"] for e in await lead_events(client, cw, first)]
    assert kinds.count("dnc_added") == 1 and kinds.count("dnc_removed") == 1


async def test_a_lead_flag_lists_its_number(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    client, world = live_client, cw.world
    flagged = await new_lead(client, cw, "+12025550120", doNotCall=True, doNotCallReason="pidió no llamar")
    entry = (await client.get("/api/dnc?q=0120", headers=world.member.headers)).json()["items"][0]
    assert entry["source"] == "lead_flag" and entry["reason"] == "pidió no llamar"
    other = await new_lead(client, cw, "+12025550120")
    assert (await place(client, cw, other)).json()["code"] == "number_on_dnc"
    r = await client.patch(f"/api/leads/{flagged}", json={"doNotCall": False}, headers=world.member.headers)
    assert r.status_code == 200
    assert (await client.get("/api/dnc?q=0120", headers=world.member.headers)).json()["items"] == []


async def test_dnc_import_adds_good_rows_and_reports_each_bad_one(live_client: httpx.AsyncClient,
                                                                  cw: CallWorld) -> None:
    client, world = live_client, cw.world
    await client.post("/api/dnc", json={"phone": "+12025550131"}, headers=world.admin.headers)
    # Excel's "CSV (Macintosh)": CR line ends.
    csv_text = "phone;reason\r+1 202 555 0130;opt-out\r+12025550131;\rnot a phone;x\r;empty\r+12025550130;twice\r"
    r = await client.post("/api/dnc/import", files={"file": ("dnc.csv", csv_text.encode(), "text/csv")},
                          headers=world.manager.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 1, "alreadyListed": 2, "rejected": [
        {"row": 3, "phone": "not a phone", "code": "phone_invalid"}, {"row": 4, "phone": "", "code": "phone_missing"}]}
    entry = (await client.get("/api/dnc?q=0130", headers=world.member.headers)).json()["items"][0]
    assert entry["source"] == "import" and entry["reason"] == "opt-out"
    r = await client.post("/api/dnc/import", files={"file": ("dnc.csv", b"name\nAna\n", "text/csv")},
                          headers=world.manager.headers)
    assert r.status_code == 422 and r.json()["code"] == "csv_no_phone_column"
    r = await client.post("/api/dnc/import", files={"file": ("dnc.csv", b"phone\n+12025550139\n", "text/csv")},
                          headers=world.member.headers)
    assert r.status_code == 403
    r = await client.post("/api/dnc", json={"phone": "12"}, headers=world.admin.headers)
    assert r.status_code == 422 and r.json()["code"] == "phone_invalid" and r.json()["params"] == {"phone": "12"}


async def test_calling_rules_read_and_write_with_clear_errors(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    client, world = live_client, cw.world
    body = {"windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "13:00"},
                        {"days": ["mon"], "start": "15:00", "end": "19:30"}],
            "maxAttemptsPer24h": 2, "maxAttemptsTotal": None, "requireConsent": False, "regionRules": True,
            "timezone": "Europe/Madrid"}
    r = await client.put("/api/calling-rules", json=body, headers=world.manager.headers)
    assert r.status_code == 403
    r = await client.put("/api/calling-rules", json=body, headers=world.admin.headers)
    assert r.status_code == 200, r.text
    rules = r.json()
    assert rules["windows"] == body["windows"] and rules["maxAttemptsPer24h"] == 2
    assert rules["timezone"] == "Europe/Madrid" and not rules["inherited"]
    assert {reg["id"] for reg in rules["regions"]} == {"us_federal", "us_florida", "es"}
    org = (await client.get(f"/api/calling-rules?organizationId={world.org_id}", headers=world.member.headers)).json()
    assert org["inherited"] is True and org["windows"] == body["windows"]
    r = await client.put("/api/calling-rules", json={**body, "timezone": None, "organizationId": world.org_id,
                                                     "windows": ALL_DAY}, headers=world.admin.headers)
    assert r.status_code == 200 and r.json()["inherited"] is False and r.json()["windows"] == ALL_DAY
    bad: list[tuple[dict[str, Any], str]] = [
        ({"windows": [{"days": ["mon"], "start": "18:00", "end": "09:00"}]}, "windows.0"),
        ({"windows": [{"days": ["mon"], "start": "09:00", "end": "12:00"},
                      {"days": ["mon"], "start": "11:00", "end": "14:00"}]}, ""),
        ({"windows": [{"days": ["someday"], "start": "09:00", "end": "12:00"}]}, "windows.0.days.0"),
        ({"windows": [{"days": ["mon"], "start": "9", "end": "12:00"}]}, "windows.0.start"),
        ({"windows": []}, "windows"),
        ({"windows": ALL_DAY, "maxAttemptsPer24h": 0}, "maxAttemptsPer24h"),
    ]
    for case, field in bad:
        r = await client.put("/api/calling-rules", json=case, headers=world.admin.headers)
        assert r.status_code == 422, (case, r.text)
        assert any(f["field"].startswith(field) for f in r.json()["fields"]), (case, r.json())
    r = await client.put("/api/calling-rules", json={"windows": ALL_DAY, "timezone": "Mars/Olympus"},
                         headers=world.admin.headers)
    assert r.status_code == 422 and r.json()["code"] == "timezone_unknown" and r.json()["field"] == "timezone"
    after = (await client.get("/api/calling-rules", headers=world.admin.headers)).json()
    assert after["windows"] == body["windows"] and after["timezone"] == "Europe/Madrid"  # nothing half-written


async def test_consent_required_refuses_until_consent_is_recorded(live_client: httpx.AsyncClient,
                                                                  cw: CallWorld) -> None:
    client, world = live_client, cw.world
    r = await client.put("/api/calling-rules", json={"windows": ALL_DAY, "requireConsent": True, "regionRules": False},
                         headers=world.admin.headers)
    assert r.status_code == 200
    lead = await new_lead(client, cw, "+12025550101")
    r = await place(client, cw, lead)
    assert r.status_code == 409 and r.json()["code"] == "no_consent"
    r = await client.post(f"/api/leads/{lead}/consent", json={"source": "telepathy"}, headers=world.member.headers)
    assert r.status_code == 422
    r = await client.post(f"/api/leads/{lead}/consent", json={"source": "verbal", "at": "2026-11-30T10:00:00"},
                          headers=world.member.headers)
    assert r.status_code == 422  # a time without its offset is ambiguous
    r = await client.post(f"/api/leads/{lead}/consent", json={"source": "verbal", "text": "said yes on the phone"},
                          headers=world.member.headers)
    assert r.status_code == 201 and r.json()["source"] == "verbal"
    assert len((await client.get(f"/api/leads/{lead}/consent", headers=world.member.headers)).json()) == 1
    r = await place(client, cw, lead)
    assert r.status_code == 200 and r.json()["success"] is True, r.text


async def test_racing_placements_to_one_number_never_pass_its_cap(live_client: httpx.AsyncClient,
                                                                  cw: CallWorld) -> None:
    client, world = live_client, cw.world
    r = await client.put("/api/calling-rules", json={"windows": ALL_DAY, "maxAttemptsPer24h": 3,
                                                     "regionRules": False}, headers=world.admin.headers)
    assert r.status_code == 200
    leads = [await new_lead(client, cw, "+12025550108") for _ in range(50)]
    callers = [world.member.headers, world.manager.headers, world.admin.headers]
    answers = await asyncio.gather(*(place(client, cw, lead, callers[i % 3]) for i, lead in enumerate(leads)))
    placed = [a for a in answers if a.status_code == 200 and a.json()["success"]]
    assert len(placed) == 3, [a.status_code for a in answers]
    codes = {a.json().get("code") for a in answers if a.status_code != 200}
    assert "attempts_exhausted" in codes and codes <= {"attempts_exhausted", "placements_limited_user",
                                                       "placements_limited_tenant"}, codes
    assert all(a.status_code < 500 for a in answers)


async def test_an_admin_may_override_the_calling_hours_for_one_call_with_a_reason(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    client, world = live_client, cw.world
    today = datetime.fromtimestamp(live.clock.now(), UTC).astimezone(ZoneInfo("America/New_York"))
    other = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(today.weekday() + 3) % 7]
    r = await client.put("/api/calling-rules", json={"windows": [{"days": [other], "start": "09:00", "end": "10:00"}],
                                                     "regionRules": False}, headers=world.admin.headers)
    assert r.status_code == 200
    lead = await new_lead(client, cw, "+12025550100")
    body = {"agentId": cw.agent_ids[0], "overrideCallingHours": "the lead asked us to call back tonight"}
    r = await client.post(f"/api/leads/{lead}/call", json=body, headers=world.member.headers)
    assert r.status_code == 403 and r.json()["code"] == "override_admin_only"
    assert (await place(client, cw, lead)).json()["code"] == "outside_calling_hours"
    r = await client.post(f"/api/leads/{lead}/call", json=body, headers=world.admin.headers)
    assert r.status_code == 200 and r.json()["success"] is True, r.text
    events = await lead_events(client, cw, lead)
    overridden = [e for e in events if e["kind"] == "hours_overridden"]
    assert len(overridden) == 1 and overridden[0]["detail"] == body["overrideCallingHours"]
    assert overridden[0]["actor"] == world.admin.email
    # It overrides the hours only: a listed number stays refused.
    listed = await new_lead(client, cw, "+12025550101")
    await client.post("/api/dnc", json={"phone": "+12025550101"}, headers=world.admin.headers)
    r = await client.post(f"/api/leads/{listed}/call", json=body, headers=world.admin.headers)
    assert r.status_code == 409 and r.json()["code"] == "number_on_dnc"
