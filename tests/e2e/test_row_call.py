"""One click from the leads list to a call: each callable row has a Call button that opens the lead (its
address pushed, so Back and a refresh follow) with the agent picker already shown."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import add_lead, browser_session, new_page, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_a_seller_calls_a_lead_from_its_row(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                 cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Rita Fila", "+12025550100")
    no_phone = await add_lead(live_client, cw, "Sin Teléfono", None)
    await sign_in(page, live, cw.world.member)
    await page.evaluate("window.__sameDocument = true")
    row = page.locator(f'tr[data-lead-id="{lead_id}"]')
    await expect(page.locator(f'tr[data-lead-id="{no_phone}"]').get_by_test_id("row-call")).to_have_count(0)
    button = row.get_by_role("link", name="Llamar a Rita Fila")
    await expect(button).to_be_visible()
    await page.screenshot(path=shot("leads-row-call"))
    await button.click()
    picker = page.locator("#lead-panel .picker")
    await expect(picker.get_by_role("radio")).to_have_count(3)
    await expect(page.locator("#lead-title")).to_have_text("Rita Fila")
    assert page.url == f"{live.url}/leads/{lead_id}", "the address names the open lead"
    await expect(picker.locator("input[type=radio]:checked")).to_be_focused()  # the keyboard is on the choice
    await picker.get_by_role("button", name="Confirmar y llamar").click()
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Sonando")
    assert await page.evaluate("window.__sameDocument === true"), "the list page was not left"
    await settled(page)
    await play(live, 120)
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Completada",
                                                                                        timeout=15_000)
    # A refresh keeps the lead open (without the picker: the address names the lead, not a half-made call).
    await page.reload()
    await expect(page.locator(f'.lead-panel[data-lead-id="{lead_id}"]')).to_be_visible()
    await expect(page.locator("#lead-panel .picker")).to_have_count(0)


async def test_the_row_call_link_opens_the_picker_on_a_fresh_page_too(page: Page, live: LiveServer,
                                                                      live_client: httpx.AsyncClient,
                                                                      cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Abre Directo", "+12025550101")
    await sign_in(page, live, cw.world.member)
    await page.goto(f"{live.url}/leads/{lead_id}?call=1")  # opened in a new tab, say
    await expect(page.locator("#lead-panel .picker").get_by_role("radio")).to_have_count(3)


async def test_the_row_call_route_checks_its_input_and_tenant(live: LiveServer, live_client: httpx.AsyncClient,
                                                              cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Revisa Entrada", "+12025550101")
    dnc = await add_lead(live_client, cw, "No Llamar", "+12025550105")
    flagged = await live_client.patch(f"/api/leads/{dnc}", json={"doNotCall": True}, headers=cw.world.member.headers)
    assert flagged.status_code == 200, flagged.text
    member = await browser_session(live, cw.world.member)
    try:
        bad = await member.get(f"/leads/{lead_id}", params={"call": "yes"})
        assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#toast"
        panel = await member.get(f"/leads/{lead_id}", params={"call": "1"})
        assert panel.status_code == 200 and f'hx-get="/leads/{lead_id}/picker"' in panel.text
        assert 'data-testid="picker-loading"' in panel.text
        plain = await member.get(f"/leads/{lead_id}")
        assert 'data-testid="picker-loading"' not in plain.text, "only the Call button opens the picker"
        rows = await member.get("/leads/rows")
        assert f'href="/leads/{lead_id}?call=1"' in rows.text
        assert f'href="/leads/{dnc}?call=1"' not in rows.text, "a do-not-call lead has no Call button"
        unknown = await member.get("/leads/no-such-lead", params={"call": "1"})
        assert unknown.status_code == 404
    finally:
        await member.aclose()


async def test_the_call_button_fits_a_phone(browser: Browser, live: LiveServer, live_client: httpx.AsyncClient,
                                            cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Maximiliana Fernández-Villaverde", "+12025550100")
    page, errors = await new_page(browser, 390, 844)
    try:
        await sign_in(page, live, cw.world.member)
        table = page.locator(".table-wrap")
        fits = await table.evaluate("el => el.scrollWidth <= el.clientWidth")
        assert fits, "the list does not scroll sideways on a phone: the Call button is in sight"
        row = page.locator(f'tr[data-lead-id="{lead_id}"]')
        await expect(row).to_contain_text("Acme")  # the company, under the name
        await page.screenshot(path=shot("leads-row-call-phone"))
        await row.get_by_role("link", name="Llamar a Maximiliana Fernández-Villaverde").click()
        await expect(page.locator("#lead-panel .picker").get_by_role("radio")).to_have_count(3)
    finally:
        await page.context.close()
    assert errors == []
