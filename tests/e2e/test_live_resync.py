"""When the server's feed of live events was cut (its relay lost Redis for a while), it tells the pages
`stream.resync`: a call card that missed news reads its state again instead of showing a stale status."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.e2e.conftest import add_lead, new_page, open_lead, settled, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_a_call_card_that_missed_news_reads_its_state_again_on_resync(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
        monkeypatch: pytest.MonkeyPatch) -> None:
    lead_id = await add_lead(live_client, cw, "Missed News", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    status = page.locator(".call-card").get_by_test_id("call-status")
    await expect(status).to_have_text("Sonando")
    await settled(page)
    hub = live.app.state.events

    async def lost(_event: object) -> None:
        return None  # as with Redis down: the call moves on, its news reach no browser

    monkeypatch.setattr(hub, "publish", lost)
    await play(live, 14)
    await expect(page.locator(".call-card")).to_have_attribute("data-status", "ringing")
    monkeypatch.undo()
    hub.resync()  # what the relay does once it is subscribed again
    await expect(status).to_have_text("En curso")
    await expect(page.locator("#history .history-item").first).to_contain_text("En curso")


async def _a_ringing_card(page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
                          name: str) -> str:
    lead_id = await add_lead(live_client, cw, name, "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Sonando")
    await settled(page)
    call_id = await page.locator(".call-card").get_attribute("data-call-id")
    assert call_id
    return call_id


async def test_a_card_whose_reads_fail_says_so_stops_its_timer_and_recovers(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    call_id = await _a_ringing_card(page, live, live_client, cw, "Flaky Proxy")
    async def bad_gateway(route: Route) -> None:
        await route.fulfill(status=502, body="Bad Gateway", content_type="text/plain")

    await page.route(f"**/calls/{call_id}/card", bad_gateway)
    await play(live, 14)  # the call is answered; the card's reads of it meet a proxy's 502s
    card = page.locator(".call-card")
    await expect(card.get_by_test_id("call-unreachable")).to_have_text(
        "Sin conexión con el servidor: este estado puede no estar al día. Reintentando…", timeout=15_000)
    await expect(card).to_have_attribute("data-unreachable", "")
    # It keeps trying (each try a second or more after the last), and meanwhile its timer stands still.
    frozen = await card.get_by_test_id("call-elapsed").text_content()
    for _ in range(2):
        async with page.expect_request(f"**/calls/{call_id}/card", timeout=15_000):
            pass
    assert await card.get_by_test_id("call-elapsed").text_content() == frozen
    await expect(page.locator("#toast .toast")).to_have_count(0)  # the card says it; no toast per try

    await play(live, 60)  # the call ends while the card cannot hear of it
    await page.unroute(f"**/calls/{call_id}/card")
    await expect(card.get_by_test_id("call-status")).to_have_text("Completada", timeout=15_000)
    await expect(card.get_by_test_id("call-unreachable")).to_have_count(0)
    await expect(card).not_to_have_attribute("data-unreachable", "")


async def test_a_card_that_went_offline_says_so_and_catches_up_when_back(
        browser: Browser, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    page, errors = await new_page(browser)
    try:
        await _offline_and_back(page, live, live_client, cw)
    finally:
        await page.context.close()
    # Offline, htmx logs each request it could not send; nothing else may go wrong.
    assert [e for e in errors if not re.match(r"htmx:(afterRequest|sendError), ", e)] == []


async def _offline_and_back(page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await _a_ringing_card(page, live, live_client, cw, "Lost Signal")
    await page.context.set_offline(True)
    await play(live, 14)
    card = page.locator(".call-card")
    await expect(card.get_by_test_id("call-unreachable")).to_be_visible(timeout=15_000)
    await expect(card.get_by_test_id("call-status")).to_have_text("Sonando")  # it does not know better yet
    await play(live, 60)
    await page.context.set_offline(False)
    await expect(card.get_by_test_id("call-status")).to_have_text("Completada", timeout=15_000)
    await expect(card.get_by_test_id("call-unreachable")).to_have_count(0)


async def test_a_live_card_that_missed_every_event_still_catches_up(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # No resync, no reconnect: the news are simply lost. A live card reads itself every few seconds.
    await _a_ringing_card(page, live, live_client, cw, "Silent Feed")

    async def lost(_event: object) -> None:
        return None

    monkeypatch.setattr(live.app.state.events, "publish", lost)
    await play(live, 14)
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("En curso", timeout=15_000)
