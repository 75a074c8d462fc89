"""The leads page in a real browser: CSV import with its per-row report, search, filters, paging."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import shot, sign_in
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e


async def test_import_search_filter_and_load_more(page: Page, live: LiveServer, cw: CallWorld) -> None:
    good = [f"Importado {i:02d},Beta SL,+1202555{200 + i:04d},contacted" for i in range(28)]
    csv = "\n".join(["nombre,empresa,teléfono,estado", *good, "Sin Teléfono Válido,Gamma,12,new",
                     ",Sin nombre,+12025550199,new"]) + "\n"
    await sign_in(page, live, cw.world.manager)
    await expect(page.locator("#lead-count")).to_have_text("2 leads")
    await page.locator("summary", has_text="Importar CSV").click()
    await page.get_by_label("Archivo CSV").set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    report = page.locator("#import-report .report")
    # A dry run first: it says what the import would do and saves nothing.
    await page.locator(".import-form").get_by_role("button", name="Simular").click()
    await expect(report).to_contain_text("Simulación, no se guardó nada. Se crearían: 28; se actualizarían: 0; "
                                         "sin cambios: 0; se rechazarían: 2.")
    await expect(page.locator("#lead-count")).to_have_text("2 leads")
    await page.locator(".import-form").get_by_role("button", name="Importar CSV").click()
    await expect(report).to_contain_text("Creados: 28; actualizados: 0; sin cambios: 0; rechazados: 2.")
    errors = report.locator(".errors li")
    await expect(errors).to_have_count(2)
    await expect(errors.nth(0)).to_have_text(
        "Fila 30: Teléfono: «12» no es un número válido; escríbelo con el prefijo del país, p. ej. +34 612 345 678")
    await expect(errors.nth(1)).to_have_text("Fila 31: Nombre: este campo es obligatorio")
    await page.screenshot(path=shot("leads-import-report"))

    # The list follows the import: 30 leads, 25 a page, the rest on demand.
    await expect(page.locator("#lead-count")).to_have_text("30 leads")
    rows = page.locator("tr.lead-row")
    await expect(rows).to_have_count(25)
    await page.get_by_role("button", name="Cargar más").click()
    await expect(rows).to_have_count(30)
    await expect(page.get_by_role("button", name="Cargar más")).to_have_count(0)

    await page.get_by_label("Buscar leads").fill("Importado 07")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Contactado")
    await page.get_by_label("Buscar leads").fill("")
    await expect(rows).to_have_count(25)
    await page.get_by_label("Estado").select_option("new")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#lead-count")).to_have_text("2 leads")
