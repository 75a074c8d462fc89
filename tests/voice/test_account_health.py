"""Account health for tenant admins (issue 17.4): `GET …/config` carries each account's `health` (webhooks
received, refused, calls followed by polling only, what ElevenLabs reports of the workspace's post-call
webhook, the last provider error, the concurrency left), and `POST …/check` reads the workspace again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from leadcall.voice.manager import VoiceManager
from tests.factories import make_world
from tests.live import CallWorld, LiveServer, play

BASE = "/api/voice/providers/elevenlabs"
GRACE = 11 * 60  # past voice.health.WEBHOOK_GRACE_SECONDS


async def health(client: httpx.AsyncClient, cw: CallWorld) -> dict[str, Any]:
    r = await client.get(f"{BASE}/config", headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    [account] = [a for a in r.json() if a["id"] == cw.account_id]
    found: dict[str, Any] = account["health"]
    return found


async def call(client: httpx.AsyncClient, cw: CallWorld, lead_index: int, phone: str) -> str:
    lead_id = cw.world.lead_ids[lead_index]
    r = await client.patch(f"/api/leads/{lead_id}", json={"phone": phone}, headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                          headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["callLog"]["id"])


def codes(h: dict[str, Any]) -> list[str]:
    return [w["code"] for w in h["warnings"]]


async def test_webhooks_that_stop_while_calls_end_warn_and_polling_keeps_the_calls_right(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    fresh = await health(live_client, cw)
    assert fresh["status"] == "ok" and fresh["lastWebhookAt"] is None and fresh["callsEnded"] == 0
    assert (fresh["liveCalls"], fresh["concurrencyLimit"], fresh["remainingConcurrency"]) == (0, 4, 4)

    await call(live_client, cw, 0, "+12025550100")
    await play(live, 120)
    after_one = await health(live_client, cw)
    assert after_one["status"] == "ok" and after_one["callsEnded"] == 1 and after_one["pollingOnlyCalls"] == 0
    assert after_one["lastWebhookAt"] is not None and after_one["lastWebhookAgeSeconds"] >= 0

    silent = await call(live_client, cw, 1, "+12025550109")  # completes, but ElevenLabs sends no webhook
    live_now = await health(live_client, cw)
    assert (live_now["liveCalls"], live_now["remainingConcurrency"]) == (1, 3)
    await play(live, 120)
    ended = (await live_client.get(f"/api/calls/{silent}", headers=cw.world.member.headers)).json()
    assert ended["status"] == "completed" and ended["outcome"] is not None  # polling followed it to its end
    soon = await health(live_client, cw)
    assert soon["pollingOnlyCalls"] == 1 and soon["status"] == "ok"  # its webhook may still come
    live.clock.advance(GRACE)
    stopped = await health(live_client, cw)
    assert stopped["status"] == "warning" and codes(stopped) == ["webhooks_stopped"]
    assert stopped["warnings"][0]["params"]["pollingOnly"] == 1
    assert stopped["lastWebhookAgeSeconds"] >= GRACE

    await call(live_client, cw, 0, "+12025550100")  # webhooks come again: the warning goes
    await play(live, 120)
    assert codes(await health(live_client, cw)) == []


async def test_the_check_reads_where_elevenlabs_sends_the_post_call_webhook(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    before = await health(live_client, cw)
    assert before["workspaceWebhook"]["state"] is None  # never checked yet
    r = await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["connectionOk"] and report["workspaceWebhook"]["state"] == "ok" and report["problems"] == []
    assert report["liveNowAtProvider"] == 0
    assert {a["agentId"] for a in report["agents"]} == set(cw.sim_account.agents)
    assert all(a["wouldAdd"] == [] for a in report["agents"]) and report["numbers"]
    ok = await health(live_client, cw)
    assert ok["workspaceWebhook"]["state"] == "ok" and ok["workspaceWebhook"]["checkedAt"] is not None
    assert ok["workspaceWebhook"]["url"] == report["webhookUrl"].split("?")[0]

    theirs = cw.sim_account.add_webhook("Their CRM", "https://crm.example/hooks?token=SECRET")
    cw.sim_account.post_call_webhook_id = theirs.webhook_id
    r = await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=admin)
    assert r.json()["workspaceWebhook"]["state"] == "elsewhere"
    elsewhere = await health(live_client, cw)
    assert codes(elsewhere) == ["webhook_elsewhere"]
    assert elsewhere["warnings"][0]["params"]["url"] == "https://crm.example/hooks" and "SECRET" not in str(elsewhere)

    theirs.url = report["webhookUrl"]
    theirs.auto_disabled, theirs.last_failure_code, theirs.last_failure_at = True, 500, int(live.clock.now())
    await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=admin)
    disabled = await health(live_client, cw)
    assert codes(disabled) == ["webhook_auto_disabled"]
    assert disabled["workspaceWebhook"]["lastFailureCode"] == 500

    cw.sim_account.workspace_hidden = True  # a key that may not read the workspace's settings
    r = await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=admin)
    unreadable = r.json()["workspaceWebhook"]
    assert unreadable["state"] == "unreadable" and "permission" in unreadable["detail"]
    kept = await health(live_client, cw)  # what was seen before stays, said as such
    assert kept["workspaceWebhook"]["state"] == "unreadable" and kept["workspaceWebhook"]["lastFailureCode"] == 500


async def test_refused_deliveries_and_provider_errors_are_shown(live: LiveServer, live_client: httpx.AsyncClient,
                                                                cw: CallWorld) -> None:
    url = (await live_client.get(f"{BASE}/config", headers=cw.world.admin.headers)).json()[0]["webhookUrl"]
    forged = await live_client.post(url, content=b'{"type": "post_call_transcription"}',
                                    headers={"ElevenLabs-Signature": "t=1,v0=00"})
    assert forged.status_code == 401
    h = await health(live_client, cw)
    assert h["webhooksRefused"] == 1 and codes(h) == ["webhooks_refused"] and h["lastRefusedDetail"]

    await call(live_client, cw, 0, "+12025550106")  # ElevenLabs refuses to place it
    problem = (await health(live_client, cw))["lastProviderError"]
    assert problem["where"] == "call" and problem["code"] == "provider_refused_call" and problem["detail"]


async def test_the_check_is_for_admins_of_the_accounts_tenant(live: LiveServer, live_client: httpx.AsyncClient,
                                                              cw: CallWorld) -> None:
    for actor in (cw.world.member, cw.world.manager):
        r = await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=actor.headers)
        assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    other = await make_world(live.app, "Other")
    r = await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=other.admin.headers)
    assert r.status_code == 404
    assert [a for a in (await live_client.get(f"{BASE}/config", headers=other.admin.headers)).json()] == []
    missing = await live_client.post(f"{BASE}/check", headers=cw.world.admin.headers)
    assert missing.status_code == 422
    unknown = await live_client.post(f"{BASE}/check", params={"configId": "nope"}, headers=cw.world.admin.headers)
    assert unknown.status_code == 404


async def test_a_seller_calls_while_the_check_waits_on_elevenlabs(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check holds no transaction while ElevenLabs answers: on SQLite a held one would be the one write lock,
    and every placement and webhook would wait behind a slow API."""
    placed: list[int] = []
    ask = VoiceManager.test_connection

    async def slow_elevenlabs(self: VoiceManager, provider: Any) -> Any:
        lead_id = cw.world.lead_ids[0]
        async with asyncio.timeout(10):
            r = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                       headers=cw.world.member.headers)
        placed.append(r.status_code)
        return await ask(self, provider)

    monkeypatch.setattr(VoiceManager, "test_connection", slow_elevenlabs)
    r = await live_client.post(f"{BASE}/check", params={"configId": cw.account_id}, headers=cw.world.admin.headers)
    assert r.status_code == 200 and r.json()["connectionOk"], r.text
    assert placed == [200]
