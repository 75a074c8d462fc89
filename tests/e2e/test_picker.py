"""The agent picker on a phone: compact, Confirm in sight, voice previews on demand, and the agent chosen for the
lead's language and the call type."""

from __future__ import annotations

import io
import uuid
import wave

import httpx
import pytest
from playwright.async_api import Browser, Route, expect

from leadcall.leads.phones import language_of
from tests.e2e.conftest import add_lead, new_page, open_lead, shot, sign_in
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e


def test_a_numbers_country_gives_its_language() -> None:
    assert [language_of(n) for n in ("+34612345678", "+525512345678", "+12025550101", "+442071838750")] == [
        "es", "es", "en", "en"]
    assert language_of(None) is None and language_of("+999") is None


def silence(seconds: float = 5.0) -> bytes:
    """A real (silent) WAV, so the browser plays the preview for its length rather than failing on the sample."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))
    return out.getvalue()


async def spanish_account(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld) -> None:
    """A second ElevenLabs account of the same tenant whose agents speak Spanish."""
    key = f"sk_test_{uuid.uuid4().hex}"
    sim_account = live.simulator.add_account(name=f"acct-{key[-6:]}", api_key=key, webhook_secret="wsec_" + key,
                                             webhook_url=None, concurrency_limit=4)
    live.simulator.seed_account(sim_account, language="es")
    r = await client.post("/api/voice/providers/elevenlabs/config", headers=cw.world.admin.headers, json={
        "name": "España", "apiKey": key, "webhookSecret": "wsec_" + key, "baseUrl": f"{live.url}/sim"})
    assert r.status_code == 201, r.text


async def test_the_picker_chooses_by_language_and_call_type_and_fits_a_phone(
        browser: Browser, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await spanish_account(live, live_client, cw)
    spanish_lead = await add_lead(live_client, cw, "Marta Gil", "+34612345678")
    english_lead = await add_lead(live_client, cw, "John Doe", "+12025550111")
    page, errors = await new_page(browser, 390, 844)
    fetched: list[str] = []
    sample = silence()

    async def preview(route: Route) -> None:
        fetched.append(route.request.url)
        await route.fulfill(status=200, body=sample, content_type="audio/wav")

    await page.route("**/preview.mp3", preview)
    try:
        await sign_in(page, live, cw.world.member)
        await open_lead(page, spanish_lead)
        await page.get_by_role("button", name="Llamar").click()
        picker = page.locator(".picker")
        await expect(picker.locator(".agent")).to_have_count(6)
        checked = picker.locator(".agent:has(input:checked)")
        await expect(checked.locator(".agent-name")).to_have_text("Sofía — Prospección")
        await expect(picker.locator(".agent").first.locator("input")).to_be_checked()  # the chosen one on top
        await expect(checked).to_be_in_viewport()
        await expect(picker.get_by_test_id("picker-default-hint")).to_contain_text("(ES)")
        # Confirm is on screen without scrolling, and no agent brings an audio player of its own.
        confirm = picker.get_by_role("button", name="Confirmar y llamar")
        await expect(confirm).to_be_in_viewport()
        box = await confirm.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844
        await expect(picker.locator("audio")).to_have_count(0)
        await page.screenshot(path=shot("picker-390"))

        # A preview plays when asked (nothing is fetched before), one at a time, and stops when asked again.
        assert fetched == []
        previews = picker.get_by_test_id("voice-preview")
        await previews.first.click()
        await expect(previews.first).to_have_attribute("aria-pressed", "true")
        await expect(previews.first).to_contain_text("■ Parar")
        await previews.nth(1).click()
        await expect(previews.first).to_have_attribute("aria-pressed", "false")
        await expect(previews.nth(1)).to_have_attribute("aria-pressed", "true")
        await previews.nth(1).click()
        await expect(previews.nth(1)).to_have_attribute("aria-pressed", "false")
        await expect(previews.nth(1)).to_contain_text("▶ Escuchar")
        assert len(fetched) >= 2 and len(set(fetched)) == 2, fetched

        # An English lead gets the English agent for the same call type.
        await page.goto(f"{live.url}/leads/{english_lead}")  # on a phone the open panel covers the list
        await page.get_by_role("button", name="Llamar").click()
        await expect(picker.locator(".agent")).to_have_count(6)
        await expect(checked.locator(".agent-name")).to_have_text("Ava — Prospecting")
        await confirm.click()
        await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Sonando")
        assert errors == []
    finally:
        await page.context.close()
