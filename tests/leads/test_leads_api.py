from __future__ import annotations

import httpx

from tests.factories import TenantWorld


async def test_create_normalizes_phone_to_e164(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/leads", json={"name": "  Ana Pérez ", "phone": "(202) 555-0142",
                                              "email": "ana@example.com"}, headers=world.member.headers)
    assert r.status_code == 201, r.text
    lead = r.json()
    assert lead["phone"] == "+12025550142"
    assert lead["name"] == "Ana Pérez"
    assert lead["organizationId"] == world.org_id and lead["tenantId"] == world.tenant_id
    assert lead["status"] == "new" and lead["doNotCall"] is False


async def test_invalid_phone_is_a_clear_422_and_nothing_is_written(client: httpx.AsyncClient,
                                                                  world: TenantWorld) -> None:
    before = (await client.get("/api/leads", headers=world.member.headers)).json()["total"]
    r = await client.post("/api/leads", json={"name": "Bad", "phone": "12345"}, headers=world.member.headers)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid"
    assert "country code" in r.json()["detail"]
    assert r.json()["field"] == "phone"
    after = (await client.get("/api/leads", headers=world.member.headers)).json()["total"]
    assert after == before


async def test_missing_name_names_the_field(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/leads", json={"phone": "+12025550100"}, headers=world.member.headers)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("name:")


async def test_update(client: httpx.AsyncClient, world: TenantWorld) -> None:
    lead_id = world.lead_ids[0]
    r = await client.patch(f"/api/leads/{lead_id}", json={"status": "qualified", "doNotCall": True,
                                                          "doNotCallReason": "asked not to be called"},
                           headers=world.member.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "qualified" and r.json()["doNotCall"] is True


async def test_owner_must_be_a_user_of_the_leads_organization(client: httpx.AsyncClient, world: TenantWorld,
                                                              other_world: TenantWorld) -> None:
    lead = f"/api/leads/{world.lead_ids[0]}"
    answers = [await client.patch(lead, json={"ownerId": owner}, headers=world.member.headers)
               for owner in (other_world.member.user_id, world.other_org_member.user_id, "no-such-user")]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert answers[0].json() == answers[1].json() == answers[2].json()  # nothing tells which ids exist
    assert answers[0].json()["code"] == "owner_not_in_team"
    ok = await client.patch(lead, json={"ownerId": world.manager.user_id}, headers=world.member.headers)
    assert ok.status_code == 200 and ok.json()["ownerId"] == world.manager.user_id
    # An admin placing a lead in the other team gives it an owner of that team, not of their own.
    body = {"name": "Support lead", "organizationId": world.other_org_id}
    mine = await client.post("/api/leads", json={**body, "ownerId": world.manager.user_id}, headers=world.admin.headers)
    assert mine.status_code == 422 and mine.json() == answers[0].json()
    theirs = await client.post("/api/leads", json={**body, "ownerId": world.other_org_member.user_id},
                               headers=world.admin.headers)
    assert theirs.status_code == 201, theirs.text


async def test_list_is_newest_first_with_cursor_paging(client: httpx.AsyncClient, world: TenantWorld) -> None:
    for i in range(5):
        await client.post("/api/leads", json={"name": f"Paged {i}"}, headers=world.member.headers)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/leads", params=params, headers=world.member.headers)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7
    bad = await client.get("/api/leads", params={"cursor": "garbage!"}, headers=world.member.headers)
    assert bad.status_code == 422


async def test_search_and_filters(client: httpx.AsyncClient, world: TenantWorld) -> None:
    await client.post("/api/leads", json={"name": "Zoe Findme", "company": "Unique Co", "status": "won"},
                      headers=world.member.headers)
    found = (await client.get("/api/leads", params={"q": "findme"}, headers=world.member.headers)).json()
    assert [i["name"] for i in found["items"]] == ["Zoe Findme"]
    won = (await client.get("/api/leads", params={"status": "won"}, headers=world.member.headers)).json()
    assert {i["name"] for i in won["items"]} == {"Zoe Findme"}


async def test_members_only_see_their_organization(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.get(f"/api/leads/{world.lead_ids[0]}", headers=world.other_org_member.headers)
    assert r.status_code == 404
    admin = await client.get(f"/api/leads/{world.lead_ids[0]}", headers=world.admin.headers)
    assert admin.status_code == 200


async def test_csv_import_keeps_good_rows_and_reports_bad_ones(client: httpx.AsyncClient,
                                                               world: TenantWorld) -> None:
    csv_text = (
        "nombre;empresa;teléfono;email;no llamar\n"
        "Good One;Acme;+1 202 555 0150;good@example.com;\n"
        ";NoName;+12025550151;;\n"
        "Bad Phone;Acme;999;;\n"
        "Bad Email;Acme;+12025550152;not-an-email;\n"
        "Good Two;Beta;(202) 555-0153;;sí\n"
    )
    files = {"file": ("leads.csv", csv_text.encode(), "text/csv")}
    r = await client.post("/api/leads/import", files=files, headers=world.manager.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 2 and report["rejected"] == 3
    rows = {e["row"]: " ".join(e["errors"]) for e in report["errors"]}
    assert set(rows) == {3, 4, 5}
    assert "name" in rows[3] and "phone" in rows[4] and "email" in rows[5]
    codes = {e["row"]: [(p["field"], p["code"], p["params"]) for p in e["problems"]] for e in report["errors"]}
    assert codes[3] == [("name", "string_too_short", {"min_length": 1})]
    assert codes[4] == [("phone", "phone_invalid", {"phone": "999"})]
    assert [(field, code) for field, code, _ in codes[5]] == [("email", "value_error")]
    good_two = (await client.get("/api/leads", params={"q": "Good Two"}, headers=world.manager.headers)).json()
    assert good_two["items"][0]["phone"] == "+12025550153"
    assert good_two["items"][0]["doNotCall"] is True


async def test_csv_import_rejects_files_it_cannot_read(client: httpx.AsyncClient, world: TenantWorld) -> None:
    no_name = {"file": ("x.csv", b"company,phone\nAcme,+12025550100\n", "text/csv")}
    r = await client.post("/api/leads/import", files=no_name, headers=world.manager.headers)
    assert r.status_code == 422 and "'name' column" in r.json()["detail"]
    latin1 = {"file": ("x.csv", "name\nJosé\n".encode("latin-1"), "text/csv")}
    r = await client.post("/api/leads/import", files=latin1, headers=world.manager.headers)
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]


async def test_members_cannot_import(client: httpx.AsyncClient, world: TenantWorld) -> None:
    files = {"file": ("x.csv", b"name\nA\n", "text/csv")}
    r = await client.post("/api/leads/import", files=files, headers=world.member.headers)
    assert r.status_code == 403


async def test_csv_owner_is_a_user_of_the_importers_team_by_email(client: httpx.AsyncClient, world: TenantWorld,
                                                           other_world: TenantWorld) -> None:
    csv_text = ("name,phone,owner\n"
                f"Mine,+12025550160,{world.manager.email.upper()}\n"
                f"Theirs,+12025550161,{other_world.manager.email}\n"
                f"Other team,+12025550162,{world.other_org_member.email}\n")
    files = {"file": ("leads.csv", csv_text.encode(), "text/csv")}
    r = await client.post("/api/leads/import", files=files, headers=world.manager.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 1
    assert [(e["row"], e["problems"][0]["code"]) for e in report["errors"]] == [(3, "owner_unknown"),
                                                                                 (4, "owner_unknown")]
    assert report["errors"][:1] == [{"row": 3, "errors": [
                                     f"owner_email: no user with the email {other_world.manager.email}"],
                                 "problems": [{"field": "owner_email", "code": "owner_unknown",
                                               "params": {"email": other_world.manager.email},
                                               "detail": f"no user with the email {other_world.manager.email}"}]}]
    mine = (await client.get("/api/leads", params={"q": "Mine"}, headers=world.manager.headers)).json()["items"][0]
    assert mine["ownerId"] == world.manager.user_id
