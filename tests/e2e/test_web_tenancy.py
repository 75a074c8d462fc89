"""The pages guard tenants like the API does: another tenant's ids answer 404, a stranger is sent to
sign in, and a form without this session's CSRF token is refused. Plain HTTP, no browser needed."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import browser_session
from tests.factories import PASSWORD
from tests.live import CallWorld, LiveServer, call_with_alert, make_call_world, play

pytestmark = pytest.mark.e2e


async def test_another_tenants_ids_answer_404(live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    victim = await make_call_world(live, live_client)
    lead_id = victim.world.lead_ids[0]
    _ended, budget_id, alert_id = await call_with_alert(live, live_client, victim)
    # The budget did its part (an alert); a live call is what the attacker must not touch.
    assert (await live_client.delete(f"/api/budgets/{budget_id}", headers=victim.world.admin.headers)
            ).status_code == 204
    placed = await live_client.post(f"/api/leads/{victim.world.lead_ids[1]}/call",
                                    json={"agentId": victim.agent_ids[0]}, headers=victim.world.member.headers)
    assert placed.status_code == 200, placed.text
    call_id = placed.json()["callLog"]["id"]
    agents = await live_client.get("/api/voice/agents/available", headers=victim.world.member.headers)
    agent_ref = agents.json()[0]["id"]
    async with httpx.AsyncClient(base_url=live.url) as victims_browser:
        signed_in = await victims_browser.post("/api/auth/login", json={"email": victim.world.member.email,
                                                                        "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        session_id = (await victims_browser.get("/api/me/sessions")).json()[0]["id"]

    callback = await live_client.post(f"/api/leads/{lead_id}/callbacks", json={"at": "2030-01-07T10:00:00"},
                                      headers=victim.world.member.headers)
    assert callback.status_code == 201, callback.text
    callback_id = callback.json()["id"]
    campaign = await live_client.post("/api/campaigns", headers=victim.world.manager.headers, json={
        "name": "Victim's", "agentIds": [victim.agent_ids[0]], "leads": {"ids": victim.world.lead_ids}})
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["id"]
    attacker = await browser_session(live, cw.world.admin)
    try:
        requests = [
            ("GET", f"/leads/{lead_id}/callbacks", {}),
            ("POST", f"/leads/{lead_id}/callbacks", {"at": "2030-01-08T10:00"}),
            ("POST", f"/callbacks/{callback_id}/cancel", {}), ("POST", f"/callbacks/{callback_id}/call", {}),
            ("GET", f"/callbacks/interested?lead_id={lead_id}", {}),
            ("GET", f"/leads/{lead_id}", {}), ("GET", f"/leads/{lead_id}?call=1", {}),
            ("GET", f"/leads/{lead_id}/history", {}),
            ("GET", f"/leads/{lead_id}/status", {}),
            ("GET", f"/leads/{lead_id}/picker", {}), ("GET", f"/leads/{lead_id}/agents", {}),
            ("POST", f"/leads/{lead_id}/archive", {}), ("POST", f"/leads/{lead_id}/restore", {}),
            ("POST", f"/leads/{lead_id}/erase", {}),
            ("POST", f"/leads/{lead_id}/edit", {"name": "Hijacked", "phone": "+12025550100"}),
            ("POST", f"/leads/{lead_id}/call", {"agent_id": cw.agent_ids[0]}),
            ("GET", f"/calls/{call_id}/card", {}), ("POST", f"/calls/{call_id}/cancel", {}),
            ("POST", f"/calls/{call_id}/outcome", {"outcome": "interested"}),
            ("POST", f"/calls/{call_id}/notes", {"notes": "written by another tenant"}),
            ("POST", f"/settings/accounts/{victim.account_id}", {"name": "mine now", "concurrency_limit": "4"}),
            ("POST", f"/settings/accounts/{victim.account_id}/test", {}),
            ("POST", f"/settings/accounts/{victim.account_id}/toggle", {}),
            ("POST", f"/settings/agents/{agent_ref}", {"is_enabled": "on"}),
            ("POST", f"/settings/users/{victim.world.member.user_id}", {"role": "admin", "is_active": "on"}),
            ("GET", f"/alerts/toast?alert_id={alert_id}", {}),
            ("POST", f"/settings/users/{victim.world.member.user_id}/reset-link", {}),
            ("POST", f"/account/sessions/{session_id}/end", {}),
            ("GET", f"/campaigns/{campaign_id}", {}), ("GET", f"/campaigns/{campaign_id}/progress", {}),
            ("POST", f"/campaigns/{campaign_id}/start", {}), ("POST", f"/campaigns/{campaign_id}/pause", {}),
            ("POST", f"/campaigns/{campaign_id}/cancel", {}),
        ]
        answered = []
        for method, path, form in requests:
            r = await attacker.request(method, path, data=form or None)
            if r.status_code != 404:
                answered.append(f"{method} {path} → {r.status_code}")
            else:
                assert r.headers.get("HX-Retarget") == "#toast", "a fragment's error is shown as a toast"
        assert answered == []
    finally:
        await attacker.aclose()
    # Nothing was touched: the victim's call runs on and its account keeps its name.
    still = await live_client.get(f"/api/calls/{call_id}", headers=victim.world.member.headers)
    assert still.json()["status"] in ("ringing", "in_progress")
    accounts = await live_client.get("/api/voice/providers/elevenlabs/config", headers=victim.world.admin.headers)
    assert [a["name"] for a in accounts.json()] == ["Main"]
    callbacks = await live_client.get("/api/callbacks", params={"leadId": lead_id}, headers=victim.world.member.headers)
    assert [c["status"] for c in callbacks.json()] == ["scheduled"]
    untouched = await live_client.get(f"/api/campaigns/{campaign_id}", headers=victim.world.member.headers)
    assert untouched.json()["state"] == "draft"
    await play(live, 60)


async def test_strangers_sign_in_first_and_forms_need_the_csrf_token(live: LiveServer, cw: CallWorld) -> None:
    async with httpx.AsyncClient(base_url=live.url) as stranger:
        page = await stranger.get("/settings")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsettings"
        fragment = await stranger.get(f"/leads/{cw.world.lead_ids[0]}", headers={"HX-Request": "true"})
        assert fragment.status_code == 204 and fragment.headers["HX-Redirect"] == "/login"
        forged = await stranger.post("/login", data={"email": cw.world.member.email, "password": PASSWORD})
        assert forged.status_code == 403
        assert (await stranger.get("/")).status_code == 303, "a sign-in without the form's token signs nobody in"

    member = await browser_session(live, cw.world.member)
    try:
        del member.headers["X-CSRF-Token"]
        refused = await member.post(f"/leads/{cw.world.lead_ids[0]}/call", data={"agent_id": cw.agent_ids[0]})
        assert refused.status_code == 403
        assert "El formulario ha caducado: recarga la página" in refused.text
        calls = await member.get(f"/leads/{cw.world.lead_ids[0]}/history")
        assert "history-item" not in calls.text, "no call was placed"
        page = await member.get("/settings", headers={"HX-Request": ""})
        assert page.status_code == 403 and "No tienes permiso" in page.text
        link = await member.post(f"/settings/users/{cw.world.member.user_id}/reset-link")
        assert link.status_code == 403 and "password-reset" not in link.text, "a member issues no reset links"
    finally:
        await member.aclose()
