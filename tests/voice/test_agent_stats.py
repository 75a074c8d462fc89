"""Agent statistics per agent and call type over a period, in the API and the picker line."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import browser_session
from tests.live import CallWorld, LiveServer, play

NUMBERS = ("+12025550100", "+12025550101", "+12025550102", "+12025550105", "+12025550111", "+12025550104")


async def place_all(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld) -> None:
    for number in NUMBERS:
        lead = await client.post("/api/leads", json={"name": "Stats Lead", "phone": number},
                                 headers=cw.world.member.headers)
        placed = await client.post(f"/api/leads/{lead.json()['id']}/call",
                                   json={"agentId": cw.agent_ids[0], "callType": "prospecting"},
                                   headers=cw.world.member.headers)
        assert placed.status_code == 200, placed.text
        await play(live, 90)


async def test_each_agent_says_how_its_calls_went(live: LiveServer, live_client: httpx.AsyncClient,
                                                 cw: CallWorld) -> None:
    await place_all(live, live_client, cw)
    r = await live_client.get("/api/voice/agents/available", params={"callType": "prospecting"},
                              headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    by_agent = {a["agentId"]: a["stats"] for a in r.json()}
    stats = by_agent[cw.agent_ids[0]]
    assert stats["calls"] == 6 and stats["answered"] == 4  # interested, not interested, callback, opt-out
    assert stats["connectRate"] == 0.8  # 4 of the 5 that were not voicemail
    assert stats["interested"] == 1 and stats["interestedRate"] == 0.25
    assert stats["callbacks"] == 1 and stats["optOuts"] == 1
    assert stats["avgDurationSeconds"] and stats["avgDurationSeconds"] > 0
    assert stats["costPerCall"] == round(stats["costTotal"] / 6, 4)  # every call has a cost, 0 when unconnected
    assert stats["costPerInterestedLead"] == stats["costTotal"] and stats["currency"] == "USD"
    assert stats["callType"] == "prospecting"
    others = [s for agent_id, s in by_agent.items() if agent_id != cw.agent_ids[0]]
    assert others and all(s["calls"] == 0 and s["connectRate"] is None for s in others)

    closing = (await live_client.get("/api/voice/agents/available", params={"callType": "closing"},
                                     headers=cw.world.member.headers)).json()
    assert all(a["stats"]["calls"] == 0 for a in closing)
    before = (await live_client.get("/api/voice/agents/available", params={"statsTo": "2020-01-01T00:00:00Z"},
                                    headers=cw.world.member.headers)).json()
    assert all(a["stats"]["calls"] == 0 for a in before)

    # The picker shows the same figures on the agent's line.
    browser = await browser_session(live, cw.world.member)
    try:
        lead_id = cw.world.lead_ids[0]
        page = await browser.get(f"/leads/{lead_id}/picker", params={"call_type": "prospecting"},
                                 headers={"HX-Request": "true"})
        assert page.status_code == 200, page.text
        assert "6 llamadas · 80 % contestadas · 25 % interesados" in page.text
        assert "1 rellamada pedida" in page.text and "1 no quiere más llamadas" in page.text
        assert "por lead interesado" in page.text
        assert "Sin llamadas en los últimos 30 días" in page.text  # the other agents
    finally:
        await browser.aclose()


async def test_a_reversed_period_is_refused(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    r = await live_client.get("/api/voice/agents/available",
                              params={"statsFrom": "2026-02-01T00:00:00Z", "statsTo": "2026-01-01T00:00:00Z"},
                              headers=cw.world.member.headers)
    assert r.status_code == 422 and r.json()["code"] == "period_reversed", r.text
    r = await live_client.get("/api/voice/agents/available", params={"statsFrom": "yesterday"},
                              headers=cw.world.member.headers)
    assert r.status_code == 422
