"""Leads keyed by the CRM's own id: PUT by externalId and the bulk upsert."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.factories import TenantWorld


def _ext() -> str:
    return f"crm-{uuid.uuid4().hex[:10]}"


async def _audit(client: httpx.AsyncClient, world: TenantWorld, lead_id: str) -> list[str]:
    r = await client.get(f"/api/leads/{lead_id}/events", headers=world.admin.headers)
    return [e["kind"] for e in r.json()] if r.status_code == 200 else []


async def test_put_creates_then_updates_then_changes_nothing(client: httpx.AsyncClient, world: TenantWorld) -> None:
    ext = _ext()
    path = f"/api/leads/by-external-id/{ext}"
    body = {"name": "Ana CRM", "phone": "(202) 555-0142", "doNotCall": True, "doNotCallReason": "asked"}
    created = await client.put(path, json=body, headers=world.member.headers)
    assert created.status_code == 201, created.text
    lead = created.json()
    assert lead["externalId"] == ext and lead["phone"] == "+12025550142" and lead["organizationId"] == world.org_id
    assert lead["dnc"]["source"] == "lead_flag"  # the calling rules see the flag as for any other lead
    audit = await _audit(client, world, lead["id"])
    again = await client.put(path, json=body, headers=world.member.headers)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == lead["id"] and again.json()["updatedAt"] == lead["updatedAt"]
    assert await _audit(client, world, lead["id"]) == audit  # no audit noise
    changed = await client.put(path, json={"company": "Acme"}, headers=world.member.headers)
    assert changed.status_code == 200 and changed.json()["company"] == "Acme"
    assert changed.json()["name"] == "Ana CRM"  # fields left out keep their value
    listed = (await client.get("/api/leads", params={"q": "Ana CRM"}, headers=world.member.headers)).json()
    assert listed["total"] == 1


async def test_another_teams_external_id_is_a_409(client: httpx.AsyncClient, world: TenantWorld) -> None:
    ext = _ext()
    theirs = await client.put(f"/api/leads/by-external-id/{ext}", json={"name": "Support's"},
                              headers=world.other_org_member.headers)
    assert theirs.status_code == 201
    mine = await client.put(f"/api/leads/by-external-id/{ext}", json={"name": "Mine"}, headers=world.member.headers)
    assert mine.status_code == 409 and mine.json()["code"] == "external_id_taken"
    assert mine.json()["params"] == {"externalId": ext}
    # POST and PATCH refuse the taken id as well; the admin (tenant-wide) updates that lead instead.
    posted = await client.post("/api/leads", json={"name": "Dup", "externalId": ext}, headers=world.member.headers)
    assert posted.status_code == 409 and posted.json()["code"] == "external_id_taken"
    patched = await client.patch(f"/api/leads/{world.lead_ids[0]}", json={"externalId": ext},
                                 headers=world.member.headers)
    assert patched.status_code == 409
    admin = await client.put(f"/api/leads/by-external-id/{ext}", json={"notes": "by admin"},
                             headers=world.admin.headers)
    assert admin.status_code == 200 and admin.json()["id"] == theirs.json()["id"]
    still = await client.get(f"/api/leads/{theirs.json()['id']}", headers=world.other_org_member.headers)
    assert still.json()["name"] == "Support's"


async def test_another_tenants_external_id_is_its_own(client: httpx.AsyncClient, world: TenantWorld,
                                                      other_world: TenantWorld) -> None:
    ext = _ext()
    victim = await client.put(f"/api/leads/by-external-id/{ext}", json={"name": "Victim"},
                              headers=other_world.member.headers)
    mine = await client.put(f"/api/leads/by-external-id/{ext}", json={"name": "Mine"}, headers=world.admin.headers)
    assert mine.status_code == 201 and mine.json()["id"] != victim.json()["id"]
    assert mine.json()["tenantId"] == world.tenant_id
    kept = await client.get(f"/api/leads/{victim.json()['id']}", headers=other_world.member.headers)
    assert kept.json()["name"] == "Victim"


async def test_put_bad_input(client: httpx.AsyncClient, world: TenantWorld) -> None:
    ext = _ext()
    path = f"/api/leads/by-external-id/{ext}"
    no_name = await client.put(path, json={"company": "x"}, headers=world.member.headers)
    assert no_name.status_code == 422 and no_name.json()["field"] == "name"
    bad_phone = await client.put(path, json={"name": "X", "phone": "12345"}, headers=world.member.headers)
    assert bad_phone.status_code == 422 and bad_phone.json()["code"] == "phone_invalid"
    mismatch = await client.put(path, json={"name": "X", "externalId": "other"}, headers=world.member.headers)
    assert mismatch.status_code == 422 and mismatch.json()["code"] == "external_id_mismatch"
    too_long = await client.put(f"/api/leads/by-external-id/{'x' * 201}", json={"name": "X"},
                                headers=world.member.headers)
    assert too_long.status_code == 422
    unauthenticated = await client.put(path, json={"name": "X"})
    assert unauthenticated.status_code == 401
    nothing = await client.get("/api/leads", params={"q": ext}, headers=world.admin.headers)
    assert nothing.json()["total"] == 0  # nothing half-written


async def test_bulk_per_item_results(client: httpx.AsyncClient, world: TenantWorld) -> None:
    a, b, taken = _ext(), _ext(), _ext()
    await client.put(f"/api/leads/by-external-id/{taken}", json={"name": "Theirs"},
                     headers=world.other_org_member.headers)
    await client.put(f"/api/leads/by-external-id/{b}", json={"name": "Bea"}, headers=world.manager.headers)
    leads = [{"externalId": a, "name": "Alba", "phone": "+12025550150"},
             {"externalId": b, "name": "Bea"},
             {"externalId": b, "name": "Bea", "company": "Now with company"},
             {"externalId": taken, "name": "Mine"},
             {"externalId": _ext(), "name": "Bad phone", "phone": "12345"},
             {"name": "No id"},
             {"externalId": _ext(), "name": "x" * 201}]
    r = await client.post("/api/leads/bulk", json={"leads": leads}, headers=world.manager.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert [(x["status"], x.get("code")) for x in report["results"]] == [
        ("created", None), ("unchanged", None), ("updated", None), ("rejected", "external_id_taken"),
        ("rejected", "phone_invalid"), ("rejected", "missing"), ("rejected", "string_too_long")]
    assert [x["fields"] for x in report["results"][3:]] == [["externalId"], ["phone"], ["externalId"], ["name"]]
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (1, 1, 1, 4)
    assert (await client.get("/api/leads", params={"q": "Bad phone"},
                             headers=world.admin.headers)).json()["total"] == 0
    again = await client.post("/api/leads/bulk", json={"leads": leads[:3]}, headers=world.manager.headers)
    assert [x["status"] for x in again.json()["results"]] == ["unchanged"] * 3


async def test_bulk_limit_roles_and_bad_input(client: httpx.AsyncClient, world: TenantWorld) -> None:
    over = [{"externalId": f"over-{i}", "name": "X"} for i in range(1001)]
    r = await client.post("/api/leads/bulk", json={"leads": over}, headers=world.manager.headers)
    assert r.status_code == 413 and r.json()["code"] == "bulk_too_large" and r.json()["params"]["limit"] == 1000
    assert "1000" in r.json()["detail"]
    assert (await client.get("/api/leads", params={"q": "over-"}, headers=world.admin.headers)).json()["total"] == 0
    member = await client.post("/api/leads/bulk", json={"leads": [{"externalId": _ext(), "name": "X"}]},
                               headers=world.member.headers)
    assert member.status_code == 403 and member.json()["code"] == "role_not_allowed"
    empty = await client.post("/api/leads/bulk", json={"leads": []}, headers=world.manager.headers)
    assert empty.status_code == 422 and empty.json()["code"] == "bulk_empty"
    shape = await client.post("/api/leads/bulk", json={"leads": "nope"}, headers=world.manager.headers)
    assert shape.status_code == 422


async def test_bulk_of_a_thousand(client: httpx.AsyncClient, world: TenantWorld) -> None:
    tag = uuid.uuid4().hex[:6]
    leads = [{"externalId": f"{tag}-{i}", "name": f"Bulk {tag} {i}"} for i in range(1000)]
    r = await client.post("/api/leads/bulk", json={"leads": leads}, headers=world.manager.headers)
    assert r.status_code == 200 and r.json()["created"] == 1000
    again = await client.post("/api/leads/bulk", json={"leads": leads}, headers=world.manager.headers)
    assert again.json()["unchanged"] == 1000


async def test_racing_puts_of_a_new_external_id_make_one_lead(client: httpx.AsyncClient, world: TenantWorld) -> None:
    """A CRM that retries (or two of its workers) sending the same new lead at once: one creates it, the others
    update or leave it as it is; never two leads, never a 500."""
    ext = _ext()
    bodies = [{"name": "Racing Lead", "company": f"Acme {i}", "phone": "+12025550143"} for i in range(6)]
    answers = await asyncio.gather(*(client.put(f"/api/leads/by-external-id/{ext}", json=body,
                                                headers=world.member.headers) for body in bodies))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    listed = (await client.get("/api/leads", params={"q": "Racing Lead"}, headers=world.member.headers)).json()
    assert listed["total"] == 1 and listed["items"][0]["externalId"] == ext
