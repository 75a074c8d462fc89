"""The seller writes a note on the call while it is live (news of the call never wipes it) and after it;
the note is the call's (the API shows it) and the lead's history shows it."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import add_lead, browser_session, open_lead, settled, shot, sign_in
from tests.live import CallWorld, LiveServer, play

pytestmark = pytest.mark.e2e


async def test_a_note_written_while_the_call_is_live_is_kept_and_shown_in_the_history(
        page: Page, live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Nora Notas", "+12025550108")  # a long call
    await sign_in(page, live, cw.world.member)
    await open_lead(page, lead_id)
    await page.get_by_role("button", name="Llamar").click()
    await page.get_by_role("button", name="Confirmar y llamar").click()
    card = page.locator(".call-card")
    await expect(card.get_by_test_id("call-status")).to_have_text("Sonando")
    call_id = await card.get_attribute("data-call-id")
    await settled(page)

    notes = page.get_by_test_id("call-notes")
    field = notes.get_by_label("Notas")
    await field.fill("Pregunta por el plan anual")
    # News of the call arrives while the seller writes: the card moves on, the half-written note stays.
    await play(live, 20)
    await expect(card.get_by_test_id("call-status")).to_have_text("En curso")
    await expect(field).to_have_value("Pregunta por el plan anual")
    await field.fill("Pregunta por el plan anual; decide el jueves")
    await notes.get_by_role("button", name="Guardar la nota").click()
    await expect(notes.get_by_test_id("notes-saved")).to_have_text("Nota guardada.")
    await expect(page.locator(f'[data-history-call="{call_id}"]').get_by_test_id("history-notes")).to_contain_text(
        "decide el jueves")
    stored = await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)
    assert stored.json()["notes"] == "Pregunta por el plan anual; decide el jueves"
    assert stored.json()["status"] == "in_progress", "written while the call was live"
    await page.screenshot(path=shot("call-notes-live"))

    # After the call: the card shows the note where it can be changed; leaving the field saves it.
    await card.get_by_role("button", name="Colgar").click()
    await expect(card.get_by_test_id("call-status")).to_have_text("Cancelada")
    await expect(field).to_have_value("Pregunta por el plan anual; decide el jueves")
    await field.fill("Decide el jueves; enviar precios")
    await page.locator("#lead-title").click()  # the field is left
    await expect(notes.get_by_test_id("notes-saved")).to_have_text("Nota guardada.")
    await expect(page.locator(f'[data-history-call="{call_id}"]').get_by_test_id("history-notes")).to_contain_text(
        "enviar precios")
    # Opened again from the history, the call shows its note.
    await page.reload()
    await page.locator(f'[data-history-call="{call_id}"]').get_by_role("button", name="Ver").click()
    await expect(page.get_by_test_id("call-notes").get_by_label("Notas")).to_have_value(
        "Decide el jueves; enviar precios")


async def test_call_notes_refuse_too_long_a_note_and_other_tenants_calls(live: LiveServer,
                                                                         live_client: httpx.AsyncClient,
                                                                         cw: CallWorld) -> None:
    lead_id = await add_lead(live_client, cw, "Nico Largo", "+12025550100")
    placed = await live_client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    call_id = placed.json()["callLog"]["id"]
    member = await browser_session(live, cw.world.member)
    try:
        long = await member.post(f"/calls/{call_id}/notes", data={"notes": "x" * 10_001})
        assert long.status_code == 422 and long.headers["HX-Retarget"] == "#toast"
        assert "10000" in long.text or "10.000" in long.text, long.text
        kept = await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)
        assert kept.json()["notes"] is None, "nothing written"
        unknown = await member.post("/calls/no-such-call/notes", data={"notes": "hola"})
        assert unknown.status_code == 404
        saved = await member.post(f"/calls/{call_id}/notes", data={"notes": "  Llamar tras la demo  "})
        assert saved.status_code == 200 and "Nota guardada." in saved.text
        assert saved.headers["HX-Trigger"] == "leadcall:history"
        cleared = await member.post(f"/calls/{call_id}/notes", data={"notes": "   "})
        assert cleared.status_code == 200
        stored = await live_client.get(f"/api/calls/{call_id}", headers=cw.world.member.headers)
        assert stored.json()["notes"] is None, "an empty note clears it"
    finally:
        await member.aclose()
    await play(live, 60)
