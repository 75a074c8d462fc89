"""Browser tests: Debian's Chromium driven by Playwright (async, in the tests' event loop), against the
whole app served over HTTP with the simulator mounted (tests.live). Time is simulated: tests move it
with `play`, never sleep for a call to progress."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.factories import PASSWORD, Actor
from tests.live import CallWorld, LiveServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


async def new_page(browser: Browser, width: int = 1280, height: int = 800) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="es-ES")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # htmx reports its own failures (a swap with no target, a bad response) on the console.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith(
        "Failed to load resource") else None)  # Chromium's note of an HTTP error status a test asked for
    return page, errors


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    page, errors = await new_page(browser)
    yield page
    await page.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def sign_in(page: Page, live: LiveServer, actor: Actor) -> None:
    await page.goto(f"{live.url}/login")
    await page.get_by_label("Email").fill(actor.email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form[action='/login'] button[type=submit]").click()
    await page.wait_for_selector("tr.lead-row")


async def add_lead(client: httpx.AsyncClient, cw: CallWorld, name: str, phone: str | None) -> str:
    r = await client.post("/api/leads", json={"name": name, "company": "Acme", "phone": phone},
                          headers=cw.world.member.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def settled(page: Page) -> None:
    """Waits until htmx has wired what it last swapped in. It shows new content at once but processes it
    (its buttons, its listeners for live news) when it settles, a moment later: news that arrives before
    then never reaches it, so a test that makes news (a call placed through the API) waits for this first."""
    await expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


async def open_lead(page: Page, lead_id: str) -> None:
    await page.locator(f'tr[data-lead-id="{lead_id}"]').click()
    await expect(page.locator(f'.lead-panel[data-lead-id="{lead_id}"]')).to_be_visible()
    await settled(page)


def shot(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


async def browser_session(live: LiveServer, actor: Actor) -> httpx.AsyncClient:
    """A client signed in through the login form, sending the CSRF header as htmx does (no browser)."""
    client = httpx.AsyncClient(base_url=live.url, timeout=30)
    page = await client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    signed_in = await client.post("/login", data={"email": actor.email, "password": PASSWORD,
                                                  "csrf_token": csrf.group(1)})
    assert signed_in.status_code == 303, signed_in.text
    home = await client.get("/")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
    assert token is not None
    client.headers.update({"X-CSRF-Token": token.group(1), "HX-Request": "true"})
    return client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes the browser is a `browser` test (`./dev test` runs those in its SQLite pass only)."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
