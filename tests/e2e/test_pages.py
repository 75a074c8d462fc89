"""The rest of the web app in a real browser: escaping, settings, errors, languages, phone width."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import add_lead, browser_session, new_page, open_lead, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, finish_jobs, play

pytestmark = pytest.mark.e2e


async def test_a_script_in_a_lead_name_is_shown_as_text(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                        cw: CallWorld) -> None:
    name = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    lead_id = await add_lead(live_client, cw, name, "+12025550101")
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await sign_in(page, live, cw.world.member)
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"] a.lead-link')).to_have_text(name)
    await open_lead(page, lead_id)
    await expect(page.locator("#lead-title")).to_have_text(name)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Sonando")
    await play(live, 60)
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Completada")
    await expect(page.locator(".call-card").get_by_test_id("transcript")).to_contain_text("<script>")
    # The lead's own page (a link to share) escapes it as well.
    await page.goto(f"{live.url}/leads/{lead_id}")
    await expect(page.locator("#lead-title")).to_have_text(name)
    assert await page.locator("img[src=x]").count() == 0
    assert dialogs == []


async def test_admin_settings(page: Page, live: LiveServer, cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.admin)
    await page.get_by_role("link", name="Ajustes").click()
    await expect(page).to_have_url(f"{live.url}/settings/accounts")
    await expect(page.locator("h2").first).to_have_text("Cuentas de ElevenLabs")
    await expect(page.get_by_test_id("api-key-masked")).to_contain_text("…" + cw.sim_account.api_key[-4:])
    assert cw.sim_account.api_key not in await page.content()
    message = page.get_by_test_id("settings-message")
    sections = page.get_by_test_id("settings-sections")

    await page.get_by_role("button", name="Probar conexión").click()
    await expect(message).to_contain_text("Conexión correcta")
    await page.get_by_text("Editar Main").click()
    edit = page.locator(f"form[hx-post='/settings/accounts/{cw.account_id}']")
    await edit.get_by_label("Nombre").fill("Cuenta principal")
    await edit.get_by_role("button", name="Guardar").click()
    await expect(message).to_have_text("Guardado: Cuenta principal")

    await sections.get_by_role("link", name="Agentes").click()
    await expect(page).to_have_url(f"{live.url}/settings/agents")
    rules = page.locator("form.agent-rules").first
    await rules.get_by_label("Etiquetas").fill("inbound, vip")
    await rules.get_by_label("Especialidad").fill("Renovaciones")
    await rules.get_by_label("Seguimiento").check()
    await rules.get_by_role("button", name="Guardar").click()
    await expect(message).to_have_text("Guardado.")
    rules = page.locator("form.agent-rules").first
    await expect(rules.get_by_label("Etiquetas")).to_have_value("inbound, vip")
    await expect(rules.get_by_label("Seguimiento")).to_be_checked()

    await sections.get_by_role("link", name="Usuarios y roles").click()
    await expect(page).to_have_url(f"{live.url}/settings/team")
    users = page.locator("#users")
    await users.locator("summary", has_text="Añadir usuario").click()
    add = users.locator("form[hx-post='/settings/users']")
    await add.get_by_label("Nombre").fill("Nuevo Comercial")
    await add.get_by_label("Email").fill(f"nuevo-{cw.world.tenant_id[:8]}@example.com")
    await add.get_by_label("Contraseña inicial").fill("una clave larga")
    await add.get_by_role("button", name="Añadir usuario").click()
    await expect(message).to_contain_text(f"nuevo-{cw.world.tenant_id[:8]}@example.com")
    row = page.locator("#users tr", has_text="Nuevo Comercial")
    await row.get_by_role("combobox").select_option("manager")
    async with page.expect_response(lambda r: "/settings/users/" in r.url) as saved:
        await row.get_by_role("button", name="Guardar").click()
    assert (await saved.value).status == 200
    await page.reload()
    await expect(page.locator("#users tr", has_text="Nuevo Comercial").get_by_role("combobox")).to_have_value("manager")

    # A mistake reads as a message, not a stack trace.
    own = page.locator("#users tr", has_text=cw.world.admin.email)
    await own.get_by_role("combobox").select_option("member")
    await own.get_by_role("button", name="Guardar").click()
    toast = page.locator("#toast .toast.error")
    await expect(toast).to_contain_text("No puedes quitarte tu propio rol de administrador")

    # Back returns to the section before, as it was saved.
    await page.go_back()
    await expect(page).to_have_url(f"{live.url}/settings/agents")
    await expect(page.locator("form.agent-rules").first.get_by_label("Etiquetas")).to_have_value("inbound, vip")
    await expect(sections.locator("[aria-current=page]")).to_have_text("Agentes")

    # A mistake in a form is told in the page's language, naming the field by its label.
    await sections.get_by_role("link", name="Presupuesto mensual").click()
    await expect(page).to_have_url(f"{live.url}/settings/budgets")
    budget = page.locator("form[hx-post='/settings/budget']")
    await budget.get_by_label("Presupuesto mensual").fill("100")
    await budget.get_by_label("Alertas al (%)").fill("cincuenta")
    await budget.get_by_role("button", name="Guardar").click()
    await expect(toast).to_contain_text("Revisa los datos")
    await expect(toast).to_contain_text("Alertas al (%): escribe porcentajes enteros separados por comas")
    await page.screenshot(path=shot("settings-form-mistake"))
    await budget.get_by_label("Alertas al (%)").fill("50, 80, 100")
    await budget.get_by_role("button", name="Guardar").click()
    await expect(page.locator("#budget")).to_contain_text("0,00 US$ / 100,00 US$")


async def test_members_get_a_readable_403_on_settings(page: Page, live: LiveServer, cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.member)
    await expect(page.get_by_role("link", name="Ajustes")).to_have_count(0)
    response = await page.goto(f"{live.url}/settings")
    assert response is not None and response.status == 403
    await expect(page.locator("h1")).to_have_text("No tienes permiso para esto")
    await expect(page.locator(".error-detail")).to_have_text("Tu rol (Comercial) no permite hacer esto.")
    response = await page.goto(f"{live.url}/leads/no-such-lead")
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("No lo encontramos")
    await page.screenshot(path=shot("error-404"))


async def test_sign_in_errors_and_language(page: Page, live: LiveServer, cw: CallWorld, browser: Browser) -> None:
    response = await page.goto(f"{live.url}/")
    assert response is not None and page.url.endswith("/login")
    await page.get_by_label("Email").fill(cw.world.member.email)
    await page.locator("input[name=password]").fill("not the password")
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.get_by_role("alert")).to_have_text("Email o contraseña incorrectos.")
    await expect(page.get_by_label("Email")).to_have_value(cw.world.member.email)

    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await sign_in(page, live, cw.world.member)
    await expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    await expect(page.locator("nav")).to_contain_text("Leads")
    await page.locator("tr.lead-row").first.click()
    await expect(page.get_by_role("button", name="Call", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Español").click()
    await expect(page.get_by_role("button", name="Llamar")).to_be_visible()  # the page reloads on the open lead
    await expect(page.locator("th").first).to_have_text("Nombre")
    await page.get_by_role("button", name="English").click()

    # The choice is remembered on the user: another browser follows once signed in.
    other, errors = await new_page(browser)
    await sign_in(other, live, cw.world.member)
    await expect(other.locator("th").first).to_have_text("Name")
    await other.get_by_role("button", name="Sign out").click()
    await expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    await other.context.close()
    assert errors == []


async def test_phone_width_layout(browser: Browser, live: LiveServer, live_client: httpx.AsyncClient,
                                  cw: CallWorld) -> None:
    page, errors = await new_page(browser, 390, 844)
    lead_id = await add_lead(live_client, cw, "Phone Person", "+12025550100")
    await sign_in(page, live, cw.world.member)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    await page.screenshot(path=shot("phone-leads"))
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await expect(page.locator(".picker .agent")).to_have_count(3)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.screenshot(path=shot("phone-lead-panel-picker"))
    await page.get_by_role("button", name="Confirmar y llamar").click()
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("Sonando")
    await play(live, 14)
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text("En curso")
    await page.screenshot(path=shot("phone-lead-panel-call-live"))
    await page.get_by_role("link", name="Cerrar la ficha").click()
    await expect(page.locator(".lead-panel")).to_have_count(0)
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"] a.lead-link')).to_be_focused()
    await play(live, 60)
    await page.context.close()
    assert errors == []


async def test_usage_page_after_a_real_call(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                            cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Usage Lead", "+12025550100")
    placed = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 90)
    await sign_in(page, live, cw.world.manager)
    await page.get_by_role("link", name="Consumo").click()
    await expect(page.get_by_test_id("usage-chart")).to_be_visible()
    await expect(page.get_by_test_id("usage-calls")).to_have_text("1")
    costs = await page.locator("[data-testid=usage-chart] rect").evaluate_all(
        "bars => bars.map(b => parseFloat(b.dataset.cost))")
    assert len(costs) == 30 and sum(1 for c in costs if c > 0) == 1
    await page.screenshot(path=shot("usage"))


async def test_a_budget_alert_shows_live_to_those_who_see_reports(page: Page, live: LiveServer,
                                                                  live_client: httpx.AsyncClient,
                                                                  cw: CallWorld) -> None:
    budget = await live_client.put("/api/budgets", json={"monthlyLimit": 2, "estimatedCallCost": 1},
                                   headers=cw.world.admin.headers)
    assert budget.status_code == 200, budget.text
    listening = live.app.state.events.subscriber_count
    await sign_in(page, live, cw.world.manager)
    await expect(page.locator("#budget-alerts")).to_have_count(1)
    await settled(page)
    for _ in range(100):  # the page's event stream is open on the server
        if live.app.state.events.subscriber_count > listening:
            break
        await asyncio.sleep(0.05)
    lead_id = await add_lead(live_client, cw, "Presupuesto", "+12025550108")  # ten minutes: 1.00 USD
    placed = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 620, step=10)  # alerts are about real spend: the call ends and its cost is known
    await finish_jobs(live)  # the alert check is a job run after the cost is committed
    toast = page.locator("#toast .toast.warning")
    await expect(toast).to_contain_text("Alerta de presupuesto")
    await expect(toast).to_contain_text("Se ha alcanzado el 50 % del presupuesto mensual (Toda la empresa): "
                                        "1,00 US$ de 2,00 US$")
    await page.screenshot(path=shot("budget-alert-toast"))
    await toast.get_by_role("button").click()
    await expect(toast).to_have_count(0)
    # Members see no reports: their pages do not listen for alerts, and the toast route refuses them.
    member = await browser_session(live, cw.world.member)
    try:
        alert_id = (await live_client.get("/api/alerts", headers=cw.world.admin.headers)).json()[0]["id"]
        assert (await member.get("/alerts/toast", params={"alert_id": alert_id})).status_code == 403
        assert 'id="budget-alerts"' not in (await member.get("/")).text
    finally:
        await member.aclose()
