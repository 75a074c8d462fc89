"""Small helpers of the campaign tests: leads, campaigns, and driving simulated time until they are done."""

from __future__ import annotations

from typing import Any

import httpx

from leadcall.campaigns.dispatcher import CampaignDispatcher
from tests.live import CallWorld, LiveServer, finish_jobs, play

FAST_RETRY = {"no_answer": {"afterSeconds": 10, "maxAttempts": 2}, "busy": {"afterSeconds": 10, "maxAttempts": 3},
              "voicemail": {"afterSeconds": 10, "maxAttempts": 1}, "failed": {"afterSeconds": 10, "maxAttempts": 2}}


def dispatcher(live: LiveServer) -> CampaignDispatcher:
    found: CampaignDispatcher = live.app.state.dispatcher
    return found


async def new_lead(client: httpx.AsyncClient, cw: CallWorld, phone: str | None, **extra: Any) -> str:
    body: dict[str, Any] = {"name": f"Lead {phone}", "company": "Acme", **extra}
    if phone is not None:
        body["phone"] = phone
    r = await client.post("/api/leads", json=body, headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def new_campaign(client: httpx.AsyncClient, cw: CallWorld, lead_ids: list[str], **extra: Any) -> dict[str, Any]:
    body = {"name": "Q4 list", "agentIds": [cw.agent_ids[0]], "callType": "prospecting", "leads": {"ids": lead_ids},
            "maxLiveCalls": 3, "callsPerSecond": 20, "retry": FAST_RETRY, **extra}
    r = await client.post("/api/campaigns", json=body, headers=cw.world.manager.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def act(client: httpx.AsyncClient, cw: CallWorld, campaign_id: str, action: str,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await client.post(f"/api/campaigns/{campaign_id}/{action}", json=body, headers=cw.world.manager.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def read(client: httpx.AsyncClient, cw: CallWorld, campaign_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/campaigns/{campaign_id}", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def attempts(client: httpx.AsyncClient, cw: CallWorld, campaign_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/campaigns/{campaign_id}/attempts", params={"limit": 500},
                         headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def calls_of(client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/leads/{lead_id}/calls", headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def run_to_end(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld, campaign_id: str,
                     most_seconds: float = 1200) -> dict[str, Any]:
    """Simulated time passes (calls ring, end, send their webhooks; the worker sweeps) until it has ended."""
    elapsed = 0.0
    while elapsed < most_seconds:
        await dispatcher(live).dispatch()
        await play(live, 10)
        await finish_jobs(live)
        elapsed += 10
        campaign = await read(client, cw, campaign_id)
        if campaign["state"] in ("completed", "canceled"):
            return campaign
    raise AssertionError(f"the campaign did not end in {most_seconds} s: {campaign}")


async def total_calls(client: httpx.AsyncClient, cw: CallWorld, lead_ids: list[str]) -> int:
    return sum([len(await calls_of(client, cw, lead)) for lead in lead_ids])
