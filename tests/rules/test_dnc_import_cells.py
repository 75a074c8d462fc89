"""The do-not-call import reads files like the leads import: cells of any size, bad characters per row."""

from __future__ import annotations

import httpx

from tests.factories import TenantWorld


async def test_huge_cells_and_forbidden_characters_are_row_problems(client: httpx.AsyncClient,
                                                                   world: TenantWorld) -> None:
    big = "r" * 200_000
    csv_text = f'phone,reason\n+12025550140,"{big}"\n+12025550141,opt\x00out\n+12025550142,ok\n'
    r = await client.post("/api/dnc/import", files={"file": ("dnc.csv", csv_text.encode(), "text/csv")},
                          headers=world.manager.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 2, "alreadyListed": 0, "rejected": [
        {"row": 2, "phone": "+12025550141", "code": "forbidden_character"}]}
    listed = (await client.get("/api/dnc?q=0140", headers=world.member.headers)).json()["items"][0]
    assert listed["reason"] == "r" * 300  # the reason's own limit
