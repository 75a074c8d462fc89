"""An agent's configuration (its prompt) is shown only to those whose team may use it, and to admins."""

from __future__ import annotations

import httpx

from tests.live import CallWorld

BASE = "/api/voice/providers/elevenlabs"


async def test_an_agent_restricted_to_another_team_is_not_found(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    agents = (await live_client.get("/api/voice/agents/available", headers=cw.world.member.headers)).json()
    restricted = agents[0]
    r = await live_client.put(f"/api/voice/agents/{restricted['id']}", headers=cw.world.admin.headers,
                              json={"allowedOrganizationIds": [cw.world.other_org_id]})
    assert r.status_code == 200, r.text

    async def info(agent_id: str, headers: dict[str, str]) -> httpx.Response:
        return await live_client.get(f"{BASE}/agent-info", params={"configId": cw.account_id, "agentId": agent_id},
                                     headers=headers)

    hidden = await info(restricted["agentId"], cw.world.member.headers)
    unknown = await info("agent_nope", cw.world.member.headers)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == unknown.json()
    assert "prompt" not in hidden.text
    theirs = await info(restricted["agentId"], cw.world.other_org_member.headers)
    assert theirs.status_code == 200 and "prompt" in theirs.json()
    admin = await info(restricted["agentId"], cw.world.admin.headers)
    assert admin.status_code == 200 and admin.json()["agentId"] == restricted["agentId"]
    usable = await info(agents[1]["agentId"], cw.world.member.headers)
    assert usable.status_code == 200
