"""The settings page's Webhooks section, in Spanish: add an endpoint and see its secret once, test-send it to a
receiver on this machine, read the delivery log, a refused URL said in words, rotate, delete."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect
from standardwebhooks import Webhook

from leadcall.core.db import transaction
from leadcall.integrations.models import WebhookEndpoint
from tests.e2e.conftest import browser_session, settled, shot, sign_in
from tests.factories import TenantWorld, make_world
from tests.integrations.conftest import hooks_live, hooks_world, receiver  # noqa: F401 - fixtures
from tests.integrations.receiver import Receiver
from tests.integrations.support import add_endpoint
from tests.live import LiveServer

pytestmark = pytest.mark.e2e


async def test_an_admin_manages_webhook_endpoints_on_the_settings_page(
        page: Page, hooks_live: LiveServer, hooks_world: TenantWorld, receiver: Receiver) -> None:  # noqa: F811
    await sign_in(page, hooks_live, hooks_world.admin)
    await page.goto(f"{hooks_live.url}/settings/integrations")
    section = page.locator("#webhooks")
    await expect(section.get_by_text("Aún no hay ningún endpoint.")).to_be_visible()
    message = page.get_by_test_id("webhooks-message")

    await section.locator("summary", has_text="Añadir endpoint").click()
    add = section.locator("form[hx-post='/settings/webhooks']")
    await add.get_by_label("URL (https)").fill("http://10.0.0.7/hooks")  # http only to loopback, even here
    await add.get_by_role("button", name="Añadir endpoint").click()
    await expect(message).to_have_text("Los webhooks se envían solo por https.")

    await section.locator("summary", has_text="Añadir endpoint").click()
    add = section.locator("form[hx-post='/settings/webhooks']")
    await add.get_by_label("URL (https)").fill(f"{receiver.url}/ok")
    await add.get_by_label("Descripción").fill("Nuestro CRM")
    await add.get_by_role("button", name="Añadir endpoint").click()
    await expect(message).to_have_text("Endpoint añadido.")
    secret = (await page.get_by_test_id("webhook-secret").inner_text()).strip()
    assert secret.startswith("whsec_")
    await expect(page.get_by_test_id("webhook-secret-hint")).to_have_text("…" + secret[-4:])
    await settled(page)

    await section.get_by_role("button", name="Enviar prueba").click()
    await expect(message).to_contain_text("Entregado: respondió 204 en")
    (got,) = receiver.received
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "webhook.test"
    await settled(page)
    await section.locator("summary", has_text="Registro de entregas").click()
    log = section.get_by_test_id("webhook-log")
    await expect(log).to_contain_text("webhook.test")
    await expect(log).to_contain_text("entregado")
    await page.screenshot(path=shot("settings-webhooks"), full_page=True)

    await page.reload()
    await expect(page.get_by_test_id("webhook-secret-hint")).to_be_visible()
    assert secret not in await page.content()  # shown once

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    await settled(page)
    await section.get_by_role("button", name="Cambiar el secreto").click()
    await expect(message).to_have_text("Secreto nuevo creado.")
    rotated = (await page.get_by_test_id("webhook-secret").inner_text()).strip()
    assert rotated.startswith("whsec_") and rotated != secret
    await expect(section.get_by_text("El secreto anterior también firma hasta")).to_be_visible()
    await settled(page)

    await section.locator("summary", has_text="Editar").click()
    edit = section.locator("form.stack").first
    await edit.get_by_label("Activo").uncheck()
    await edit.get_by_role("button", name="Guardar").click()
    await expect(message).to_have_text("Endpoint guardado.")
    await expect(section.locator(".tag", has_text="desactivado")).to_be_visible()
    await settled(page)

    await section.get_by_role("button", name="Eliminar").click()
    await expect(message).to_have_text("Endpoint eliminado.")
    await expect(section.get_by_text("Aún no hay ningún endpoint.")).to_be_visible()


async def test_the_sections_routes_are_for_admins_and_404_for_another_tenants_ids(
        hooks_live: LiveServer, hooks_world: TenantWorld, receiver: Receiver) -> None:  # noqa: F811
    victim = await make_world(hooks_live.app, name="Victim")
    async with httpx.AsyncClient(base_url=hooks_live.url) as api:
        endpoint = await add_endpoint(api, victim.admin, f"{receiver.url}/ok")
        sent = await api.post(f"/api/webhook-endpoints/{endpoint['id']}/test", headers=victim.admin.headers)
        delivery_id = sent.json()["id"]
    base = f"/settings/webhooks/{endpoint['id']}"
    requests = [("POST", base, {"url": "https://attacker.example/h", "all_events": "on", "enabled": "on"}),
                ("POST", f"{base}/delete", {}), ("POST", f"{base}/rotate", {}), ("POST", f"{base}/test", {}),
                ("GET", f"{base}/deliveries", {}), ("POST", f"{base}/deliveries/{delivery_id}/retry", {}),
                ("GET", f"/settings/webhooks/disabled-toast?endpoint_id={endpoint['id']}", {})]
    attacker = await browser_session(hooks_live, hooks_world.admin)
    member = await browser_session(hooks_live, hooks_world.member)
    try:
        answered = [f"{m} {p} → {r.status_code}" for m, p, form in requests
                    if (r := await attacker.request(m, p, data=form or None)).status_code != 404]
        assert answered == []
        own = await member.get("/settings/webhooks")
        assert own.status_code == 403
        refused = await attacker.post("/settings/webhooks", data={"url": "", "all_events": "on"})
        assert refused.status_code == 200 and "Esa URL no es una a la que leadcall pueda enviar webhooks." in refused.text
    finally:
        await attacker.aclose()
        await member.aclose()
    assert len(receiver.received) == 1  # the victim's own test send, nothing of the attacker's
    async with httpx.AsyncClient(base_url=hooks_live.url) as api:
        shown = await api.get(f"/api/webhook-endpoints/{endpoint['id']}", headers=victim.admin.headers)
    assert shown.json()["url"] == endpoint["url"] and shown.json()["secretHint"] == endpoint["secretHint"]


async def test_an_endpoint_leadcall_switched_off_is_said_to_the_admins(
        hooks_live: LiveServer, hooks_world: TenantWorld, receiver: Receiver) -> None:  # noqa: F811
    async with httpx.AsyncClient(base_url=hooks_live.url) as api:
        endpoint = await add_endpoint(api, hooks_world.admin, f"{receiver.url}/fail")
    async with transaction(hooks_live.app.state.container.sessionmaker) as session:
        row = await session.get(WebhookEndpoint, endpoint["id"])
        assert row is not None
        row.enabled, row.disabled_at = False, datetime.now(UTC)
        row.disabled_reason = "every attempt failed for 27 h (8 in a row); last: the endpoint answered 500"
    admin = await browser_session(hooks_live, hooks_world.admin)
    member = await browser_session(hooks_live, hooks_world.member)
    try:
        toast = await admin.get("/settings/webhooks/disabled-toast", params={"endpoint_id": endpoint["id"]})
        assert toast.status_code == 200
        assert f"leadcall desactivó el endpoint {receiver.url}/fail tras fallar durante un día" in toast.text
        section = await admin.get("/settings/webhooks")
        assert "leadcall lo desactivó por fallos repetidos: every attempt failed for 27 h" in section.text
        home = await admin.get("/")
        assert 'data-follows="webhook-disabled"' in home.text  # where the live notice lands
        assert 'data-follows="webhook-disabled"' not in (await member.get("/")).text
        refused = await member.get("/settings/webhooks/disabled-toast", params={"endpoint_id": endpoint["id"]})
        assert refused.status_code == 403
    finally:
        await admin.aclose()
        await member.aclose()
