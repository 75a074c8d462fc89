from __future__ import annotations

import httpx
from sqlalchemy import text

from tests.live import CallWorld, LiveServer

BASE = "/api/voice/providers/elevenlabs"


async def test_account_secrets_are_masked_and_encrypted_at_rest(live: LiveServer, live_client: httpx.AsyncClient,
                                                                cw: CallWorld) -> None:
    listed = (await live_client.get(f"{BASE}/config", headers=cw.world.admin.headers)).json()
    assert len(listed) == 1
    account = listed[0]
    key = cw.sim_account.api_key
    assert account["apiKeyMasked"] == "…" + key[-4:]
    assert account["hasWebhookSecret"] is True and account["hasTwilioAuthToken"] is True
    assert key not in str(listed) and cw.sim_account.webhook_secret not in str(listed)
    assert account["webhookUrl"].endswith(f"/api/webhooks/elevenlabs/transcription?account={account['id']}")
    async with live.app.state.container.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM elevenlabs_accounts"))).all()
    dump = repr(rows)
    assert key not in dump and cw.sim_account.webhook_secret not in dump
    assert cw.sim_account.twilio_auth_token not in dump


async def test_only_admins_manage_accounts(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    for actor in (cw.world.member, cw.world.manager):
        assert (await live_client.get(f"{BASE}/config", headers=actor.headers)).status_code == 403
        r = await live_client.post(f"{BASE}/config", headers=actor.headers, json={"name": "x", "apiKey": "k" * 20})
        assert r.status_code == 403


async def test_update_disable_and_delete(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    r = await live_client.post(f"{BASE}/config", headers=admin, json={"name": "Spare", "apiKey": "sk_spare_123456789"})
    assert r.status_code == 201
    spare = r.json()["id"]
    dup = await live_client.post(f"{BASE}/config", headers=admin, json={"name": "Spare", "apiKey": "sk_x_123456789"})
    assert dup.status_code == 409
    # The spaces around a name are not part of it: "  Spare " is the same name, "   " is no name at all.
    padded = await live_client.post(f"{BASE}/config", headers=admin, json={"name": "  Spare ", "apiKey": "sk_x_12345"})
    assert padded.status_code == 409
    blank = await live_client.post(f"{BASE}/config", headers=admin, json={"name": "   ", "apiKey": "sk_x_123456789"})
    assert blank.status_code == 422 and blank.json()["fields"] == [
        {"field": "name", "message": "String should have at least 1 character", "code": "string_too_short",
         "params": {"min_length": 1}}]
    blank_rename = await live_client.put(f"{BASE}/config", headers=admin, json={"id": spare, "name": " "})
    assert blank_rename.status_code == 422
    upd = await live_client.put(f"{BASE}/config", headers=admin,
                                json={"id": spare, "isActive": False, "apiKey": "sk_new_key_98765"})
    assert upd.status_code == 200 and upd.json()["isActive"] is False and upd.json()["apiKeyMasked"] == "…8765"
    assert (await live_client.delete(f"{BASE}/config", params={"configId": spare}, headers=admin)).status_code == 204
    assert (await live_client.delete(f"{BASE}/config", params={"configId": spare}, headers=admin)).status_code == 404


async def test_connection_probe(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    ok = await live_client.post(f"{BASE}/test-connection", headers=admin, json={"configId": cw.account_id})
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["agentsFound"] == 3
    bad = await live_client.post(f"{BASE}/test-connection", headers=admin,
                                 json={"apiKey": "sk_wrong_key_123", "baseUrl": f"{live.url}/sim"})
    assert bad.status_code == 200 and bad.json()["ok"] is False
    assert "sk_wrong_key_123" not in bad.text
    listed = (await live_client.get(f"{BASE}/config", headers=admin)).json()
    assert listed[0]["lastCheckOk"] is True


async def test_agent_info_update_and_voices(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    agent_id = cw.agent_ids[0]
    info = await live_client.get(f"{BASE}/agent-info", params={"configId": cw.account_id, "agentId": agent_id},
                                 headers=cw.world.member.headers)
    assert info.status_code == 200, info.text
    assert info.json()["agentId"] == agent_id and info.json()["phoneNumbers"]
    upd = await live_client.post(f"{BASE}/agent-update", headers=admin,
                                 json={"configId": cw.account_id, "agentId": agent_id, "firstMessage": "Hola {{lead_name}}"})
    assert upd.status_code == 200, upd.text
    assert upd.json()["firstMessage"] == "Hola {{lead_name}}"
    again = await live_client.get(f"{BASE}/agent-info", params={"configId": cw.account_id, "agentId": agent_id},
                                  headers=cw.world.member.headers)
    assert again.json()["firstMessage"] == "Hola {{lead_name}}"  # the cache was refreshed
    member_update = await live_client.post(f"{BASE}/agent-update", headers=cw.world.member.headers,
                                           json={"configId": cw.account_id, "agentId": agent_id, "name": "x"})
    assert member_update.status_code == 403
    voices = await live_client.get(f"{BASE}/voices", params={"configId": cw.account_id},
                                   headers=cw.world.member.headers)
    assert voices.status_code == 200 and voices.json()
    preview = voices.json()[0]["previewUrl"]
    assert preview and (await live_client.get(preview)).status_code == 200
    missing = await live_client.get(f"{BASE}/agent-info", params={"configId": cw.account_id, "agentId": "agent_nope"},
                                    headers=cw.world.member.headers)
    assert missing.status_code == 404


async def test_available_agents_follow_rules_and_limits(live: LiveServer, live_client: httpx.AsyncClient,
                                                        cw: CallWorld) -> None:
    agents = (await live_client.get("/api/voice/agents/available", headers=cw.world.member.headers)).json()
    assert len(agents) == 3 and all(a["available"] for a in agents)
    first = agents[0]
    assert first["name"] and first["language"] and first["accountName"] == "Main"
    admin = cw.world.admin.headers
    r = await live_client.put(f"/api/voice/agents/{first['id']}", headers=admin,
                              json={"allowedOrganizationIds": [cw.world.other_org_id], "tags": ["vip"],
                                    "specialty": "Renewals"})
    assert r.status_code == 200, r.text
    mine = (await live_client.get("/api/voice/agents/available", headers=cw.world.member.headers)).json()
    assert first["id"] not in [a["id"] for a in mine]
    lead = await live_client.post("/api/leads", json={"name": "Ana", "phone": "+12025550100"},
                                  headers=cw.world.member.headers)
    refused = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": first["agentId"]},
                                     headers=cw.world.member.headers)
    assert refused.status_code == 400
    assert refused.json()["reasonCode"] == "team_not_allowed" and "your team" in refused.json()["detail"]
    assert refused.json()["code"] == "agent_unavailable" and refused.json()["params"] == {"reason": "team_not_allowed"}
    theirs = (await live_client.get("/api/voice/agents/available", headers=cw.world.other_org_member.headers)).json()
    shown = next(a for a in theirs if a["id"] == first["id"])
    assert "vip" in shown["tags"] and shown["specialty"] == "Renewals"
    bad = await live_client.put(f"/api/voice/agents/{first['id']}", headers=admin, json={"allowedCallTypes": ["x"]})
    assert bad.status_code == 422
    r = await live_client.put(f"/api/voice/agents/{first['id']}", headers=admin,
                              json={"allowedOrganizationIds": [], "allowedCallTypes": ["closing"]})
    typed = (await live_client.get("/api/voice/agents/available", params={"callType": "prospecting"},
                                   headers=cw.world.member.headers)).json()
    assert first["id"] not in [a["id"] for a in typed]


async def test_account_at_its_limit_makes_agents_unavailable(live: LiveServer, live_client: httpx.AsyncClient,
                                                             cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    await live_client.put(f"{BASE}/config", headers=admin, json={"id": cw.account_id, "concurrencyLimit": 1})
    lead = await live_client.post("/api/leads", json={"name": "Long", "phone": "+12025550108"},
                                  headers=cw.world.member.headers)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.json()["success"] is True
    agents = (await live_client.get("/api/voice/agents/available", headers=cw.world.member.headers)).json()
    assert all(not a["available"] and "limit" in a["unavailableReason"] for a in agents)
    assert {a["unavailableCode"] for a in agents} == {"account_at_limit"}
    assert agents[0]["unavailableValues"] == {"account": "Main", "limit": 1}
    busy_lead = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[1]},
                                       headers=cw.world.member.headers)
    assert busy_lead.status_code == 409 and "already on a call" in busy_lead.json()["detail"]
    other = await live_client.post("/api/leads", json={"name": "Other", "phone": "+12025550100"},
                                   headers=cw.world.member.headers)
    second = await live_client.post(f"/api/leads/{other.json()['id']}/call", json={"agentId": cw.agent_ids[1]},
                                    headers=cw.world.member.headers)
    assert second.status_code == 400 and "limit" in second.json()["detail"]
