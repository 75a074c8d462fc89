"""A session that ends (expired, or ended from elsewhere) sends the browser to sign in with the reason said,
and back to the page it was on afterwards; only paths of this site are followed (no open redirect)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import browser_session, open_lead, settled, sign_in
from tests.factories import PASSWORD
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e

SESSION_ENDED_ES = "Tu sesión ha terminado"


async def _login_form(client: httpx.AsyncClient, path: str = "/login") -> tuple[str, str]:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return csrf.group(1), page.text.split('action="/login"', 1)[1]  # the sign-in form (the language form has a next)


async def test_only_paths_of_this_site_are_followed_after_signing_in(live: LiveServer, cw: CallWorld) -> None:
    lead = f"/leads/{cw.world.lead_ids[0]}"
    # Each person signs in at most ten times a minute: the cases are shared among three.
    refused = ["//evil.example", "https://evil.example", "https://evil.example/leads", "/\\evil.example",
               "javascript:alert(1)", "evil.example", "/leads x"]
    for target in ["/\t/evil.example", "/\n/evil.example"]:  # a browser drops tabs and newlines: //evil.example
        async with httpx.AsyncClient(base_url=live.url) as client:
            csrf, _form = await _login_form(client)
            refused_input = await client.get("/login", params={"next": target})
            assert refused_input.status_code == 422, "the input check refuses control characters outright"
            signed_in = await client.post("/login", data={"email": cw.world.manager.email, "password": PASSWORD,
                                                          "csrf_token": csrf, "next": target})
            assert signed_in.status_code == 422 or signed_in.headers["location"] == "/"
    for target in refused:
        async with httpx.AsyncClient(base_url=live.url) as client:
            csrf, form = await _login_form(client, f"/login?{httpx.QueryParams({'next': target})}")
            assert 'name="next"' not in form, f"{target!r} is not carried by the form"
            signed_in = await client.post("/login", data={"email": cw.world.member.email, "password": PASSWORD,
                                                          "csrf_token": csrf, "next": target})
            assert signed_in.status_code == 303
            assert signed_in.headers["location"] == "/", f"{target!r} must not be followed"
            # Signed in already: the sign-in page with a foreign `next` sends home too.
            again = await client.get("/login", params={"next": target})
            assert again.status_code == 303 and again.headers["location"] == "/"

    async with httpx.AsyncClient(base_url=live.url) as client:
        csrf, form = await _login_form(client, f"/login?next={lead}%3Fq%3Dx")
        assert f'name="next" value="{lead}?q=x"' in form
        wrong = await client.post("/login", data={"email": cw.world.admin.email, "password": "wrong",
                                                  "csrf_token": csrf, "next": f"{lead}?q=x"})
        assert wrong.status_code == 401 and f'name="next" value="{lead}?q=x"' in wrong.text, "kept on a retry"
        signed_in = await client.post("/login", data={"email": cw.world.admin.email, "password": PASSWORD,
                                                      "csrf_token": csrf, "next": f"{lead}?q=x"})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == f"{lead}?q=x"


async def test_a_stranger_is_sent_to_sign_in_with_the_page_to_come_back_to(live: LiveServer, cw: CallWorld) -> None:
    lead = f"/leads/{cw.world.lead_ids[0]}"
    async with httpx.AsyncClient(base_url=live.url) as stranger:
        page = await stranger.get(lead)
        assert page.status_code == 303 and page.headers["location"] == f"/login?next=%2Fleads%2F{cw.world.lead_ids[0]}"
        home = await stranger.get("/")
        assert home.headers["location"] == "/login", "home needs no `next`"
        fragment = await stranger.get(f"{lead}/history", headers={
            "HX-Request": "true", "HX-Current-URL": f"{live.url}{lead}"})
        # htmx: the whole page goes to sign in (no sign-in form pasted into a fragment), back to the page shown.
        assert fragment.status_code == 204 and fragment.text == ""
        assert fragment.headers["HX-Redirect"] == f"/login?next=%2Fleads%2F{cw.world.lead_ids[0]}"
        foreign = await stranger.get(f"{lead}/history", headers={
            "HX-Request": "true", "HX-Current-URL": "https://evil.example//evil.example/x"})
        assert foreign.headers["HX-Redirect"] == "/login"
        login = await stranger.get("/login")
        assert SESSION_ENDED_ES not in login.text, "a stranger's session did not end: nothing to explain"


async def test_an_ended_session_says_why_and_comes_back_to_the_lead(live: LiveServer, live_client: httpx.AsyncClient,
                                                                    cw: CallWorld) -> None:
    lead = f"/leads/{cw.world.lead_ids[0]}"
    member = await browser_session(live, cw.world.member)
    try:
        assert (await member.get(lead)).status_code == 200
        ended = await live_client.delete("/api/me/sessions", headers=cw.world.member.headers)  # "sign out everywhere"
        assert ended.status_code == 204
        fragment = await member.post(f"{lead}/edit", data={"name": "Not saved"},
                                     headers={"HX-Current-URL": f"{live.url}{lead}"})
        assert fragment.status_code == 204
        assert fragment.headers["HX-Redirect"] == f"/login?next=%2Fleads%2F{cw.world.lead_ids[0]}"
        login = await member.get(fragment.headers["HX-Redirect"], headers={"HX-Request": ""})
        assert SESSION_ENDED_ES in login.text
        assert (await member.get("/login", headers={"HX-Request": ""})).text.count(SESSION_ENDED_ES) == 0, "said once"
    finally:
        await member.aclose()
    stored = await live_client.get(f"/api/leads/{cw.world.lead_ids[0]}", headers=cw.world.member.headers)
    assert stored.json()["name"] != "Not saved"


async def test_a_seller_whose_session_expired_signs_in_again_and_is_back_on_the_lead(
        page: Page, live: LiveServer, cw: CallWorld) -> None:
    lead_id = cw.world.lead_ids[0]
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    assert page.url.endswith(f"/leads/{lead_id}")
    live.clock.advance(15 * 24 * 3600)  # past the session's lifetime (14 days)
    # An htmx request (the lead's history, asked again) meets the ended session: the whole page goes to sign in.
    await page.locator("body").dispatch_event("leadcall:history")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fleads%2F"))
    await expect(page.get_by_test_id("login-note")).to_contain_text(SESSION_ENDED_ES)
    assert await page.locator(".lead-panel").count() == 0, "no lead panel shown around a sign-in form"
    await page.get_by_label("Email").fill(cw.world.member.email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form[action='/login'] button[type=submit]").click()
    await expect(page.locator(f'.lead-panel[data-lead-id="{lead_id}"]')).to_be_visible()
    assert page.url == f"{live.url}/leads/{lead_id}"
    await settled(page)
