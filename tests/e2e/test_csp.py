"""The pages under their Content-Security-Policy, in a real browser: they work, and the policy holds.

Every browser test's page fixture fails on a console error, and Chromium reports each CSP violation as one,
so the whole of tests/e2e/ is the proof that nothing in the pages needs inline script, inline style or
eval. These tests tour the pages once more and show that the policy is really enforced."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import add_lead, new_page, open_lead, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_every_page_renders_under_the_policy(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                                    cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Marta Políticas", "+12025550100")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    async with page.expect_response(f"{live.url}/login") as answer:
        await page.goto(f"{live.url}/login")
    policy = (await answer.value).headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    await page.screenshot(path=shot("csp-login"))
    await sign_in(page, live, cw.world.admin)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await expect(page.locator(".picker")).to_be_visible()
    await settled(page)
    await page.screenshot(path=shot("csp-picker"))
    await page.get_by_role("button", name="Confirmar y llamar").click()
    status = page.locator(".call-card").get_by_test_id("call-status")
    await expect(status).to_have_text("Sonando")
    await settled(page)
    await play(live, 60)  # live news reach the card, the history and the list through app.js, not eval
    await expect(status).to_have_text("Completada")
    await expect(page.locator(f'tr[data-lead-id="{lead_id}"] .lead-status-live')).not_to_have_text("Nuevo")
    await page.screenshot(path=shot("csp-call-completed"), full_page=True)
    for path, heading in (("/settings/accounts", "Cuentas de ElevenLabs"), ("/usage", None), ("/leads/nope", None)):
        await page.goto(f"{live.url}{path}")
        if heading:
            await expect(page.locator("h2").first).to_have_text(heading)
    await page.screenshot(path=shot("csp-error-page"))
    assert violations == []


async def test_the_policy_refuses_inline_script_and_style(browser: Browser, live: LiveServer, cw: CallWorld) -> None:
    page, errors = await new_page(browser)
    try:
        await sign_in(page, live, cw.world.member)
        # What an injection would try: an inline handler, an inline script, an inline style.
        await page.evaluate("""() => {
            window.violations = [];
            document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.effectiveDirective));
            document.body.insertAdjacentHTML("beforeend",
              '<img id="probe" src="/static/favicon.svg" onload="window.injected = 1">' +
              '<div id="styled" style="display: none">x</div>');
            const script = document.createElement("script");
            script.textContent = "window.injected = 2";
            document.body.append(script);
        }""")
        await expect(page.locator("#probe")).to_be_attached()
        assert await page.evaluate("() => window.injected") is None
        await expect(page.locator("#styled")).to_be_visible()
        await page.wait_for_function("() => window.violations.length >= 3")
        assert sorted(await page.evaluate("() => window.violations")) == [
            "script-src-attr", "script-src-elem", "style-src-attr"]
        assert any("Content Security Policy" in e for e in errors)  # what fails every other browser test
    finally:
        await page.context.close()
