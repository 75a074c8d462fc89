"""Settings in sections, each at its own address; an ElevenLabs account that is active only after a passing test."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import browser_session, new_page, shot, sign_in
from tests.live import CallWorld, LiveServer, make_call_world

pytestmark = pytest.mark.e2e

SECTIONS = {"accounts": "ElevenLabs accounts", "agents": "Agents", "team": "Users and roles",
            "budgets": "Monthly budget", "calling": "Calls and data", "integrations": "Webhooks"}


async def test_each_section_has_its_own_address_and_one_save_per_form(browser: Browser, live: LiveServer,
                                                                       cw: CallWorld) -> None:
    for width, height in ((1440, 900), (390, 844)):
        page, errors = await new_page(browser, width, height)
        try:
            await sign_in(page, live, cw.world.admin)
            if width == 1440:  # the choice is kept as the user's language
                await page.get_by_role("button", name="English").click()
            await page.goto(f"{live.url}/settings")
            await expect(page).to_have_url(f"{live.url}/settings/accounts")
            nav = page.get_by_test_id("settings-sections")
            for slug, title in SECTIONS.items():
                await nav.get_by_role("link", name=title, exact=True).click()
                await expect(page).to_have_url(f"{live.url}/settings/{slug}")
                await expect(nav.locator("[aria-current=page]")).to_have_text(title)
                await expect(page).to_have_title(re.compile(f"^{title} · Settings"))
                await expect(page.locator("#settings-body h2").first).to_be_visible()
                await page.wait_for_load_state("networkidle")
                for form in await page.locator("#settings-body form:not(.inline-form)").all():
                    assert await form.locator("button[type=submit]").count() == 1, await form.inner_html()
                if slug in ("accounts", "agents", "team", "budgets"):
                    await page.screenshot(path=shot(f"settings-{slug}-{width}"), full_page=width == 390)
            # Back walks the sections in the order they were opened; an address opens its section directly.
            await page.go_back()
            await expect(page).to_have_url(f"{live.url}/settings/calling")
            await expect(nav.locator("[aria-current=page]")).to_have_text("Calls and data")
            await page.goto(f"{live.url}/settings/team")
            await expect(page.locator("#users")).to_contain_text(cw.world.member.email)
            assert errors == []
        finally:
            await page.context.close()


async def test_a_new_account_is_active_only_after_a_passing_test(page: Page, live: LiveServer, cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.admin)
    await page.goto(f"{live.url}/settings/accounts")
    message = page.get_by_test_id("settings-message")

    await page.locator("summary", has_text="Añadir cuenta").click()
    add = page.locator("form[hx-post='/settings/accounts']")
    await add.get_by_label("Nombre").fill("Segunda")
    await add.get_by_label("API key").fill("sk_not_a_key_of_ours")
    await add.get_by_label("URL de la API (opcional)").fill(f"{live.url}/sim")
    await add.get_by_role("button", name="Añadir cuenta").click()
    await expect(message).to_have_text(
        "«Segunda» se ha guardado desactivada porque la prueba de conexión ha fallado: ElevenLabs dice que la clave "
        "de API no es válida. Corrígelo y actívala cuando una prueba pase.")
    second = page.locator("article.account", has_text="Segunda")
    await expect(second.locator(".tag").first).to_have_text("Desactivada")
    await expect(second).to_contain_text("La conexión ha fallado: ElevenLabs dice que la clave de API no es válida.")
    await page.screenshot(path=shot("settings-account-inactive"))

    # Switching it on tests it again: still the wrong key, so it stays off and says why.
    await second.get_by_role("button", name="Activar").click()
    await expect(message).to_have_text("«Segunda» sigue desactivada: la prueba de conexión ha fallado: ElevenLabs "
                                       "dice que la clave de API no es válida.")
    await expect(second.locator(".tag").first).to_have_text("Desactivada")

    # With the right key, the test passes and it is switched on.
    await second.get_by_text("Editar Segunda").click()
    await second.get_by_label("API key (vacío = sin cambios)").fill(cw.sim_account.api_key)
    await second.get_by_role("button", name="Guardar").click()
    await expect(message).to_have_text("Guardado: Segunda")
    await second.get_by_role("button", name="Activar").click()
    await expect(message).to_have_text("Guardado: Segunda")
    await expect(second.locator(".tag").first).to_have_text("Activa")
    await expect(second).to_contain_text("Conexión correcta")


async def test_an_account_whose_test_passes_is_active_at_once(page: Page, live: LiveServer, cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.admin)
    await page.get_by_role("button", name="English").click()
    await page.goto(f"{live.url}/settings/accounts")
    await page.locator("summary", has_text="Add account").click()
    add = page.locator("form[hx-post='/settings/accounts']")
    await add.get_by_label("Name").fill("Third")
    await add.get_by_label("API key").fill(cw.sim_account.api_key)
    await add.get_by_label("API URL (optional)").fill(f"{live.url}/sim")
    await add.get_by_role("button", name="Add account").click()
    await expect(page.get_by_test_id("settings-message")).to_have_text("Saved: Third")
    third = page.locator("article.account", has_text="Third")
    await expect(third.locator(".tag").first).to_have_text("Active")
    await expect(third).to_contain_text("Connection works: leadcall reaches ElevenLabs")


async def test_section_pages_need_an_admin_and_name_a_known_section(live: LiveServer, live_client: httpx.AsyncClient,
                                                                    cw: CallWorld) -> None:
    other_cw = await make_call_world(live, live_client)
    async with httpx.AsyncClient(base_url=live.url) as stranger:
        for slug in SECTIONS:
            page = await stranger.get(f"/settings/{slug}")
            assert page.status_code == 303 and page.headers["location"] == f"/login?next=%2Fsettings%2F{slug}"
    member = await browser_session(live, cw.world.member)
    admin = await browser_session(live, cw.world.admin)
    try:
        del admin.headers["HX-Request"]
        for slug in SECTIONS:
            refused = await member.get(f"/settings/{slug}")
            assert refused.status_code == 403 and "No tienes permiso" in refused.text
            shown = await admin.get(f"/settings/{slug}")
            assert shown.status_code == 200 and 'aria-current="page"' in shown.text
        home = await admin.get("/settings")
        assert home.status_code == 303 and home.headers["location"] == "/settings/accounts"
        assert (await admin.get("/settings/nope")).status_code == 404
        # Another tenant's account is not found, whether switched on or tested; nothing of it is shown.
        for path in (f"/settings/accounts/{other_cw.account_id}/toggle", f"/settings/accounts/{other_cw.account_id}/test"):
            assert (await admin.post(path)).status_code == 404
        accounts = await admin.get("/settings/accounts")
        assert other_cw.account_id not in accounts.text
        # A new account's form is checked before anything is tried or saved.
        bad = await admin.post("/settings/accounts", data={"name": "X", "api_key": "sk_x_long_enough",
                                                            "base_url": "http://169.254.169.254/"})
        assert bad.status_code in (400, 422) and "X" not in [a for a in re.findall(r"<strong>([^<]*)</strong>",
                                                                                   bad.text)]
        listed = await admin.get("/settings/accounts")
        assert len(re.findall(r'<article class="account', listed.text)) == 1
    finally:
        await member.aclose()
        await admin.aclose()
