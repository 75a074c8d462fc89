"""A seller works leads in the web app: creates one, adds its phone, calls it, edits status, owner and notes."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import add_lead, open_lead, settled, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_a_seller_creates_a_lead_adds_its_phone_and_calls_it(page: Page, live: LiveServer,
                                                                   live_client: httpx.AsyncClient,
                                                                   cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.member)
    await page.locator("details.new-lead summary").click()
    form = page.locator("details.new-lead form")
    await form.get_by_label("Nombre").fill("Nueva Cliente")
    await form.get_by_label("Empresa").fill("Acme Nueva")
    await form.get_by_role("button", name="Crear el lead").click()
    panel = page.locator("#lead-panel")
    await expect(panel.locator("#lead-title")).to_have_text("Nueva Cliente")
    await expect(panel.get_by_test_id("lead-notice")).to_have_text("Lead creado.")
    lead_id = await panel.get_attribute("data-lead-id")
    assert page.url.endswith(f"/leads/{lead_id}")  # the address follows the lead
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"]')).to_be_visible()  # the list has it

    # No phone yet: the edit form is open. A number that is not one is told in Spanish, nothing is saved.
    edit = panel.locator("details.edit-lead form")
    await edit.get_by_label("Teléfono").fill("12345")
    await edit.get_by_role("button", name="Guardar el lead").click()
    await expect(page.locator("#toast .toast")).to_contain_text("no es un número válido")
    stored = await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)
    assert stored.json()["phone"] is None

    await edit.get_by_label("Teléfono").fill("+1 202 555 0100")
    await edit.get_by_role("button", name="Guardar el lead").click()
    await expect(panel.get_by_test_id("lead-notice")).to_have_text("Guardado.")
    await expect(panel.locator(".facts dd.mono")).to_have_text("+12025550100")  # stored as the API stores it
    await settled(page)
    await panel.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Sonando")
    await settled(page)
    await play(live, 120)
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Completada",
                                                                                        timeout=15_000)

    # Back leaves the lead; forward (or a refresh) opens it again.
    await page.reload()
    await expect(page.locator(f'.lead-panel[data-lead-id="{lead_id}"]')).to_be_visible()


async def test_a_seller_changes_status_owner_and_notes(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                       cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Status Lead", "+12025550101")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    panel = page.locator("#lead-panel")
    await panel.get_by_text("Editar el lead").click()
    edit = panel.locator("details.edit-lead form")
    await edit.get_by_label("Estado").select_option("qualified")
    await edit.get_by_label("Responsable").select_option(cw.world.member.user_id)
    await edit.get_by_label("Notas").fill("Quiere precio por volumen.")
    await edit.get_by_role("button", name="Guardar el lead").click()
    await expect(panel.get_by_test_id("lead-notice")).to_have_text("Guardado.")
    lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
    assert lead["status"] == "qualified" and lead["ownerId"] == cw.world.member.user_id
    assert lead["notes"] == "Quiere precio por volumen."
    await expect(panel.get_by_test_id("lead-status")).to_have_text("Cualificado")
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"]').get_by_test_id("lead-status")).to_have_text(
        "Cualificado")


async def test_the_address_follows_the_open_lead(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                 cw: CallWorld) -> None:
    first = await add_lead(live_client, cw, "Primera Dirección", "+12025550100")
    second = await add_lead(live_client, cw, "Segunda Dirección", "+12025550101")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, first)
    assert page.url.endswith(f"/leads/{first}")
    await open_lead(page, second)
    assert page.url.endswith(f"/leads/{second}")
    await page.go_back()  # Back returns to the lead before
    await expect(page.locator(f'.lead-panel[data-lead-id="{first}"]')).to_be_visible()
    assert page.url.endswith(f"/leads/{first}")
    await page.reload()  # a refresh keeps it
    await expect(page.locator(f'.lead-panel[data-lead-id="{first}"]')).to_be_visible()
    await open_lead(page, second)
    await page.get_by_role("button", name="English").click()  # so does a language switch
    await expect(page.locator(f'.lead-panel[data-lead-id="{second}"]')).to_be_visible()
    await expect(page.get_by_role("button", name="Call", exact=True)).to_be_visible()
