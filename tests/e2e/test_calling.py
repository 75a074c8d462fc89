"""A seller's whole flow in a real browser (Debian's Chromium), against the real app and simulator."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def add_lead(client: httpx.AsyncClient, cw: CallWorld, name: str, phone: str) -> str:
    r = await client.post("/api/leads", json={"name": name, "company": "Acme", "phone": phone},
                          headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def open_lead(page: Page, lead_id: str) -> None:
    await page.locator(f'tr[data-lead-id="{lead_id}"]').click()
    await expect(page.locator(".lead-panel")).to_be_visible()


async def test_call_a_lead_and_watch_it_complete_live(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                      cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Zoe Browser", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.locator(".call-button").click()
    picker = page.locator(".picker")
    await expect(picker.locator(".agent")).to_have_count(3)
    assert await picker.locator("audio").count() == 3  # a voice preview per agent
    await picker.locator(".agent input[type=radio]").nth(1).check()
    await page.screenshot(path=shot("lead-panel-picker-open"))
    await picker.locator("select[name=call_type]").select_option("qualification")
    await picker.locator("button.confirm").click()
    card = page.locator(".call-card")
    await expect(card.get_by_test_id("call-status")).to_have_text("Sonando")
    await play(live, 14)
    await expect(card.get_by_test_id("call-status")).to_have_text("En curso")
    await expect(card.locator("button.danger")).to_be_visible()
    await page.screenshot(path=shot("lead-panel-call-live"))
    await play(live, 60)
    await expect(card.get_by_test_id("call-status")).to_have_text("Completada", timeout=10_000)
    await expect(card.get_by_test_id("call-outcome")).to_have_text("Interesado")
    await expect(card.get_by_test_id("transcript")).to_contain_text("Hi Zoe")
    await expect(page.locator("#history .history-item")).to_have_count(1)
    await expect(page.locator("#history")).to_contain_text("Completada")
    await page.screenshot(path=shot("lead-panel-call-completed"), full_page=True)


async def test_cancel_a_long_call(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                  cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Long Talker", "+12025550108")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.locator(".call-button").click()
    await page.locator(".picker button.confirm").click()
    card = page.locator(".call-card")
    await play(live, 20)
    await expect(card.get_by_test_id("call-status")).to_have_text("En curso")
    await card.locator("button.danger").click()
    await expect(card.get_by_test_id("call-status")).to_have_text("Cancelada")
    await play(live, 20)
    await expect(page.locator("#history")).to_contain_text("Cancelada")


async def test_a_script_in_a_lead_name_is_shown_as_text(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                        cw: CallWorld) -> None:
    name = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    lead_id = await add_lead(live_client, cw, name, "+12025550101")
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await sign_in(page, live, cw.world.member)
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"] strong')).to_have_text(name)
    await open_lead(page, lead_id)
    await expect(page.locator("#lead-title")).to_have_text(name)
    assert dialogs == []


async def test_admin_settings_and_usage_pages(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                              cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.admin)
    await page.goto(f"{live.url}/settings")
    await expect(page.locator("h2").first).to_have_text("Cuentas de ElevenLabs")
    await expect(page.locator("td.mono").first).to_contain_text("…" + cw.sim_account.api_key[-4:])
    assert cw.sim_account.api_key not in await page.content()
    await page.locator("button", has_text="Probar conexión").click()
    await expect(page.locator("#settings-body .toast")).to_be_visible()
    await page.locator("summary", has_text="Editar").first.click()
    await page.locator("input[name=name]").first.fill("Cuenta principal")
    await page.locator("form.stack button[type=submit]").first.click()
    await expect(page.locator("#settings-body")).to_contain_text("✓ Cuenta principal")
    budget = page.locator("form[hx-post='/settings/budget']")
    await budget.locator("input[name=monthly_limit]").fill("100")
    await budget.locator("button").click()
    await expect(page.locator("#settings-body")).to_contain_text("/ 100.00")
    await page.screenshot(path=shot("settings"), full_page=True)
    lead_id = await add_lead(live_client, cw, "Usage Lead", "+12025550100")
    placed = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200
    await play(live, 90)
    await page.goto(f"{live.url}/usage")
    await expect(page.get_by_test_id("usage-chart")).to_be_visible()
    await expect(page.get_by_test_id("usage-calls")).to_have_text("1")
    costs = await page.locator("[data-testid=usage-chart] rect").evaluate_all(
        "bars => bars.map(b => parseFloat(b.dataset.cost))")
    assert len(costs) == 30 and sum(1 for c in costs if c > 0) == 1
    await page.screenshot(path=shot("usage"))
    await page.goto(f"{live.url}/lang/en")
    await page.goto(f"{live.url}/usage")
    await expect(page.locator("h1").first).to_contain_text("Usage")
    await expect(page.locator("nav")).to_contain_text("Settings")


async def test_members_get_a_readable_403_on_settings(page: Page, live: LiveServer, cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.member)
    response = await page.goto(f"{live.url}/settings")
    assert response is not None and response.status == 403
    await expect(page.locator(".error-detail")).to_contain_text("member")


async def test_phone_width_layout(browser: object, live: LiveServer, cw: CallWorld) -> None:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await sign_in(page, live, cw.world.member)
    await page.locator("tr.lead-row").first.click()
    await expect(page.locator(".lead-panel")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, "no horizontal scrolling on a phone"
    await page.screenshot(path=shot("phone-lead-panel"), full_page=True)
    await context.close()
