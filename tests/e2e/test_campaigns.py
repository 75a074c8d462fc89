"""A campaign in a real browser: created on the campaigns page's one form, previewed, started, its progress
moving live (SSE campaign.updated) as the simulator's calls end, paused, and its results downloaded."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from leadcall.campaigns.dispatcher import CampaignDispatcher
from tests.e2e.conftest import add_lead, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_create_preview_start_watch_progress_pause_and_export(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    tag = cw.world.tenant_id[:6]
    leads = [await add_lead(live_client, cw, f"Camp {tag} {i}", f"+120255504{i:02d}") for i in range(8)]
    await add_lead(live_client, cw, f"Camp {tag} nophone", None)
    await sign_in(page, live, cw.world.manager)
    await page.get_by_role("link", name="Campañas").click()
    await expect(page.get_by_test_id("no-campaigns")).to_be_visible()
    form = page.get_by_test_id("campaign-form")
    await form.get_by_label("Nombre", exact=True).fill("Lista de diciembre")
    await form.get_by_label("Buscar (nombre, empresa, teléfono)").fill(f"Camp {tag}")
    await form.get_by_label("Llamadas simultáneas como máximo").fill("2")
    await form.get_by_role("button", name="Crear borrador").click()
    await expect(page.get_by_test_id("campaign-state")).to_have_text("Borrador")
    # The preview says who will be called and who is skipped, before anything is dialled.
    await expect(page.get_by_test_id("preview-text")).to_have_text(
        "Se llamará a 8 de 9 leads; 1 se omiten:")
    await expect(page.get_by_test_id("campaign-preview")).to_contain_text("sin teléfono: 1")
    await page.screenshot(path=shot("campaign-preview-es"))
    await settled(page)
    await page.get_by_test_id("campaign-start").click()
    await expect(page.get_by_test_id("campaign-state")).to_have_text("En marcha")
    await settled(page)
    dispatcher: CampaignDispatcher = live.app.state.dispatcher
    await dispatcher.dispatch()
    await expect(page.get_by_test_id("count-live")).to_have_text("2")
    campaign_id = page.url.rsplit("/", 1)[-1]
    for _ in range(20):  # the calls end; the page hears of it and the next leads are dialled
        await play(live, 6)
        read = (await live_client.get(f"/api/campaigns/{campaign_id}", headers=cw.world.member.headers)).json()
        if read["counts"]["done"]:
            break
    assert read["state"] == "running" and read["counts"]["pending"], read["counts"]
    await expect(page.get_by_test_id("count-done")).not_to_have_text("0")
    await page.screenshot(path=shot("campaign-running-es"))
    await settled(page)
    await page.get_by_test_id("campaign-pause").click()
    await expect(page.get_by_test_id("campaign-state")).to_have_text("En pausa")
    calls_at_pause = sum([len((await live_client.get(f"/api/leads/{lead}/calls", headers=cw.world.member.headers))
                               .json()["items"]) for lead in leads])
    await play(live, 60)
    await dispatcher.dispatch()
    calls_after = sum([len((await live_client.get(f"/api/leads/{lead}/calls", headers=cw.world.member.headers))
                            .json()["items"]) for lead in leads])
    assert calls_after == calls_at_pause, "a paused campaign dials nobody"
    async with page.expect_download() as download_info:
        await page.get_by_test_id("campaign-export").click()
    download = await download_info.value
    saved = Path(await download.path())
    rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread(saved.read_text, encoding="utf-8"))))
    assert {r["leadId"] for r in rows} >= set(leads) and any(r["state"] == "done" for r in rows)
