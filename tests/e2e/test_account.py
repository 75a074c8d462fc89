"""Sessions and passwords in a real browser: a copied cookie dies with its session, the user's own page
lists and ends sessions and changes the password, and an admin's reset link sets a new one once."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import new_page, shot, sign_in
from tests.factories import Actor
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e


async def sign_in_with(page: Page, live: LiveServer, actor: Actor, password: str) -> None:
    await page.goto(f"{live.url}/login")
    await page.get_by_label("Email").fill(actor.email)
    await page.locator("input[name=password]").fill(password)
    await page.locator("form[action='/login'] button[type=submit]").click()


async def test_a_copied_cookie_stops_working_after_sign_out(browser: Browser, page: Page, live: LiveServer,
                                                            cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.member)
    thief, errors = await new_page(browser)
    try:
        await thief.context.add_cookies(await page.context.cookies())
        await thief.goto(f"{live.url}/")
        await expect(thief.locator("tr.lead-row").first).to_be_visible()  # the copy works while signed in

        await page.get_by_role("button", name="Salir").click()
        await expect(page).to_have_url(f"{live.url}/login")
        await thief.goto(f"{live.url}/")
        await expect(thief).to_have_url(f"{live.url}/login")
        assert await thief.locator("tr.lead-row").count() == 0
        assert errors == []
    finally:
        await thief.context.close()


async def test_the_account_page_lists_sessions_and_ends_them(browser: Browser, page: Page, live: LiveServer,
                                                             cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.member)
    other, errors = await new_page(browser)
    try:
        await sign_in(other, live, cw.world.member)
        await page.locator("a.user[href='/account']").click()  # the name in the top bar
        rows = page.locator("tr.session-row")
        await expect(rows).to_have_count(2)
        await expect(page.locator("tr.session-row", has_text="este navegador")).to_have_count(1)
        await expect(rows.first).to_contain_text("127.0.0.1")
        await page.screenshot(path=shot("account-sessions"), full_page=True)
        await page.locator("tr.session-row", has_not_text="este navegador").get_by_role(
            "button", name="Cerrar esta sesión").click()
        await expect(page.get_by_test_id("account-notice")).to_have_text("Sesión cerrada.")
        await expect(rows).to_have_count(1)
        await other.reload()
        await expect(other).to_have_url(f"{live.url}/login")

        await sign_in(other, live, cw.world.member)
        await page.get_by_role("button", name="Cerrar sesión en todas partes").click()
        await expect(page).to_have_url(f"{live.url}/login")
        await other.reload()
        await expect(other).to_have_url(f"{live.url}/login")
        assert errors == []
    finally:
        await other.context.close()


async def test_changing_the_password_on_the_account_page(page: Page, live: LiveServer, cw: CallWorld) -> None:
    from tests.factories import PASSWORD

    await sign_in(page, live, cw.world.member)
    await page.goto(f"{live.url}/account")
    form = page.locator("form[action='/account/password']")

    async def change(current: str, new: str, again: str) -> None:
        await form.get_by_label("Contraseña actual").fill(current)
        await form.get_by_label("Contraseña nueva", exact=True).fill(new)
        await form.get_by_label("Repite la contraseña nueva").fill(again)
        await form.get_by_role("button", name="Cambiar la contraseña").click()

    await change("not the password", "changed on the page", "changed on the page")
    await expect(page.get_by_role("alert")).to_have_text("La contraseña actual no es correcta.")
    await change(PASSWORD, "changed on the page", "changed on the pag")
    await expect(page.get_by_role("alert")).to_have_text("Las dos contraseñas nuevas no coinciden.")
    await change(PASSWORD, "qwertyuiop", "qwertyuiop")
    await expect(page.get_by_role("alert")).to_contain_text("una de las más comunes")
    await change(PASSWORD, "changed on the page", "changed on the page")
    await expect(page.get_by_test_id("account-notice")).to_have_text(
        "Contraseña cambiada. Sesiones cerradas: 0; tokens revocados: 0.")

    await page.get_by_role("button", name="Salir").click()
    await sign_in_with(page, live, cw.world.member, PASSWORD)
    await expect(page.locator("#login-error")).to_have_text("Email o contraseña incorrectos.")
    await sign_in_with(page, live, cw.world.member, "changed on the page")
    await expect(page.locator("tr.lead-row").first).to_be_visible()


async def test_an_admin_reset_link_sets_a_new_password_once(browser: Browser, page: Page, live: LiveServer,
                                                            cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.admin)
    await page.goto(f"{live.url}/settings/team")
    row = page.locator("#users tr", has_text=cw.world.member.email)
    await row.get_by_role("button", name="Enlace para restablecerla").click()
    link = await row.get_by_test_id("reset-link").input_value()
    path = urlparse(link).path
    assert path.startswith("/password-reset/")

    member, errors = await new_page(browser)
    try:
        await member.goto(f"{live.url}{path}")
        await expect(member.locator("main")).to_contain_text(cw.world.member.email)
        await page.screenshot(path=shot("settings-reset-link"))
        await member.get_by_label("Contraseña nueva", exact=True).fill("1234567890")
        await member.get_by_label("Repite la contraseña nueva").fill("1234567890")
        await member.get_by_role("button", name="Guardar la contraseña").click()
        await expect(member.get_by_role("alert")).to_contain_text("una de las más comunes")
        await member.get_by_label("Contraseña nueva", exact=True).fill("set from the reset link")
        await member.get_by_label("Repite la contraseña nueva").fill("set from the reset link")
        await member.get_by_role("button", name="Guardar la contraseña").click()
        await expect(member.get_by_test_id("reset-done")).to_have_text("Contraseña guardada. Inicia sesión con ella.")

        await member.goto(f"{live.url}{path}")
        await expect(member.get_by_role("alert")).to_contain_text("ya se usó o ha caducado")
        await sign_in_with(member, live, cw.world.member, "set from the reset link")
        await expect(member.locator("tr.lead-row").first).to_be_visible()
        assert errors == []
    finally:
        await member.context.close()
