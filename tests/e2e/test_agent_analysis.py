"""The settings page shows, per agent, whether leadcall's analysis is set up, and sets it up again or opts
the agent out, in Spanish and English."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from leadcall.voice import analysis
from tests.e2e.conftest import settled, shot, sign_in
from tests.live import CallWorld, LiveServer

pytestmark = pytest.mark.e2e


async def test_settings_show_and_change_each_agents_analysis(page: Page, live: LiveServer, cw: CallWorld) -> None:
    await sign_in(page, live, cw.world.admin)
    await page.goto(f"{live.url}/settings/agents")
    boxes = page.locator(".agent-analysis")
    await expect(boxes).to_have_count(len(cw.agent_ids))
    for index in range(len(cw.agent_ids)):
        await expect(boxes.nth(index)).to_contain_text("Análisis configurado")
    first = boxes.first
    ref_id = (await first.get_attribute("id") or "").removeprefix("analysis-")
    await first.get_by_role("button", name="Excluir del análisis").click()
    first = page.locator(f"#analysis-{ref_id}")
    await expect(first).to_have_attribute("data-state", "opted_out")
    await expect(first).to_contain_text("reglas de palabras clave")
    agent = next(a for a in cw.sim_account.agents.values()
                 if analysis.SALES_OUTCOME not in a.platform_settings["data_collection"])
    assert set(agent.platform_settings["data_collection"]) == {"sales_outcome", "callback_time"}
    await settled(page)
    await first.get_by_role("button", name="Volver a usar el análisis").click()
    await expect(page.locator(f"#analysis-{ref_id}")).to_have_attribute("data-state", "ready")

    # A key that may not write agents: the agent stays usable and says why its analysis is not set up.
    cw.sim_account.read_only = True
    del agent.platform_settings["data_collection"][analysis.NEXT_STEP]
    await page.get_by_role("button", name="English").click()
    box = page.locator(f"#analysis-{ref_id}")
    await box.get_by_role("button", name="Set up again").click()
    box = page.locator(f"#analysis-{ref_id}")
    await expect(box).to_have_attribute("data-state", "not_set_up")
    await expect(box).to_contain_text("Analysis not set up: ")
    await expect(box).to_contain_text("convai_write")
    await expect(page.get_by_test_id("settings-message")).to_contain_text("Analysis not set up")
    await page.screenshot(path=shot("settings-agent-analysis"), full_page=True)
