"""A seller's day (/today): their callbacks due today and the overdue ones, in their time and the lead's, one
click from the call; the leads they called today; their recent results. Only the viewer's own, within their
tenant: a colleague's callbacks, another tenant's calls and tomorrow's callbacks stay out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import add_lead, browser_session, new_page, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, finish_jobs, make_call_world, play

pytestmark = pytest.mark.e2e


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), UTC)


async def _call(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld, lead_id: str) -> str:
    placed = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 120)
    await finish_jobs(live)
    return str(placed.json()["callLog"]["id"])


async def _callback(client: httpx.AsyncClient, headers: dict[str, str], lead_id: str, at: datetime,
                    note: str | None = None) -> str:
    made = await client.post(f"/api/leads/{lead_id}/callbacks", json={"at": at.isoformat(), "note": note},
                             headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _a_day(live: LiveServer, client: httpx.AsyncClient, cw: CallWorld) -> dict[str, str]:
    """Yesterday two leads were called and one asked to be called back at 13:00 New York; today (10:00 New
    York, 15:00 UTC) a third lead is called, a callback waits for this afternoon and one for tomorrow."""
    today = datetime.fromtimestamp(live.clock.now(), UTC) + timedelta(days=2)
    live.clock.set(_at(today - timedelta(days=1), 15).timestamp())
    ids = {"overdue": await add_lead(client, cw, "Beto Atrasado", "+12025550101"),
           "later": await add_lead(client, cw, "Carla Tarde", "+12025550103"),
           "tomorrow": await add_lead(client, cw, "Dani Mañana", "+12025550104"),
           "today": await add_lead(client, cw, "Ana Hoy", "+12025550100"),
           "colleague": await add_lead(client, cw, "Eva Colega", "+12025550105")}
    ids["yesterday_call"] = await _call(live, client, cw, ids["overdue"])
    await _call(live, client, cw, ids["later"])
    ids["overdue_cb"] = await _callback(client, cw.world.member.headers, ids["overdue"],
                                        _at(today - timedelta(days=1), 18), note="Quiere hablar con su socio")
    live.clock.set(_at(today, 15).timestamp())
    ids["later_cb"] = await _callback(client, cw.world.member.headers, ids["later"], _at(today, 20))
    await _callback(client, cw.world.member.headers, ids["tomorrow"], _at(today + timedelta(days=1), 16))
    await _callback(client, cw.world.manager.headers, ids["colleague"], _at(today, 19))  # the manager's
    ids["today_call"] = await _call(live, client, cw, ids["today"])
    await finish_jobs(live)
    return ids


async def test_a_seller_sees_their_day_and_calls_back_in_one_click(page: Page, live: LiveServer,
                                                                   live_client: httpx.AsyncClient,
                                                                   cw: CallWorld) -> None:
    ids = await _a_day(live, live_client, cw)
    await sign_in(page, live, cw.world.member)
    await page.get_by_role("navigation").get_by_role("link", name="Mi día").click()
    await expect(page).to_have_url(f"{live.url}/today")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Mi día")

    callbacks = page.get_by_test_id("day-callback")
    await expect(callbacks).to_have_count(2)  # not tomorrow's, not the manager's
    overdue = callbacks.nth(0)
    await expect(overdue).to_contain_text("Beto Atrasado")
    await expect(overdue.get_by_test_id("overdue")).to_have_text("Atrasada")
    await expect(overdue.get_by_test_id("lead-time")).to_contain_text("13:00 (hora del lead, America/New_York)")
    await expect(overdue.get_by_test_id("viewer-time")).to_contain_text("18:00")  # the browser's zone is UTC
    await expect(overdue).to_contain_text("Quiere hablar con su socio")
    await expect(page.get_by_test_id("overdue-count")).to_have_text("1 atrasada")
    later = callbacks.nth(1)
    await expect(later).to_contain_text("Carla Tarde")
    await expect(later.get_by_test_id("overdue")).to_have_count(0)
    await expect(later.get_by_test_id("lead-time")).to_contain_text("15:00 (hora del lead, America/New_York)")

    called = page.get_by_test_id("day-called-lead")
    await expect(called).to_have_count(1)  # yesterday's calls are not today's
    await expect(called.first).to_contain_text("Ana Hoy")
    await expect(called.first).to_contain_text("1 llamada hoy")
    await expect(called.first).to_contain_text("Interesado")
    results = page.get_by_test_id("day-result")
    await expect(results).to_have_count(3)  # today's and yesterday's ended calls, newest first
    await expect(results.first).to_contain_text("Ana Hoy")
    await page.screenshot(path=shot("my-day"), full_page=True)

    # A row opens the lead.
    await called.first.get_by_role("link", name="Ana Hoy").click()
    await expect(page.locator(f'.lead-panel[data-lead-id="{ids["today"]}"]')).to_be_visible()
    await page.go_back()
    await expect(page).to_have_url(f"{live.url}/today")

    # The overdue callback, called in one click: the lead opens with the call live.
    await settled(page)
    await page.get_by_test_id("day-callback").nth(0).get_by_role("button", name="Llamar a Beto Atrasado").click()
    await expect(page).to_have_url(f"{live.url}/leads/{ids['overdue']}")
    await expect(page.locator(".call-card").get_by_test_id("call-status")).to_have_text(re.compile("Iniciando|Sonando"))
    await play(live, 120)
    await finish_jobs(live)
    await page.goto(f"{live.url}/today")
    await expect(page.get_by_test_id("day-callback")).to_have_count(1)
    await expect(page.get_by_test_id("day-called-lead")).to_have_count(2)


async def test_my_day_at_phone_width_and_in_english(browser: Browser, live: LiveServer,
                                                    live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    await _a_day(live, live_client, cw)
    page, errors = await new_page(browser, 390, 844)
    try:
        await sign_in(page, live, cw.world.member)
        await page.goto(f"{live.url}/today")
        await expect(page.get_by_test_id("day-callback")).to_have_count(2)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
        await page.screenshot(path=shot("my-day-phone"), full_page=True)
        await page.get_by_role("button", name="English").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("My day")
        await expect(page.get_by_test_id("overdue-count")).to_have_text("1 overdue")
        await expect(page.get_by_test_id("day-called-lead").first).to_contain_text("1 call today")
    finally:
        await page.context.close()
    assert errors == []


async def test_my_day_shows_only_the_viewers_own_within_their_tenant(live: LiveServer,
                                                                     live_client: httpx.AsyncClient,
                                                                     cw: CallWorld) -> None:
    ids = await _a_day(live, live_client, cw)
    other = await make_call_world(live, live_client)
    foreign = await add_lead(live_client, other, "Fuera Ajeno", "+12025550100")
    await _call(live, live_client, other, foreign)
    await _callback(live_client, other.world.member.headers, foreign,
                    datetime.fromtimestamp(live.clock.now(), UTC) + timedelta(hours=2))
    member = await browser_session(live, cw.world.member)
    manager = await browser_session(live, cw.world.manager)
    try:
        mine = await member.get("/today", headers={"HX-Request": ""})
        assert mine.status_code == 200
        assert "Beto Atrasado" in mine.text and "Ana Hoy" in mine.text
        assert "Fuera Ajeno" not in mine.text, "another tenant's lead"
        assert "Eva Colega" not in mine.text, "a colleague's callback is theirs"
        assert "Dani Mañana" not in mine.text, "tomorrow's callback"
        theirs = await manager.get("/today", headers={"HX-Request": ""})
        assert "Eva Colega" in theirs.text, "the manager's own callback"
        assert "Beto Atrasado" not in theirs.text and "Ana Hoy" not in theirs.text, "the member's day is theirs"
        foreign_member = await browser_session(live, other.world.member)
        try:
            theirs_too = await foreign_member.get("/today", headers={"HX-Request": ""})
            assert "Fuera Ajeno" in theirs_too.text and "Beto Atrasado" not in theirs_too.text
            # Another tenant's callback cannot be called from here either.
            refused = await foreign_member.post(f"/callbacks/{ids['overdue_cb']}/call")
            assert refused.status_code == 404
        finally:
            await foreign_member.aclose()
        bad = await member.get("/today", params={"q": "\x00"})
        assert bad.status_code == 422, "the input check refuses a NUL in any parameter"
    finally:
        await member.aclose()
        await manager.aclose()
    async with httpx.AsyncClient(base_url=live.url) as stranger:
        away = await stranger.get("/today")
        assert away.status_code == 303 and away.headers["location"] == "/login?next=%2Ftoday"
