"""When the server's feed of live events was cut (its relay lost Redis for a while), it tells the pages
`stream.resync`: a call card that missed news reads its state again instead of showing a stale status."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import add_lead, open_lead, settled, sign_in
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
