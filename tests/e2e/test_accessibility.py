"""Every page passes axe-core with no serious or critical violation: walked in a real browser by a seller, a
manager and an admin, in Spanish and in English, including the states a page only reaches by use (the agent
picker open, a call live, a finished call with its transcript, every folded section unfolded).

axe-core is vendored under tests/e2e/vendor/axe-core (a test tool, never served); it is injected into each
page by the browser (an init script), outside the page's Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from leadcall.tenancy import passwords
from leadcall.web.i18n import LANGUAGES
from tests.e2e.conftest import add_lead, new_page, open_lead, settled, sign_in
from tests.factories import Actor
from tests.live import CallWorld, LiveServer, finish_jobs, play

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return {passed: result.passes.length, violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))};
}"""
UNFOLD = "() => { const closed = [...document.querySelectorAll('details:not([open])')];" \
         " closed.forEach(d => { d.open = true; }); return closed.length; }"


async def axe_page(browser: Browser, language: str) -> tuple[Page, list[str]]:
    page, errors = await new_page(browser, 1280, 800)
    await page.context.add_init_script(path=str(AXE))
    if language == "en":
        await page.context.set_extra_http_headers({"Accept-Language": "en"})
    return page, errors


async def serious(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations on the page as it is now."""
    await settled(page)
    result = await page.evaluate(RUN_AXE)
    assert result["passed"] > 10, "axe ran its rules on the page"
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


class Walk:
    def __init__(self, page: Page, base_url: str, who: str, language: str) -> None:
        self.page, self.base_url, self.who, self.language = page, base_url, who, language
        self.checked: list[str] = []
        self.visited: set[str] = set()
        self.found: dict[str, list[dict[str, Any]]] = {}

    async def check(self, name: str) -> None:
        """axe on the page as shown, then again with every folded section (<details>) open."""
        await expect(self.page.locator("html")).to_have_attribute("lang", self.language)
        self.checked.append(name)
        violations = await serious(self.page)
        if await self.page.evaluate(UNFOLD):
            violations += [v for v in await serious(self.page) if v["id"] not in {w["id"] for w in violations}]
        if violations:
            self.found[name] = violations

    async def visit(self, name: str, path: str, status: int = 200) -> None:
        self.visited.add(path)
        response = await self.page.goto(self.base_url + path)
        assert response is not None and response.status == status, (self.who, path, response and response.status)
        await self.check(name)

    def report(self) -> str:
        lines = []
        for name, violations in self.found.items():
            for v in violations:
                lines.append(f"[{self.who}/{self.language}] {name}: {v['id']} ({v['impact']}) {v['help']}")
                lines += [f"    {n['target']}\n      {n['summary'].replace(chr(10), chr(10) + '      ')}"
                          for n in v["nodes"]]
        return "\n".join(lines)


async def switch_to(page: Page, language: str) -> None:
    if await page.locator("html").get_attribute("lang") != language:
        await page.locator("button.lang").click()
        await expect(page.locator("html")).to_have_attribute("lang", language)


async def lead_with_a_transcript(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld) -> str:
    lead_id = await add_lead(client, cw, "Lucía Ortega", "+12025550102")  # answers, talks, asks for a callback
    placed = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 120)
    await finish_jobs(live)
    return lead_id


async def walk_signed_out(walk: Walk, live: LiveServer, actor: Actor) -> None:
    page = walk.page
    await page.goto(f"{live.url}/login")
    await switch_to(page, walk.language)
    await walk.check("sign-in")
    await page.get_by_label("Email").fill(actor.email)
    await page.locator("input[name=password]").fill("not the password")
    await page.locator("form[action='/login'] button[type=submit]").click()
    await expect(page.locator("#login-error")).to_be_visible()
    await walk.check("sign-in, wrong password")
    await walk.visit("error 404, signed out", "/no-such-page", 404)
    await walk.visit("password reset, unknown link", f"{passwords.RESET_PATH}/no-such-link", 404)


async def walk_signed_in(walk: Walk, live: LiveServer, client: httpx.AsyncClient, cw: CallWorld,
                         history_lead: str, role: str) -> None:
    page = walk.page
    await sign_in(page, live, getattr(cw.world, role))
    await switch_to(page, walk.language)
    await walk.check("leads list")

    # A lead with a finished call: its page, then the call's card with the transcript.
    await walk.visit("lead page with history", f"/leads/{history_lead}")
    await page.locator("#history .view-call").first.click()
    await expect(page.locator(".call-card").get_by_test_id("transcript")).to_be_visible()
    await walk.check("finished call with transcript")

    # The call flow: the picker open, the call live, the call ended.
    lead_id = await add_lead(client, cw, f"Axe {role}", "+12025550100")
    await page.goto(f"{live.url}/")
    await open_lead(page, lead_id)
    await page.locator("#lead-panel button.call-button").click()
    await expect(page.locator(".picker .agent").first).to_be_visible()
    await walk.check("call flow, agent picker open")
    await page.locator(".picker button.confirm").click()
    await expect(page.locator(".call-card[data-status=ringing], .call-card[data-status=initiating]")).to_have_count(1)
    await walk.check("live call card, ringing")
    await play(live, 14)
    await expect(page.locator(".call-card[data-status=in_progress]")).to_have_count(1)
    await walk.check("live call card, in progress")
    await play(live, 60)
    await expect(page.locator(".call-card[data-status=completed]")).to_have_count(1, timeout=10_000)
    await walk.check("call card, completed")

    allowed = role != "member"
    await walk.visit("campaigns", "/campaigns")
    if allowed:
        form = page.get_by_test_id("campaign-form")
        await form.locator("input[name=name]").fill(f"Axe {role}")
        await form.locator("input[name=q]").fill("Axe")
        await form.locator("button[type=submit]").click()
        await expect(page.get_by_test_id("campaign-state")).to_be_visible()
        await walk.check("campaign page, draft with preview")
        await walk.visit("campaigns list with a campaign", "/campaigns")
    await walk.visit("usage", "/usage", 200 if allowed else 403)
    await walk.visit("calling rules", "/calling-rules", 200 if allowed else 403)
    await walk.visit("account", "/account")
    if role == "admin":  # each section of the settings, as its tabs name them
        await walk.visit("settings", "/settings")
        sections = await page.get_by_test_id("settings-sections").locator("a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        assert len(sections) >= 6, sections
        for path in sections:
            await walk.visit(f"settings {path}", path)
            if await page.locator("#webhooks[aria-busy]").count():  # the webhooks section loads itself
                await expect(page.locator("#webhooks[aria-busy]")).to_have_count(0)
                await expect(page.locator("#webhooks form").first).to_be_attached()  # folded in <details>
                await walk.check(f"settings {path}, webhooks loaded")
    else:
        await walk.visit("settings, no permission (403)", "/settings", 403)
    # Whatever else the menu leads to (pages added since this walk was written are checked too).
    menu = await page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for path in menu:
        if path not in walk.visited and path != "/":
            await walk.visit(f"menu {path}", path)
    await walk.visit("error 404", "/no-such-page", 404)
    await walk.visit("a missing lead (404)", "/leads/no-such-lead", 404)

    live.clock.advance(15 * 24 * 3600)  # past the session's lifetime: the sign-in page says why
    await page.goto(f"{live.url}/leads/{history_lead}")
    await expect(page.get_by_test_id("login-note")).to_be_visible()
    await walk.check("sign-in, session ended")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["member", "manager", "admin"])
async def test_every_page_has_no_serious_accessibility_violation(browser: Browser, live: LiveServer,
                                                                 live_client: httpx.AsyncClient, cw: CallWorld,
                                                                 role: str, language: str) -> None:
    history_lead = await lead_with_a_transcript(live, live_client, cw)
    page, errors = await axe_page(browser, language)
    walk = Walk(page, live.url, role, language)
    try:
        await walk_signed_out(walk, live, getattr(cw.world, role))
        await walk_signed_in(walk, live, live_client, cw, history_lead, role)
    finally:
        await page.context.close()
    assert len(walk.checked) >= 15, walk.checked
    assert not walk.found, "serious or critical axe-core violations:\n" + walk.report()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def outline_of(page: Page, selector: str) -> str:
    """The focus ring drawn around what `selector` finds: its outline style and width."""
    return str(await page.locator(selector).evaluate(
        "el => { const s = getComputedStyle(el); return s.outlineStyle + ' ' + s.outlineWidth; }"))


async def test_the_call_flow_by_keyboard_alone(page: Page, live: LiveServer, live_client: httpx.AsyncClient,
                                               cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Teclado Solo", "+12025550100")
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    call = page.locator("#lead-panel button.call-button")
    await call.focus()
    await page.keyboard.press("Enter")
    # The picker opened: the keyboard is on the chosen agent, and its card shows it.
    chosen = page.locator(".picker input[type=radio]:checked")
    await expect(chosen).to_be_focused()
    await settled(page)  # htmx wires what it swapped in a moment after showing it
    assert await outline_of(page, ".agent:has(input:focus)") == "solid 3px"
    # Esc closes the picker (as Back does), from the agents and from the call type alike.
    await page.keyboard.press("Escape")
    await expect(page.locator(".picker")).to_have_count(0)
    await expect(call).to_be_focused()
    await settled(page)
    await page.keyboard.press("Enter")
    await expect(chosen).to_be_focused()
    await settled(page)
    await page.locator(".picker select[name=call_type]").focus()
    await page.keyboard.press("Escape")
    await expect(page.locator(".picker")).to_have_count(0)
    await expect(call).to_be_focused()
    await settled(page)
    assert await outline_of(page, "#lead-panel button.call-button") == "solid 3px"

    # Tab reaches the agents (one stop, on the chosen one), arrows change it, Enter places the call.
    await page.keyboard.press("Enter")
    await expect(chosen).to_be_focused()
    await settled(page)
    await page.keyboard.press("Shift+Tab")
    await expect(chosen).not_to_be_focused()
    await page.keyboard.press("Tab")
    await expect(chosen).to_be_focused()
    await page.keyboard.press("ArrowDown")
    second = page.locator(".picker input[type=radio]").nth(1)
    await expect(second).to_be_checked()
    await expect(second).to_be_focused()
    agent_name = await page.locator(".picker .agent").nth(1).locator(".agent-name").inner_text()
    await page.keyboard.press("Enter")
    card = page.locator(".call-card")
    await expect(card).to_have_attribute("data-status", "ringing")
    await expect(card).to_be_focused()
    await expect(card.locator(".call-meta")).to_contain_text(agent_name)
    assert await outline_of(page, ".call-card") == "solid 3px"

    # The call ends: its transcript, which scrolls on its own, is reached by Tab and scrolled by the keyboard.
    await play(live, 80)
    await expect(card).to_have_attribute("data-status", "completed", timeout=10_000)
    transcript = card.get_by_test_id("transcript")
    assert await transcript.evaluate("el => el.scrollHeight > el.clientHeight"), "a transcript long enough to scroll"
    for _ in range(30):
        if await transcript.evaluate("el => el === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await expect(transcript).to_be_focused()
    assert await outline_of(page, ".transcript") == "solid 3px"
    await page.keyboard.press("End")  # Chromium scrolls by keyboard smoothly: wait for it to get there
    await page.wait_for_function("el => el.scrollTop > 0 && el === document.activeElement",
                                 arg=await transcript.element_handle())
