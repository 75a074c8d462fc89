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
from tests.e2e.conftest import add_lead, browser_session, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, make_call_world, play

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


async def test_a_campaign_from_a_csv_file_on_the_create_form(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, tmp_path: Path) -> None:
    tag = cw.world.tenant_id[:6]
    bad = tmp_path / "bad.csv"
    good = tmp_path / "good.csv"
    rows = f"crm-{tag}-1,CSV {tag} Uno,+12025550130\ncrm-{tag}-2,CSV {tag} Dos,+12025550131\n"
    await asyncio.to_thread(bad.write_text, f"externalId,name,phone\n{rows}crm-{tag}-3,CSV {tag} Tres,12345\n")
    await asyncio.to_thread(good.write_text, f"externalId,name,phone\n{rows}")
    await sign_in(page, live, cw.world.manager)
    await page.goto(f"{live.url}/campaigns")
    form = page.get_by_test_id("campaign-form")
    await form.get_by_label("Nombre", exact=True).fill("Desde el CRM")
    await expect(form.get_by_label("Archivo CSV", exact=True)).to_be_hidden()
    await form.get_by_label("Un archivo CSV (se importa)").check()
    await expect(form.get_by_label("Buscar (nombre, empresa, teléfono)")).to_be_hidden()
    await form.get_by_label("Archivo CSV", exact=True).set_input_files(str(bad))
    await form.get_by_role("button", name="Crear borrador").click()
    rejected = page.get_by_test_id("campaign-csv-rejected")
    await expect(rejected).to_contain_text("1 fila tiene errores")
    await expect(rejected).to_contain_text("Fila 4")
    await page.screenshot(path=shot("campaign-csv-rejected-es"))
    found = (await live_client.get("/api/leads", params={"q": f"CSV {tag}"}, headers=cw.world.member.headers)).json()
    assert found["items"] == [], "a file with a bad row imports nothing"
    await form.get_by_label("Archivo CSV", exact=True).set_input_files(str(good))
    await form.get_by_role("button", name="Crear borrador").click()
    await expect(page.get_by_test_id("campaign-state")).to_have_text("Borrador")
    await expect(page.get_by_test_id("preview-text")).to_have_text("Se llamará a 2 de 2 leads; 0 se omiten:")
    campaign_id = page.url.rsplit("/", 1)[-1]
    read = (await live_client.get(f"/api/campaigns/{campaign_id}", headers=cw.world.member.headers)).json()
    found = (await live_client.get("/api/leads", params={"q": f"CSV {tag}"}, headers=cw.world.member.headers)).json()
    assert sorted(read["leads"]["ids"]) == sorted(lead["id"] for lead in found["items"]) and len(found["items"]) == 2


async def test_the_create_forms_csv_source_checks_role_and_input(live: LiveServer, cw: CallWorld) -> None:
    form = {"name": "Por archivo", "agent_ids": cw.agent_ids[0], "source": "csv"}
    files = {"file": ("leads.csv", b"name,phone\nForm Role Lead,+12025550132\n", "text/csv")}
    member = await browser_session(live, cw.world.member)
    manager = await browser_session(live, cw.world.manager)
    try:
        r = await member.post("/campaigns", data=form, files=files)
        assert r.status_code == 403, r.text
        r = await manager.post("/campaigns", data=form)
        assert r.status_code == 422 and "CSV" in r.text, r.text
        r = await manager.post("/campaigns", data={**form, "agent_ids": "agent_nobody"}, files=files)
        assert r.status_code == 422, r.text
        listed = (await manager.get("/api/campaigns")).json()
        assert listed["items"] == [], "nothing was written"
        r = await manager.post("/campaigns", data=form, files=files)
        assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/campaigns/"), r.text
    finally:
        await member.aclose()
        await manager.aclose()


async def test_a_leads_timeline_and_cancel_with_or_without_hanging_up(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    long_call = "+12025550108"
    leads = [await add_lead(live_client, cw, f"Timeline lead {i}", long_call) for i in range(2)]
    ids = []
    for name in ("Keep calls", "Hang up"):
        r = await live_client.post("/api/campaigns", headers=cw.world.manager.headers, json={
            "name": name, "agentIds": [cw.agent_ids[0]], "leads": {"ids": leads}, "maxLiveCalls": 2,
            "callsPerSecond": 20})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    member = await browser_session(live, cw.world.member)
    manager = await browser_session(live, cw.world.manager)
    other = await make_call_world(live, live_client)
    intruder = await browser_session(live, other.world.admin)
    dispatcher: CampaignDispatcher = live.app.state.dispatcher
    try:
        assert (await manager.post(f"/campaigns/{ids[0]}/start")).status_code == 200
        await dispatcher.dispatch()
        r = await member.get(f"/campaigns/{ids[0]}/leads/{leads[0]}")
        assert r.status_code == 200 and "Timeline lead 0" in r.text and 'data-attempt="1"' in r.text, r.text
        for who, path in ((intruder, f"/campaigns/{ids[0]}/leads/{leads[0]}"),
                          (member, f"/campaigns/{ids[0]}/leads/{other.world.lead_ids[0]}"),
                          (member, f"/campaigns/{ids[0]}/leads/not-a-lead"),
                          (member, f"/campaigns/{ids[1]}/leads/{leads[0]}")):  # a draft calls nobody yet
            assert (await who.get(path)).status_code == 404, path
        assert (await member.post(f"/campaigns/{ids[0]}/cancel")).status_code == 403
        r = await manager.post(f"/campaigns/{ids[0]}/cancel")
        assert r.status_code == 200 and 'data-state="canceled"' in r.text, r.text
        calls = [c for lead in leads for c in (await live_client.get(
            f"/api/leads/{lead}/calls", headers=cw.world.member.headers)).json()["items"]]
        assert len(calls) == 2 and {c["status"] for c in calls} <= {"ringing", "in_progress"}, "live calls finish"
        for call in calls:  # end them, so the second campaign can dial both leads
            assert (await live_client.post(f"/api/calls/{call['id']}/cancel",
                                           headers=cw.world.manager.headers)).status_code == 200
        await play(live, 10)
        assert (await manager.post(f"/campaigns/{ids[1]}/start")).status_code == 200
        await dispatcher.dispatch()
        page = await manager.get(f"/campaigns/{ids[1]}/progress")
        assert 'data-testid="campaign-cancel-hang-up"' in page.text
        r = await manager.post(f"/campaigns/{ids[1]}/cancel", data={"hang_up": "1"})
        assert r.status_code == 200 and "se colgaron 2 llamadas" in r.text, r.text
        statuses = {c["status"] for lead in leads for c in (await live_client.get(
            f"/api/leads/{lead}/calls", headers=cw.world.member.headers)).json()["items"]}
        assert statuses == {"canceled"}
    finally:
        for client in (member, manager, intruder):
            await client.aclose()


async def test_the_create_form_sets_the_retry_policy_by_result(live: LiveServer, cw: CallWorld) -> None:
    manager = await browser_session(live, cw.world.manager)
    form = {"name": "Con reintentos", "agent_ids": cw.agent_ids[0], "source": "filter",
            "retry_no_answer_minutes": "30", "retry_no_answer_most": "4",
            "retry_busy_minutes": "5", "retry_busy_most": "2"}
    try:
        page = await manager.get("/campaigns")
        assert 'name="retry_no_answer_minutes" value="120"' in page.text, "the defaults are shown"
        r = await manager.post("/campaigns", data={**form, "retry_busy_minutes": "0.01"})
        assert r.status_code == 422, r.text
        assert (await manager.get("/api/campaigns")).json()["items"] == [], "nothing was written"
        r = await manager.post("/campaigns", data=form)
        assert r.status_code == 204, r.text
        campaign = (await manager.get(f"/api/{r.headers['HX-Redirect'].lstrip('/')}")).json()
        assert campaign["retry"]["no_answer"] == {"afterSeconds": 1800, "maxAttempts": 4}
        assert campaign["retry"]["busy"] == {"afterSeconds": 300, "maxAttempts": 2}
        assert campaign["retry"]["voicemail"] == {"afterSeconds": 86400, "maxAttempts": 2}, "left as it was"
    finally:
        await manager.aclose()
