"""The usage page: the period is chosen on the page and carried by the address; the chart's axes say values and units."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi.exceptions import RequestValidationError
from playwright.async_api import Browser, expect

from leadcall.web.usage import chart, period_range
from tests.e2e.conftest import add_lead, browser_session, new_page, shot, sign_in
from tests.live import CallWorld, LiveServer, make_call_world, play

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(("period", "from_", "to", "expected"), [
    (None, None, None, ("last_30_days", date(2026, 2, 14), TODAY)),
    ("this_month", None, None, ("this_month", date(2026, 3, 1), TODAY)),
    ("last_month", None, None, ("last_month", date(2026, 2, 1), date(2026, 2, 28))),
    ("custom", "2025-12-30", "2026-01-02", ("custom", date(2025, 12, 30), date(2026, 1, 2))),
    (None, "2026-03-01", "2026-03-01", ("custom", date(2026, 3, 1), date(2026, 3, 1))),
])
def test_periods(period: str | None, from_: str | None, to: str | None, expected: tuple[str, date, date]) -> None:
    assert period_range(period, from_, to, TODAY) == expected


def test_last_month_in_january_is_last_december() -> None:
    assert period_range("last_month", None, None, date(2026, 1, 10))[1:] == (date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize(("period", "from_", "to", "field", "code"), [
    ("weekly", None, None, "period", "enum"),
    ("custom", "2026-03-01", None, "to", "missing"),
    ("custom", "yesterday", "2026-03-01", "from", "date"),
    ("custom", "2026-03-02", "2026-03-01", "to", "date_order"),
    ("custom", "2024-01-01", "2026-03-01", "to", "range_too_long"),
])
def test_bad_periods_name_their_field(period: str, from_: str | None, to: str | None, field: str, code: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        period_range(period, from_, to, TODAY)
    assert [(e["loc"][-1], e["type"]) for e in caught.value.errors()][-1] == (field, code)


@pytest.mark.e2e
async def test_the_usage_page_follows_its_period_controls(browser: Browser, live: LiveServer,
                                                          live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Usage Lead", "+12025550100")
    placed = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 90)
    today = datetime.fromtimestamp(live.clock.now(), UTC).date()
    for width, height in ((1440, 900), (390, 844)):
        page, errors = await new_page(browser, width, height)
        try:
            await sign_in(page, live, cw.world.manager)
            await page.get_by_role("link", name="Consumo").click()
            chart = page.get_by_test_id("usage-chart")
            await expect(chart).to_be_visible()
            await expect(page.get_by_test_id("usage-calls")).to_have_text("1")
            periods = page.get_by_test_id("usage-periods")
            await expect(periods.locator("[aria-current=page]")).to_have_text("Últimos 30 días")
            # The cost axis says its unit and runs from zero to a round top; the days axis names days.
            await expect(page.get_by_test_id("usage-y-title")).to_have_text("Coste por día (US$)")
            ticks = await page.get_by_test_id("usage-y-tick").all_text_contents()
            assert ticks[0] == "0" or ticks[0].startswith("0,") and len(ticks) == 5, ticks
            assert float(ticks[-1].replace(",", ".")) > 0
            x_ticks = await page.get_by_test_id("usage-x-tick").all_text_contents()
            assert 2 <= len(x_ticks) <= 7 and all(any(c.isdigit() for c in x) for x in x_ticks), x_ticks
            await page.screenshot(path=shot(f"usage-{width}"), full_page=width == 390)

            await periods.get_by_role("link", name="Este mes").click()
            await expect(page).to_have_url(f"{live.url}/usage?period=this_month")
            await expect(periods.locator("[aria-current=page]")).to_have_text("Este mes")
            assert await chart.locator("rect").count() == today.day
            await periods.get_by_label("Desde").fill("2020-01-01")
            await periods.get_by_label("Hasta").fill("2020-01-10")
            await periods.get_by_role("button", name="Ver estas fechas").click()
            await expect(page).to_have_url(f"{live.url}/usage?period=custom&from=2020-01-01&to=2020-01-10")
            await expect(page.get_by_test_id("usage-range")).to_have_text("del 1 de enero de 2020 al 10 de enero de 2020")
            await expect(page.get_by_test_id("usage-calls")).to_have_text("0")
            assert await chart.locator("rect").count() == 10
            await page.go_back()
            await expect(page).to_have_url(f"{live.url}/usage?period=this_month")
            await expect(page.get_by_test_id("usage-calls")).to_have_text("1")
            assert errors == []
        finally:
            await page.context.close()


@pytest.mark.e2e
async def test_usage_periods_are_checked_and_scoped(live: LiveServer, live_client: httpx.AsyncClient,
                                                    cw: CallWorld) -> None:
    other = await make_call_world(live, live_client)
    lead_id = await add_lead(live_client, other, "Their Lead", "+12025550103")
    placed = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": other.agent_ids[0]},
                                    headers=other.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 90)
    manager = await browser_session(live, cw.world.manager)
    member = await browser_session(live, cw.world.member)
    try:
        del manager.headers["HX-Request"]
        for query in ({"period": "last_month"}, {"period": "this_month"}):
            shown = await manager.get("/usage", params=query)
            assert shown.status_code == 200 and 'data-testid="usage-calls">0<' in shown.text, "not another tenant's"
        for query, said in (({"period": "weekly"}, "Periodo"), ({"period": "custom", "from": "2026-02-02"}, "Hasta"),
                            ({"from": "2026-03-02", "to": "2026-03-01"}, "es anterior a la fecha de inicio"),
                            ({"from": "ayer", "to": "2026-03-01"}, "no es una fecha")):
            refused = await manager.get("/usage", params=query)
            assert refused.status_code == 422 and said in refused.text, (query, refused.text[-600:])
        assert (await member.get("/usage")).status_code == 403
    finally:
        await manager.aclose()
        await member.aclose()


def test_the_cost_axis_climbs_in_round_steps_to_the_busiest_day() -> None:
    class Line:
        def __init__(self, key: str, cost: float) -> None:
            self.key, self.cost = key, cost

    for busiest, steps in ((0.0525, [0, 0.02, 0.04, 0.06, 0.08]), (0.0, [0, 0.25, 0.5, 0.75, 1]),
                           (180.0, [0, 50, 100, 150, 200])):
        drawn = chart([Line("2026-03-15", busiest)], date(2026, 3, 1), TODAY, "es", "EUR")
        assert [t["value"] for t in drawn.y_ticks] == pytest.approx(steps)
        assert drawn.unit == "€" and len(drawn.bars) == 15
        assert drawn.bars[-1]["h"] == pytest.approx(busiest / steps[-1] * 160, abs=0.1)
