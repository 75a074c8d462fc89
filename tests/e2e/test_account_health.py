"""Account health in a real browser: an account whose webhooks stopped (the simulator's +12025550109 completes
its call but sends no webhook) shows as warned on the settings page, its check reads the workspace's post-call
webhook at ElevenLabs, and the agents' statistics follow the period the admin chooses."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import add_lead, browser_session, shot, sign_in
from tests.factories import make_world
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_an_account_whose_webhooks_stopped_shows_as_warned(page: Page, live: LiveServer,
                                                                 live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Wanda Webhookless", "+12025550109")
    r = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert r.status_code == 200, r.text
    await play(live, 120)
    call = (await live_client.get(f"/api/calls/{r.json()['callLog']['id']}", headers=cw.world.member.headers)).json()
    assert call["status"] == "completed"  # polling found the end: the call is right without its webhook
    live.clock.advance(11 * 60)

    await sign_in(page, live, cw.world.admin)
    await page.goto(f"{live.url}/settings/accounts")
    health = page.locator(f'article[data-account-id="{cw.account_id}"]').get_by_test_id("account-health")
    await expect(health).to_have_attribute("data-status", "warning")
    warning = health.locator('[data-testid=health-warning][data-code="webhooks_stopped"]')
    await expect(warning).to_contain_text("Los webhooks han dejado de llegar: llamadas terminadas sin webhook desde")
    await expect(warning).to_contain_text("siguen siendo correctas")
    await expect(health.get_by_test_id("health-polling")).to_contain_text(
        "terminadas: 1; seguidas solo consultando a ElevenLabs (sin webhook): 1")
    await expect(health.get_by_test_id("health-last-webhook")).to_have_text("Ninguno todavía")
    await expect(health.get_by_test_id("health-concurrency")).to_have_text("4 libres (0 en curso de 4)")
    await page.screenshot(path=shot("account-health-warned-es"))

    dialled = len(live.simulator.conversations_for(cw.sim_account))
    await health.get_by_role("button", name="Comprobar").click()
    checked = page.locator(f'article[data-account-id="{cw.account_id}"]').get_by_test_id("account-health")
    await expect(checked.get_by_test_id("account-check")).to_contain_text("la API key funciona")
    await expect(checked.get_by_test_id("health-workspace-webhook")).to_have_attribute("data-state", "ok")
    await expect(checked.get_by_test_id("check-agent")).to_have_count(len(cw.sim_account.agents))
    await expect(checked.get_by_test_id("check-live")).to_contain_text(
        "Llamadas en curso ahora en el espacio de ElevenLabs, de leadcall o no: 0")
    assert len(live.simulator.conversations_for(cw.sim_account)) == dialled, "the check places no call"

    await page.get_by_test_id("settings-sections").get_by_role("link", name="Agentes").click()
    stats = page.locator("#agent-stats")
    row = stats.locator('[data-testid=agent-stats-row]').filter(has_text=next(
        a.name for a in cw.sim_account.agents.values() if a.agent_id == cw.agent_ids[0]))
    await expect(row.locator("td").first).to_have_text("1")
    await stats.get_by_label("Desde").fill("2020-01-01")
    await stats.get_by_label("Hasta").fill("2020-01-31")
    await stats.get_by_role("button", name="Ver").nth(1).click()
    await expect(stats.get_by_test_id("agent-stats-period")).to_contain_text("del 2020-01-01 al 2020-01-31")
    await expect(stats.get_by_test_id("agent-stats-row").first).to_contain_text("Sin llamadas en este periodo")


async def test_health_pages_check_roles_tenant_and_input(live: LiveServer, cw: CallWorld) -> None:
    member = await browser_session(live, cw.world.member)
    admin = await browser_session(live, cw.world.admin)
    stranger = await browser_session(live, (await make_world(live.app, "Other Health")).admin)
    try:
        assert (await stranger.get(f"/settings/accounts/{cw.account_id}/health")).status_code == 404
        assert (await stranger.post(f"/settings/accounts/{cw.account_id}/check")).status_code == 404
        for path in (f"/settings/accounts/{cw.account_id}/health", "/settings/agent-stats"):
            assert (await member.get(path)).status_code == 403
        assert (await member.post(f"/settings/accounts/{cw.account_id}/check")).status_code == 403
        assert (await admin.get("/settings/accounts/nope/health")).status_code == 404
        assert (await admin.post("/settings/accounts/nope/check")).status_code == 404
        bad = await admin.get("/settings/agent-stats", params={"days": "12"})
        assert bad.status_code == 422 and "no es una de las opciones" in bad.text
        bad_day = await admin.get("/settings/agent-stats", params={"from": "yesterday"})
        assert bad_day.status_code == 422 and "no es una fecha" in bad_day.text
        reversed_ = await admin.get("/settings/agent-stats", params={"from": "2020-02-01", "to": "2020-01-01"})
        assert reversed_.status_code in (400, 422)
        ok = await admin.get("/settings/agent-stats", params={"days": "7"})
        assert ok.status_code == 200 and "Últimos 7 días" in ok.text
    finally:
        for client in (member, admin, stranger):
            await client.aclose()
