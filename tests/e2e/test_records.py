"""A lead is archived, restored and erased from its panel, by the roles allowed to; retention is set on the
settings page. In a real browser, in Spanish."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect

from tests.e2e.conftest import add_lead, browser_session, open_lead, settled, shot, sign_in
from tests.e2e.test_web_forms import toast
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_a_manager_archives_and_restores_a_lead_from_its_panel(page: Page, live: LiveServer,
                                                                     live_client: httpx.AsyncClient,
                                                                     cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Archivo Prueba", "+12025550101")
    page.on("dialog", _accept)
    await sign_in(page, live, cw.world.manager)
    await open_lead(page, lead_id)
    panel = page.locator("#lead-panel")
    await expect(panel.get_by_role("button", name="Borrar datos personales")).to_have_count(0)  # admins only
    await panel.get_by_role("button", name="Archivar").click()
    await expect(page.get_by_test_id("lead-archived")).to_have_text("Archivado")
    await expect(page.get_by_test_id("lead-notice")).to_have_text("Lead archivado.")
    await expect(panel).to_contain_text("Este lead está archivado: restáuralo para editarlo o llamarlo.")
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"]')).to_have_count(0)  # the list followed
    await settled(page)

    await page.get_by_label("Activos o archivados").select_option("1")
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"]')).to_contain_text("Archivado")
    await page.screenshot(path=shot("lead-archived"))
    await panel.get_by_role("button", name="Restaurar").click()
    await expect(page.get_by_test_id("lead-notice")).to_have_text("Lead restaurado.")
    await expect(page.get_by_test_id("lead-archived")).to_have_count(0)
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"]')).to_have_count(0)  # no longer among the archived
    lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.member.headers)).json()
    assert lead["archivedAt"] is None


async def test_a_member_sees_no_archive_button_and_an_admin_erases(page: Page, live: LiveServer,
                                                                  live_client: httpx.AsyncClient,
                                                                  cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Borrable Persona", "+12025550101")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await expect(page.locator("#lead-panel .record-actions")).to_have_count(0)
    await page.context.clear_cookies()

    page.on("dialog", _accept)
    await sign_in(page, live, cw.world.admin)
    await open_lead(page, lead_id)
    await page.locator("#lead-panel").get_by_role("button", name="Borrar datos personales").click()
    await expect(page.get_by_test_id("lead-erased")).to_have_text("Datos borrados")
    await expect(page.locator("#lead-title")).to_have_text("(datos borrados)")
    await expect(page.locator("#lead-panel")).not_to_contain_text("Borrable")
    await expect(page.locator("#lead-panel .record-actions")).to_have_count(0)
    lead = (await live_client.get(f"/api/leads/{lead_id}", headers=cw.world.admin.headers)).json()
    assert lead["erasedAt"] and lead["name"] == "" and lead["phone"] is None


async def test_an_admin_sets_retention_on_the_settings_page(page: Page, live: LiveServer,
                                                            live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = await browser_session(live, cw.world.admin)
    try:
        for form, said in (({"retention_days": "0"}, "Conservar (días): debe ser 1 o más"),
                           ({"retention_days": "pronto"}, "Conservar (días): debe ser un número entero"),
                           ({"retention_days": "", "delete_at_provider": "on"},
                            "Para borrar en ElevenLabs hace falta un plazo de conservación (días).")):
            refused = await admin.post("/settings/retention", data=form)
            assert refused.status_code == 422, refused.text
            assert said in toast(refused), toast(refused)
    finally:
        await admin.aclose()
    policy = (await live_client.get("/api/retention", headers=cw.world.admin.headers)).json()
    assert policy["days"] is None, "a refused form changes nothing"

    await sign_in(page, live, cw.world.admin)
    await page.goto(f"{live.url}/settings/calling")
    section = page.locator("#retention")
    await section.get_by_label("Conservar (días; vacío = siempre)").fill("30")
    await section.get_by_label("Borrar también las conversaciones en ElevenLabs").check()
    await section.get_by_role("button", name="Guardar").click()
    await expect(page.get_by_test_id("settings-message")).to_have_text("Guardado.")
    await expect(page.locator("#retention").get_by_label("Conservar (días; vacío = siempre)")).to_have_value("30")
    policy = (await live_client.get("/api/retention", headers=cw.world.admin.headers)).json()
    assert (policy["days"], policy["deleteAtProvider"]) == (30, True)
    await page.screenshot(path=shot("settings-retention"))
