"""CSV import as spreadsheets write it: any line ends, any cell size, bad characters reported per row."""

from __future__ import annotations

import httpx

from tests.factories import TenantWorld


async def _import(client: httpx.AsyncClient, world: TenantWorld, content: bytes) -> httpx.Response:
    return await client.post("/api/leads/import", files={"file": ("leads.csv", content, "text/csv")},
                             headers=world.manager.headers)


async def _names(client: httpx.AsyncClient, world: TenantWorld, q: str) -> list[str]:
    page = (await client.get("/api/leads", params={"q": q}, headers=world.manager.headers)).json()
    return sorted(item["name"] for item in page["items"])


async def test_every_line_end_convention_is_read(client: httpx.AsyncClient, world: TenantWorld) -> None:
    for i, (end, tag) in enumerate((("\r", "Mac"), ("\r\n", "Windows"), ("\n", "Unix"))):
        # Each file its own numbers: a row whose number a lead of the team has updates that lead.
        content = end.join(["name,phone", f"{tag} One,+120255501{70 + 2 * i}", f"{tag} Two,+120255501{71 + 2 * i}",
                            ""]).encode()
        r = await _import(client, world, content)
        assert r.status_code == 200, (tag, r.text)
        assert r.json()["created"] == 2 and r.json()["rejected"] == 0, (tag, r.json())
        assert await _names(client, world, tag) == [f"{tag} One", f"{tag} Two"]


async def test_a_lone_cr_inside_a_row_ends_the_line_and_quoted_line_ends_stay(client: httpx.AsyncClient,
                                                                              world: TenantWorld) -> None:
    content = b'name,notes\nLone CR\r,first\n"Quoted CR","line one\r\nline two"\nAfter,ok\n'
    r = await _import(client, world, content)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 3
    assert [(e["row"], [p["code"] for p in e["problems"]]) for e in report["errors"]] == [(3, ["string_too_short"])]
    quoted = (await client.get("/api/leads", params={"q": "Quoted CR"}, headers=world.manager.headers)).json()
    assert quoted["items"][0]["notes"] == "line one\nline two"
    assert await _names(client, world, "After") == ["After"]


async def test_a_huge_cell_is_a_row_problem(client: httpx.AsyncClient, world: TenantWorld) -> None:
    big = "x" * 200_000
    content = f'name,notes\nHuge Note,"{big}"\nHuge Name {big},\nFine Row,short\n'.encode()
    r = await _import(client, world, content)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 1
    problems = {e["row"]: [(p["field"], p["code"], p["params"]) for p in e["problems"]] for e in report["errors"]}
    assert problems == {2: [("notes", "string_too_long", {"max_length": 10_000})],
                        3: [("name", "string_too_long", {"max_length": 200})]}


async def test_forbidden_characters_in_cells_are_reported_by_row_and_column(client: httpx.AsyncClient,
                                                                          world: TenantWorld) -> None:
    content = 'nombre,empresa,extra\n"Multi\nLine Name",Acme,\nNul Name,Ac\x00me,\nGood Nul,Acme,bad\x1bcell\n'
    r = await _import(client, world, content.encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 1  # the quoted line end spans lines 2-3: the next record starts on line 4
    problems = {e["row"]: [(p["field"], p["code"], p["params"]) for p in e["problems"]] for e in report["errors"]}
    assert problems == {4: [("company", "forbidden_character", {"character": "U+0000"})],
                        5: [("extra", "forbidden_character", {"character": "U+001B"})]}
    assert await _names(client, world, "Nul") == []


async def _import_as(client: httpx.AsyncClient, world: TenantWorld, content: bytes, **params: str) -> httpx.Response:
    return await client.post("/api/leads/import", params=params, files={"file": ("leads.csv", content, "text/csv")},
                             headers=world.manager.headers)


async def _snapshot(client: httpx.AsyncClient, world: TenantWorld, q: str) -> list[dict[str, object]]:
    page = (await client.get("/api/leads", params={"q": q, "limit": "200"}, headers=world.admin.headers)).json()
    return sorted(page["items"], key=lambda lead: str(lead["id"]))


async def test_the_same_csv_twice_changes_nothing_the_second_time(client: httpx.AsyncClient,
                                                                 world: TenantWorld) -> None:
    content = (b"externalId,name,phone,company,do_not_call\n"
               b"crm-twice-1,Twice One,+12025550181,Acme,\n"
               b"crm-twice-2,Twice Two,+12025550182,,yes\n"
               b",Twice Three,+12025550183,Beta,\n")
    first = (await _import_as(client, world, content)).json()
    assert (first["created"], first["updated"], first["unchanged"], first["rejected"]) == (3, 0, 0, 0)
    before = await _snapshot(client, world, "Twice")
    second = (await _import_as(client, world, content)).json()
    assert (second["created"], second["updated"], second["unchanged"], second["rejected"]) == (0, 0, 3, 0)
    assert sorted(second["unchangedIds"]) == sorted(first["leadIds"])
    assert await _snapshot(client, world, "Twice") == before  # updatedAt too
    events = await client.get(f"/api/leads/{first['leadIds'][1]}/events", headers=world.admin.headers)
    assert [e["kind"] for e in events.json()].count("dnc_added") == 1


async def test_rows_match_by_external_id_then_phone_and_update(client: httpx.AsyncClient, world: TenantWorld) -> None:
    by_phone = await client.post("/api/leads", json={"name": "Phone Match", "phone": "+12025550184"},
                                 headers=world.member.headers)
    by_id = await client.put("/api/leads/by-external-id/crm-match-9", json={"name": "Id Match"},
                             headers=world.member.headers)
    theirs = await client.put("/api/leads/by-external-id/crm-match-x", json={"name": "Support's"},
                              headers=world.other_org_member.headers)
    assert theirs.status_code == 201
    content = (b"externalId,name,phone,notes\n"
               b"crm-match-9,Id Match,,new notes\n"
               b"crm-match-8,Phone Match,(202) 555-0184,\n"
               b"crm-match-x,Not yours,,\n")
    report = (await _import_as(client, world, content)).json()
    assert (report["created"], report["updated"], report["rejected"]) == (0, 2, 1)
    assert [(e["row"], [p["code"] for p in e["problems"]]) for e in report["errors"]] == [(4, ["external_id_taken"])]
    lead = (await client.get(f"/api/leads/{by_id.json()['id']}", headers=world.member.headers)).json()
    assert lead["notes"] == "new notes"
    phone_lead = (await client.get(f"/api/leads/{by_phone.json()['id']}", headers=world.member.headers)).json()
    assert phone_lead["externalId"] == "crm-match-8"  # matched by phone, it gets the CRM's id
    assert (await client.get("/api/leads", params={"q": "Phone Match"},
                             headers=world.admin.headers)).json()["total"] == 1


async def test_dry_run_writes_nothing_and_reports_what_it_would_do(client: httpx.AsyncClient,
                                                                   world: TenantWorld) -> None:
    await client.put("/api/leads/by-external-id/crm-dry-1", json={"name": "Dry One", "phone": "+12025550186"},
                     headers=world.member.headers)
    await client.put("/api/leads/by-external-id/crm-dry-2", json={"name": "Dry Two"}, headers=world.member.headers)
    content = (b"externalId,name,phone,company\n"
               b"crm-dry-1,Dry One,+12025550186,\n"
               b"crm-dry-2,Dry Two,,Changed Co\n"
               b"crm-dry-3,Dry Three,+12025550187,\n"
               b"crm-dry-3,Dry Three,,Later row\n"
               b"crm-dry-4,Dry Bad,12345,\n")
    before = await _snapshot(client, world, "Dry")
    dry = await _import_as(client, world, content, dryRun="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dryRun"] is True and report["leadIds"] == []
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (1, 2, 1, 1)
    assert await _snapshot(client, world, "Dry") == before
    real = (await _import_as(client, world, content)).json()
    assert (real["created"], real["updated"], real["unchanged"], real["rejected"]) == (1, 2, 1, 1)
    assert len(await _snapshot(client, world, "Dry")) == 3
    bad = await _import_as(client, world, content, dryRun="maybe")
    assert bad.status_code == 422
