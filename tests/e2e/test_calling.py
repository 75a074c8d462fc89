"""A seller's calls in a real browser: pick an agent, watch the call live over SSE, read the result."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import add_lead, open_lead, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_call_a_lead_and_watch_it_complete_live(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                      cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Zoe Browser", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.evaluate("window.__sameDocument = true")  # gone if anything below reloads the page
    panel_status = page.locator("#lead-panel").get_by_test_id("lead-status")
    row_status = page.locator(f'tr[data-lead-id="{lead_id}"]').get_by_test_id("lead-status")
    await expect(panel_status).to_have_text("Nuevo")
    await expect(row_status).to_have_text("Nuevo")

    # Second thoughts: back from the picker, the keyboard is on the Call button again.
    await page.get_by_role("button", name="Llamar").click()
    await expect(page.locator(".picker .agent")).to_have_count(3)
    await page.get_by_role("button", name="Volver").click()
    await expect(page.locator(".picker")).to_have_count(0)
    await expect(page.get_by_role("button", name="Llamar")).to_be_focused()

    await page.get_by_role("button", name="Llamar").click()
    picker = page.locator(".picker")
    group = picker.get_by_role("radiogroup", name="Elige un agente")
    await expect(group.get_by_role("radio")).to_have_count(3)
    # A voice preview for each agent, played on demand by one button (no audio player per agent).
    await expect(picker.get_by_test_id("voice-preview")).to_have_count(3)
    await expect(picker.locator("audio")).to_have_count(0)
    await expect(picker.locator(".availability").first).to_have_text("Disponible")
    assert await picker.get_by_test_id("voice-preview").first.get_attribute("data-preview"), "the voice's sample"
    # Keyboard: the radio group is one tab stop; arrow keys move the choice.
    await group.get_by_role("radio").first.focus()
    await page.keyboard.press("ArrowDown")
    ben = group.get_by_role("radio", name=re.compile("Ben"))
    await expect(ben).to_be_checked()
    await picker.get_by_label("Tipo de llamada").select_option("qualification")
    await page.screenshot(path=shot("lead-panel-picker-open"))

    await picker.get_by_role("button", name="Confirmar y llamar").click()
    card = page.locator(".call-card")
    status = card.get_by_test_id("call-status")
    await expect(status).to_have_text("Sonando")
    await expect(card.get_by_role("button", name="Colgar")).to_be_visible()
    await expect(page.locator("#history .history-item")).to_have_count(1)

    await play(live, 14)
    await expect(status).to_have_text("En curso")
    # The elapsed time is the call's (simulated) age, then counts on in the browser. (The card re-reads itself
    # every few seconds while live, so one read may have come mid-way through the simulated seconds: read now.)
    await page.evaluate("htmx.trigger(document.body, 'leadcall:resync')")
    await expect(card.get_by_test_id("call-elapsed")).to_have_text(re.compile(r"^00:(1[4-9]|[2-5]\d)$"))
    await expect(card.locator(".steps li[aria-current=step]")).to_have_text("En curso")
    await page.screenshot(path=shot("lead-panel-call-live"))

    await play(live, 60)
    await expect(status).to_have_text("Completada", timeout=10_000)
    await expect(card.get_by_test_id("call-outcome")).to_have_text("Interesado")
    await expect(card.get_by_test_id("transcript")).to_contain_text("Hi Zoe")
    await expect(card.get_by_test_id("call-cost")).to_contain_text("US$")
    await expect(card.get_by_test_id("call-next-action")).not_to_be_empty()
    await expect(card.get_by_test_id("call-duration")).to_have_text("00:32")
    await expect(card.get_by_role("button", name="Colgar")).to_have_count(0)
    history = page.locator("#history .history-item")
    await expect(history).to_have_count(1)
    await expect(history.first).to_contain_text("Completada")
    await expect(history.first).to_contain_text("Interesado")
    # The lead answered: it is contacted now, in its panel and in its row of the list.
    await expect(panel_status).to_have_text("Contactado")
    await expect(row_status).to_have_text("Contactado")
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    await page.screenshot(path=shot("lead-panel-call-completed"))
    await card.get_by_test_id("transcript").scroll_into_view_if_needed()
    await page.screenshot(path=shot("lead-panel-call-completed-transcript"))

    # The seller corrects the outcome; the history follows.
    await card.get_by_text("Corregir el resultado").click()
    form = card.locator("form.outcome-form")
    await form.get_by_label("Resultado").select_option("callback_requested")
    await form.get_by_role("button", name="Guardar").click()
    await expect(card.get_by_test_id("call-outcome")).to_have_text("Pide que le llamen")
    await expect(history.first).to_contain_text("Pide que le llamen")


async def test_cancel_a_long_call(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                  cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Long Talker", "+12025550108")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    card = page.locator(".call-card")
    await expect(card.get_by_test_id("call-status")).to_have_text("Sonando")
    await play(live, 20)
    await expect(card.get_by_test_id("call-status")).to_have_text("En curso")
    await card.get_by_role("button", name="Colgar").click()
    await expect(card.get_by_test_id("call-status")).to_have_text("Cancelada")
    await expect(card.get_by_role("button", name="Llamar de nuevo")).to_be_visible()
    # The lead had answered: the result says so, and why it ended, in the page's language.
    await expect(card.get_by_test_id("call-outcome")).to_have_text("Contestada")
    await expect(card.get_by_test_id("call-reason")).to_have_text("Contestada y colgada desde leadcall.")
    await play(live, 20)
    await expect(page.locator("#history .history-item").first).to_contain_text("Cancelada")
    await expect(page.locator("#history .history-item").first).not_to_contain_text("Sin respuesta")
    await expect(card.get_by_test_id("call-status")).to_have_text("Cancelada")
    await expect(card.get_by_test_id("call-outcome")).not_to_have_text("Sin respuesta")


async def test_news_that_arrive_while_the_card_refreshes_are_not_lost(page: Page, live: LiveServer,
                                                                      live_client: httpx.AsyncClient,
                                                                      cw: CallWorld) -> None:
    # Updates of one call can follow each other within milliseconds (the scale-out worker applies the
    # audio and transcription webhooks back to back): the last one must reach the card even if it
    # arrives while the card is still fetching itself after the one before.
    lead_id = await add_lead(live_client, cw, "Quick News", "+12025550101")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    status = page.locator(".call-card").get_by_test_id("call-status")
    await expect(status).to_have_text("Sonando")
    await play(live, 14)
    await expect(status).to_have_text("En curso", timeout=15_000)  # the sweep that polls it may be busy
    call_id = await page.locator(".call-card").get_attribute("data-call-id")
    live_card = await page.request.get(f"{live.url}/calls/{call_id}/card")
    assert live_card.ok
    stale_body = await live_card.text()

    # The card's next refresh is held on its way, and then answered with the card as it was.
    release = asyncio.Event()
    refreshes: list[str] = []

    async def hold_first(route: Route) -> None:
        refreshes.append(route.request.url)
        if len(refreshes) > 1:
            await route.continue_()
            return
        await release.wait()
        await route.fulfill(status=200, body=stale_body, content_type="text/html; charset=utf-8")

    await page.route(f"**/calls/{call_id}/card", hold_first)
    async with page.expect_request(f"**/calls/{call_id}/card"):
        await page.evaluate("htmx.trigger(document.body, 'leadcall:resync')")
    await play(live, 60)  # the call ends meanwhile
    await expect(page.locator("#history .history-item").first).to_contain_text("Completada")  # the news came
    release.set()
    await expect(status).to_have_text("Completada")
    assert len(refreshes) >= 2


async def test_refused_call_and_a_lead_someone_else_is_calling(page: Page, live: LiveServer,
                                                               live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    refused = await add_lead(live_client, cw, "Refused Number", "+12025550106")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, refused)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    card = page.locator(".call-card")
    await expect(card.get_by_test_id("call-status")).to_have_text("Fallida")
    await expect(card.locator(".form-error")).to_contain_text("ElevenLabs rechazó la llamada: no se ha llamado al lead.")
    await expect(card.locator(".form-error .muted")).to_contain_text("rejected the call")  # ElevenLabs' own words

    # The picker is open when a colleague (the API) starts calling the same lead: confirming then
    # answers with a readable toast, not a broken panel.
    busy = await add_lead(live_client, cw, "Popular Lead", "+12025550108")
    await page.reload()
    await open_lead(page, busy)
    await page.get_by_role("button", name="Llamar").click()
    await expect(page.locator(".picker .agent")).to_have_count(3)
    await settled(page)  # the picker listens for news
    placed = await live_client.post(f"/api/leads/{busy}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.manager.headers)
    assert placed.status_code == 200, placed.text
    # The open picker learns over SSE that the first agent is now on a call.
    await expect(page.locator(".picker .availability").first).to_contain_text("1 en llamada")
    await page.get_by_role("button", name="Confirmar y llamar").click()
    toast = page.locator("#toast .toast.error")
    await expect(toast).to_contain_text("No es posible ahora mismo")
    await expect(toast).to_contain_text("Este lead ya está en una llamada: espera a que termine o cancélala.")
    await expect(page.locator(".picker")).to_be_visible()
    await toast.get_by_role("button").click()
    await expect(toast).to_have_count(0)
    await live_client.post(f"/api/calls/{placed.json()['callLog']['id']}/cancel", headers=cw.world.manager.headers)


async def test_an_agent_that_becomes_busy_says_why_in_the_pages_language(page: Page, live: LiveServer,
                                                                          live_client: httpx.AsyncClient,
                                                                          cw: CallWorld) -> None:
    agents = await live_client.get("/api/voice/agents/available", headers=cw.world.member.headers)
    ava = agents.json()[0]
    limited = await live_client.put(f"/api/voice/agents/{ava['id']}", json={"maxConcurrentCalls": 1},
                                    headers=cw.world.admin.headers)
    assert limited.status_code == 200, limited.text
    other = await add_lead(live_client, cw, "Other Lead", "+12025550108")
    lead_id = await add_lead(live_client, cw, "Waiting Lead", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    first = page.locator(".picker .agent").first
    await expect(first.locator(".availability")).to_have_text("Disponible")
    await settled(page)  # the picker listens for news

    placed = await live_client.post(f"/api/leads/{other}/call", json={"agentId": ava["agentId"]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await expect(first.locator(".availability")).to_have_text(
        "No disponible: ocupado: llamadas en curso 1, límite 1 · 1 en llamada")
    await expect(first.get_by_role("radio")).to_be_disabled()

    # Confirming an agent that has just become busy (the page had not heard yet) is refused in Spanish too.
    token = await page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    agent_ref = await first.get_by_role("radio").get_attribute("value")
    refused = await page.request.post(f"{live.url}/leads/{lead_id}/call", form={"agent_id": agent_ref or ""},
                                      headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert refused.status == 400
    assert "No disponible: ocupado: llamadas en curso 1, límite 1" in await refused.text()
    await live_client.post(f"/api/calls/{placed.json()['callLog']['id']}/cancel", headers=cw.world.member.headers)


async def test_history_loads_older_calls_on_demand(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                   cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Many Calls", "+12025550106")
    for _ in range(7):  # the provider refuses this number: each call ends at once
        r = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                   headers=cw.world.member.headers)
        assert r.status_code == 200, r.text
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    items = page.locator("#history .history-item")
    await expect(items).to_have_count(5)
    await page.get_by_role("button", name="Ver llamadas anteriores").click()
    await expect(items).to_have_count(7)
    await expect(page.get_by_role("button", name="Ver llamadas anteriores")).to_have_count(0)
    # Any call of the history opens in the work panel.
    await items.nth(6).get_by_role("button", name="Ver detalle").click()
    await expect(page.locator("#work .call-card").get_by_test_id("call-status")).to_have_text("Fallida")
