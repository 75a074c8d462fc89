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
    for end, tag in (("\r", "Mac"), ("\r\n", "Windows"), ("\n", "Unix")):
        content = end.join(["name,phone", f"{tag} One,+12025550170", f"{tag} Two,+12025550171", ""]).encode()
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
