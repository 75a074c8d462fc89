"""A campaign from a CSV file: its rows become leads or update the ones they match (externalId, then phone), and
are the campaign's leads; a file with a bad row writes nothing (no lead, no campaign) and names each bad row."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.campaigns.helpers import FAST_RETRY, act, attempts, new_lead
from tests.live import CallWorld, LiveServer, make_call_world


def settings(cw: CallWorld, **extra: Any) -> str:
    return json.dumps({"name": "From the CRM", "agentIds": [cw.agent_ids[0]], "maxLiveCalls": 2,
                       "retry": FAST_RETRY, **extra})


async def upload(client: httpx.AsyncClient, headers: dict[str, str], campaign: str, content: str) -> httpx.Response:
    return await client.post("/api/campaigns/import", data={"campaign": campaign},
                             files={"file": ("leads.csv", content.encode(), "text/csv")}, headers=headers)


async def leads_named(client: httpx.AsyncClient, cw: CallWorld, q: str) -> list[dict[str, Any]]:
    r = await client.get("/api/leads", params={"q": q}, headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_rows_become_or_match_leads_and_are_the_campaigns_selection(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    by_crm = await new_lead(live_client, cw, "+12025550140", externalId="crm-140")
    by_phone = await new_lead(live_client, cw, "+12025550141")
    outside = await new_lead(live_client, cw, "+12025550142")
    content = ("externalId,name,phone,timezone\n"
               "crm-140,Lead +12025550140,+12025550140,\n"  # matched by its CRM id, nothing to change
               ",Renamed By File,+12025550141,\n"  # matched by phone, renamed
               "crm-new,Brand New Lead,+12025550143,America/New_York\n")
    r = await upload(live_client, cw.world.manager.headers, settings(cw), content)
    assert r.status_code == 201, r.text
    imported, campaign = r.json()["imported"], r.json()["campaign"]
    assert (imported["created"], imported["updated"], imported["unchanged"], imported["rejected"]) == (1, 1, 1, 0)
    [new] = await leads_named(live_client, cw, "Brand New Lead")
    assert new["externalId"] == "crm-new" and new["timezone"] == "America/New_York"
    assert (await leads_named(live_client, cw, "Renamed By File"))[0]["id"] == by_phone
    assert sorted(campaign["leads"]["ids"]) == sorted([by_crm, by_phone, new["id"]])
    assert campaign["state"] == "draft" and campaign["organizationId"] == cw.world.org_id
    preview = (await live_client.get(f"/api/campaigns/{campaign['id']}/preview",
                                     headers=cw.world.member.headers)).json()
    assert preview["total"] == 3 and preview["willCall"] == 3
    await act(live_client, cw, campaign["id"], "start")
    called = {a["leadId"] for a in await attempts(live_client, cw, campaign["id"])}
    assert called == {by_crm, by_phone, new["id"]} and outside not in called


async def test_a_file_with_a_bad_row_writes_nothing_and_names_each_bad_row(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    kept = await new_lead(live_client, cw, "+12025550144", externalId="crm-144")
    content = ("externalId,name,phone\n"
               "crm-144,Should Not Rename,+12025550144\n"
               "crm-145,Good Row Nobody Keeps,+12025550145\n"
               "crm-146,Bad Phone Row,12345\n"
               "crm-147,,+12025550147\n")
    r = await upload(live_client, cw.world.manager.headers, settings(cw), content)
    assert r.status_code == 422, r.text
    sent = r.json()
    assert sent["code"] == "campaign_csv_rejected" and sent["params"]["rejected"] == 2
    problems = {row["row"]: [p["code"] for p in row["problems"]] for row in sent["rows"]}
    assert problems[4] == ["phone_invalid"] and set(problems) == {4, 5} and problems[5]
    assert await leads_named(live_client, cw, "Good Row Nobody Keeps") == [], "nothing half-written"
    assert await leads_named(live_client, cw, "Should Not Rename") == []
    r = await live_client.get(f"/api/leads/{kept}", headers=cw.world.member.headers)
    assert r.json()["name"] == "Lead +12025550144"
    assert (await live_client.get("/api/campaigns", headers=cw.world.manager.headers)).json()["items"] == []


async def test_bad_input_roles_and_another_tenants_ids(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    good = "name,phone\nImport Role Lead,+12025550148\n"
    manager = cw.world.manager.headers
    r = await upload(live_client, cw.world.member.headers, settings(cw), good)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed", "members see campaigns, not run them"
    for campaign, content, status, says in (
            ("{not json", good, 422, "campaign"),
            (json.dumps({"name": "x"}), good, 422, "agentIds"),
            (settings(cw, agentIds=["agent_nobody"]), good, 422, "campaign_agent_unknown"),
            (settings(cw, stopOn=["never"]), good, 422, "stopOn"),
            (settings(cw), "", 422, "csv_empty"),
            (settings(cw), "phone\n+12025550148\n", 422, "csv_no_name_column"),
            (settings(cw), "name,phone\n", 422, "csv_no_rows"),
            (settings(cw, organizationId=cw.world.other_org_id), good, 404, "not_found")):
        r = await upload(live_client, manager, campaign, content)
        assert r.status_code == status and says in r.text, (campaign, content, r.text)
    r = await live_client.post("/api/campaigns/import", data={"campaign": settings(cw)}, headers=manager)
    assert r.status_code == 422 and "file" in r.text
    assert await leads_named(live_client, cw, "Import Role Lead") == [], "nothing was written"
    assert (await live_client.get("/api/campaigns", headers=manager)).json()["items"] == []
    # An admin may run it for another organization of the tenant: the rows become that organization's leads.
    r = await upload(live_client, cw.world.admin.headers, settings(cw, organizationId=cw.world.other_org_id), good)
    assert r.status_code == 201, r.text
    assert r.json()["campaign"]["organizationId"] == cw.world.other_org_id
    [lead] = await leads_named(live_client, cw, "Import Role Lead")
    assert lead["organizationId"] == cw.world.other_org_id
    # Another tenant: this tenant's organization is not found, and its CRM ids match nothing of this tenant.
    mine = await new_lead(live_client, cw, "+12025550149", externalId="crm-149")
    other = await make_call_world(live, live_client)
    r = await upload(live_client, other.world.admin.headers, settings(other, organizationId=cw.world.org_id), good)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await upload(live_client, other.world.manager.headers, settings(other),
                     "externalId,name,phone\ncrm-149,Taken Over,+12025550149\n")
    assert r.status_code == 201, r.text
    assert r.json()["imported"]["created"] == 1 and mine not in r.json()["campaign"]["leads"]["ids"]
    assert (await live_client.get(f"/api/leads/{mine}", headers=cw.world.member.headers)).json()["name"] == (
        "Lead +12025550149")
