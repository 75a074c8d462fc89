"""Small things a seller notices: toasts that leave, tags in the page's language, a result that fits a phone."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.e2e.conftest import add_lead, new_page, open_lead, settled, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_an_error_toast_leaves_by_itself(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                               cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Toast Lead", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)

    async def bad_gateway(route: Route) -> None:
        await route.fulfill(status=502, body="Bad Gateway", content_type="text/plain")

    await page.route("**/picker**", bad_gateway)
    await page.get_by_role("button", name="Llamar").click()
    toast = page.locator("#toast .toast")
    await expect(toast).to_contain_text("La petición ha fallado (502)")
    await page.mouse.move(0, 0)  # not resting on it
    await expect(toast).to_have_count(0, timeout=20_000)


async def test_agent_tags_read_in_the_pages_language(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                     cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Tag Lead", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    tags = page.locator(".picker .agent .tag")
    await expect(tags.first).to_be_visible()
    texts = await tags.all_text_contents()
    assert "follow_up" not in texts and "Seguimiento" in texts, texts


async def test_a_finished_call_reads_whole_on_a_phone(browser: Browser, live: LiveServer,
                                                      live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    page, errors = await new_page(browser, 390, 844)
    try:
        lead_id = await add_lead(live_client, cw, "Phone Screen", "+12025550100")
        await sign_in(page, live, cw.world.member)
        await open_lead(page, lead_id)
        await page.get_by_role("button", name="Llamar").click()
        await page.get_by_role("button", name="Confirmar y llamar").click()
        card = page.locator(".call-card")
        await expect(card.get_by_test_id("call-status")).to_have_text("Sonando")
        await settled(page)
        await play(live, 120)
        await expect(card.get_by_test_id("call-status")).to_have_text("Completada", timeout=15_000)
        step = card.locator(".steps li.current")
        await expect(step).to_have_text("Completada")
        # One line, nothing cut: the word is neither broken nor hidden behind an ellipsis.
        lines = await step.evaluate("el => { const r = document.createRange(); r.selectNodeContents(el); "
                                    "return [r.getClientRects().length, el.scrollWidth <= el.clientWidth]; }")
        assert lines == [1, True]
    finally:
        await page.context.close()
    assert errors == []
