"""The calling rules in a real browser: before a seller presses Call, the lead's panel says why the
lead cannot be called now and from when it can, in the lead's time and in the seller's, in Spanish
and in English; managers keep the do-not-call list on its page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import add_lead, open_lead, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAY = [{"days": DAYS, "start": "00:00", "end": "24:00"}]


async def set_rules(client: httpx.AsyncClient, cw: CallWorld, **body: object) -> None:
    r = await client.put("/api/calling-rules", json={"windows": ALL_DAY, "regionRules": False, **body},
                         headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text


async def test_each_refusal_reaches_the_panel_before_the_seller_presses_call(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    client = live_client
    listed = await add_lead(client, cw, "Dana Listed", "+12025550170")
    hours = await add_lead(client, cw, "Hugo Hours", "+12025550171")
    tried = await add_lead(client, cw, "Tere Tried", "+12025550103")
    consent = await add_lead(client, cw, "Carla Consent", "+12025550172")
    r = await client.post("/api/dnc", json={"phone": "+12025550170", "reason": "pidió no ser llamada"},
                          headers=cw.world.manager.headers)
    assert r.status_code == 201
    await sign_in(page, live, cw.world.member)
    panel = page.locator("#lead-panel")

    await open_lead(page, listed)
    await expect(panel.locator("[data-eligibility=number_on_dnc]")).to_contain_text(
        "+12025550170 está en tu lista de no llamar (pidió no ser llamada)")
    await expect(panel.get_by_test_id("dnc-tag")).to_have_text("No llamar")
    await expect(panel.get_by_role("button", name="Llamar")).to_have_count(0)

    # Calls only on a weekday other than today in New York: the next one opens at 09:00 there.
    today = datetime.fromtimestamp(live.clock.now(), UTC).astimezone(ZoneInfo("America/New_York"))
    other = DAYS[(today.weekday() + 2) % 7]
    await set_rules(client, cw, windows=[{"days": [other], "start": "09:00", "end": "20:00"}])
    await open_lead(page, hours)
    box = panel.locator("[data-eligibility=outside_calling_hours]")
    await expect(box).to_contain_text("para el lead (America/New_York): fuera del horario de llamadas")
    await expect(box).to_contain_text("Se podrá llamar desde el")
    await expect(box).to_contain_text("09:00 (hora del lead, America/New_York)")
    await expect(box.locator("time")).to_have_attribute("datetime", re.compile(r"\d{4}-\d\d-\d\dT\d\d:00:00\+00:00"))
    await page.screenshot(path=shot("calling-rules-outside-hours-es"))

    await set_rules(client, cw, maxAttemptsPer24h=1)
    placed = await client.post(f"/api/leads/{tried}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 60)
    await open_lead(page, tried)
    await expect(panel.locator("[data-eligibility=attempts_exhausted]")).to_contain_text(
        "Este número ya tiene 1 de 1 llamadas permitidas en 24 horas.")

    await set_rules(client, cw, requireConsent=True)
    await open_lead(page, consent)
    await expect(panel.locator("[data-eligibility=no_consent]")).to_contain_text(
        "solo llama a leads que han dado su consentimiento")

    await page.get_by_role("button", name="English").click()
    await page.wait_for_selector("tr.lead-row")
    await open_lead(page, consent)
    await expect(panel.locator("[data-eligibility=no_consent]")).to_contain_text(
        "Your team only calls leads who gave their consent")
    await set_rules(client, cw, windows=[{"days": [other], "start": "09:00", "end": "20:00"}])
    await open_lead(page, hours)
    box = panel.locator("[data-eligibility=outside_calling_hours]")
    await expect(box).to_contain_text("for the lead (America/New_York): outside the calling hours")
    await expect(box).to_contain_text("09:00 (the lead's time, America/New_York)")
    await page.screenshot(path=shot("calling-rules-outside-hours-en"))
    await open_lead(page, listed)
    await expect(panel.locator("[data-eligibility=number_on_dnc]")).to_contain_text(
        "+12025550170 is on your do-not-call list")
    await set_rules(client, cw, maxAttemptsPer24h=1)
    await open_lead(page, tried)
    await expect(panel.locator("[data-eligibility=attempts_exhausted]")).to_contain_text(
        "This number has had 1 of the 1 calls allowed in 24 hours.")


async def test_a_manager_keeps_the_do_not_call_list_on_its_page(page: Page, live: LiveServer,
                                                                live_client: httpx.AsyncClient,
                                                                cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.manager)
    await page.get_by_role("link", name="Reglas de llamada").click()
    await expect(page.get_by_role("heading", name="Lista de no llamar")).to_be_visible()
    await expect(page.get_by_text("Solo un administrador puede cambiar las reglas.")).to_be_visible()
    dnc = page.locator("#dnc")
    await dnc.get_by_label("Número", exact=True).fill("202 555 0180")
    await dnc.get_by_label("Motivo", exact=True).fill("lo pidió por email")
    await dnc.get_by_role("button", name="Añadir a la lista").click()
    await expect(page.get_by_test_id("rules-message")).to_have_text("+12025550180 está en la lista.")
    row = page.get_by_test_id("dnc-list").locator("tr", has_text="+12025550180")
    await expect(row).to_contain_text("lo pidió por email")
    await expect(row).to_contain_text("a mano")
    await expect(row.get_by_role("button", name="Quitar")).to_have_count(0)  # only admins take a number off
    await dnc.get_by_label("Número", exact=True).fill("12")
    await dnc.get_by_role("button", name="Añadir a la lista").click()
    await expect(page.locator("#toast")).to_contain_text("no es un número válido")
    await page.screenshot(path=shot("calling-rules-page-manager"))
    r = await live_client.get("/api/dnc?q=0180", headers=cw.world.member.headers)
    assert r.json()["items"][0]["source"] == "manual"
