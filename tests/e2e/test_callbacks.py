"""Callbacks in a real browser: a lead that asked to be called back shows its callback in its panel; when it
is due (manual mode) it appears, live, in the owner's "Callbacks due" list, one click from the call; an
opt-out heard on a call marks the lead."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from leadcall.calls.models import CallLog
from leadcall.core.db import transaction
from leadcall.scheduling.service import SchedulingService
from tests.e2e.conftest import add_lead, browser_session, open_lead, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_a_callback_shows_on_the_lead_then_in_the_due_list_one_click_from_the_call(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    client = live_client
    r = await client.put("/api/callback-settings", json={"mode": "manual"}, headers=cw.world.admin.headers)
    assert r.status_code == 200
    lead_id = await add_lead(client, cw, "Carmen Callback", "+12025550102")
    r = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                          headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 90)
    [callback] = (await client.get("/api/callbacks", params={"leadId": lead_id},
                                   headers=cw.world.member.headers)).json()

    await sign_in(page, live, cw.world.member)
    due_list = page.locator("#callbacks-due")
    await expect(due_list.get_by_test_id("no-callbacks-due")).to_have_text("No tienes llamadas por devolver.")
    await open_lead(page, lead_id)
    shown = page.locator("#lead-panel").get_by_test_id("lead-callback")
    await expect(shown).to_have_attribute("data-callback-id", callback["id"])
    await expect(shown).to_contain_text("Programada")
    await expect(shown).to_contain_text("10:00 (hora del lead, America/New_York)")
    await page.screenshot(path=shot("callback-on-lead-es"))

    # Its time comes: the sweep marks it due, and the page hears of it (SSE callback.updated).
    await settled(page)
    live.clock.advance((datetime.fromisoformat(callback["dueAt"].replace("Z", "+00:00"))
                        - datetime.fromtimestamp(live.clock.now(), UTC)).total_seconds() + 1)
    scheduling: SchedulingService = live.app.state.scheduling
    await scheduling.run_due()
    item = due_list.get_by_test_id("due-callback")
    await expect(item).to_contain_text("Carmen Callback")
    await expect(due_list.get_by_test_id("due-count")).to_have_text("1")
    await expect(shown).to_contain_text("Pendiente")
    await page.screenshot(path=shot("callbacks-due-es"))

    await item.get_by_role("button", name="Llamar ahora").click()
    await expect(page.locator(f'.lead-panel[data-lead-id="{lead_id}"] .call-card')).to_be_visible()
    calls = (await client.get(f"/api/leads/{lead_id}/calls", headers=cw.world.member.headers)).json()["items"]
    assert len(calls) == 2
    [placed, *_] = (await client.get("/api/callbacks", params={"leadId": lead_id},
                                     headers=cw.world.member.headers)).json()
    assert placed["status"] == "placed" and placed["callId"] in [c["id"] for c in calls]
    await expect(due_list.get_by_test_id("no-callbacks-due")).to_be_visible()


async def test_an_opt_out_heard_on_a_call_marks_the_lead(page: Page, live: LiveServer,
                                                         live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Olga Optout", "+12025550181")
    r = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 90)
    async with transaction(live.app.state.container.sessionmaker) as session:
        call = await session.get(CallLog, r.json()["callLog"]["id"])
        assert call is not None
        call.opted_out = True  # what the call's analysis heard: "do not call me again"
        await live.app.state.scheduling.settle(session, call)
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    panel = page.locator("#lead-panel")
    await expect(panel.get_by_test_id("dnc-tag")).to_have_text("No llamar")
    await expect(panel.locator("[data-eligibility=number_on_dnc]")).to_contain_text("opted out")


async def test_callback_pages_check_roles_and_input(live: LiveServer, live_client: httpx.AsyncClient,
                                                    cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Iris Input", "+12025550182")
    member = await browser_session(live, cw.world.member)
    admin = await browser_session(live, cw.world.admin)
    try:
        r = await member.post(f"/leads/{lead_id}/callbacks", data={"at": "el jueves"})
        assert r.status_code == 422 and "Fecha y hora: no es una fecha y hora" in r.text
        r = await member.post(f"/leads/{lead_id}/callbacks", data={"at": "2030-01-07T10:00", "note": "x" * 501})
        assert r.status_code == 422 and "Nota" in r.text
        r = await member.post(f"/leads/{lead_id}/callbacks", data={"at": "2030-01-07T10:00", "note": "tras la demo"})
        assert r.status_code == 200 and "Llamada programada." in r.text and "tras la demo" in r.text
        r = await member.post("/settings/callbacks", data={"mode": "auto"})
        assert r.status_code == 403
        r = await admin.post("/settings/callbacks", data={"mode": "a veces"})
        assert r.status_code == 422 and "Modo" in r.text
        r = await admin.post("/settings/callbacks", data={"mode": "auto"})
        assert r.status_code == 200 and 'value="auto" checked' in r.text
        assert (await live_client.get("/api/callback-settings", headers=cw.world.member.headers)).json() == {
            "mode": "auto"}
        owned = await live_client.patch(f"/api/leads/{lead_id}", json={"ownerId": cw.world.member.user_id},
                                        headers=cw.world.admin.headers)
        assert owned.status_code == 200, owned.text
        r = await member.get("/callbacks/interested", params={"lead_id": lead_id})
        assert r.status_code == 200 and "Iris Input está interesado" in r.text
        r = await admin.get("/callbacks/interested", params={"lead_id": lead_id})
        assert r.status_code == 204, "the notice is the owner's"
    finally:
        await member.aclose()
        await admin.aclose()
    r = await live_client.put("/api/callback-settings", json={"mode": "manual"}, headers=cw.world.admin.headers)
    assert r.status_code == 200


async def test_a_callback_shows_the_sellers_time_too_only_when_it_differs(
        browser: Browser, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Nora Zona", "+12025550102")  # America/New_York, asks for a callback
    r = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 90)
    for zone, differs in (("Europe/Madrid", True), ("America/New_York", False)):
        context = await browser.new_context(locale="es-ES", timezone_id=zone)
        page = await context.new_page()
        await sign_in(page, live, cw.world.member)
        await open_lead(page, lead_id)
        shown = page.locator("#lead-panel").get_by_test_id("lead-callback")
        await expect(shown).to_contain_text("10:00 (hora del lead, America/New_York)")
        yours = shown.get_by_test_id("viewer-time")
        if differs:  # 10:00 in New York is 16:00 in Madrid, named with its zone
            await expect(yours).to_be_visible()
            await expect(yours.locator("time")).to_contain_text("16:00")
            await expect(yours.locator("time")).to_contain_text("CET")
        else:
            await expect(yours.locator("time")).not_to_have_attribute("data-local", "")
            await expect(yours).to_be_hidden()
        await context.close()
