"""Every page reads in one language: walked in Spanish and in English, no page shows a word of the product's
own texts (the gettext catalogs) that only the other language uses. Plain HTTP against the live app.

The words the people and the calls bring (names, companies, time zones, what was said on the call, the
agents' names) are data, not the product's texts: they are left out of the check."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from leadcall.web.i18n import LANGUAGES, read_catalog
from tests.e2e.conftest import add_lead, browser_session
from tests.live import CallWorld, LiveServer, finish_jobs, make_call_world, play

pytestmark = pytest.mark.e2e

WORD = re.compile(r"[^\W\d_]{2,}")
# The texts of a page a person reads: text between tags and the attributes that are read out or shown.
# Names of the API shown as they are typed: addresses (the webhook URL), event types (call.transcription.ready).
IDENTIFIER = re.compile(r"https?://\S+|\b[a-z_]+(?:\.[a-z_]+)+\b")
READ_ATTRIBUTES = re.compile(r'\b(?:title|aria-label|placeholder|alt|data-msg-[a-z]+)="([^"]*)"')


def catalog_words(language: str) -> set[str]:
    words: set[str] = set()
    for message in read_catalog(language):
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        for text in strings:
            words |= {w.lower() for w in WORD.findall(re.sub(r"{\w+}", " ", text))}
    return words


def page_words(body: str) -> set[str]:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    shown = READ_ATTRIBUTES.findall(body)
    text = re.sub(r"<[^>]+>", " ", body)
    text = IDENTIFIER.sub(" ", html.unescape(text))
    return {w.lower() for chunk in [text, *shown] for w in WORD.findall(html.unescape(chunk))}


# Fields whose codes are the tenant's own words: an agent's tags and specialty (its labels in ElevenLabs and
# leadcall), a lead's time zone ("America/New_York").
DATA_CODES = {"tags", "specialty", "timezone"}


def data_words(value: Any) -> set[str]:
    """Words of the people's and the calls' texts in an API answer (codes such as "completed" are not data)."""
    if isinstance(value, dict):
        return set().union(*(data_words(v) if k not in DATA_CODES else data_words(str(v).replace("_", " ") + " ")
                             for k, v in value.items()), set())
    if isinstance(value, list):
        return set().union(*(data_words(v) for v in value), set())
    if isinstance(value, str) and not re.fullmatch(r"[a-z_]+", value):
        return {w.lower() for w in WORD.findall(value)}
    return set()


SETTINGS_PAGES = tuple(f"/settings/{s}" for s in ("accounts", "agents", "team", "budgets", "calling", "integrations"))


async def walk(live: LiveServer, cw: CallWorld, client: httpx.AsyncClient, language: str) -> dict[str, set[str]]:
    """Each page a seller's admin opens, and the words it shows, in `language`."""
    lead_id = await add_lead(client, cw, "Lucía Ortega", "+12025550102")  # asks to be called back
    placed = await client.post(f"/api/leads/{lead_id}/call", json={"agentId": cw.agent_ids[0]},
                               headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    call_id = placed.json()["callLog"]["id"]
    await play(live, 120)
    await finish_jobs(live)
    admin = await browser_session(live, cw.world.admin)
    del admin.headers["HX-Request"]  # whole pages; the fragments below ask as htmx does
    switched = await admin.post("/lang", data={"lang": language, "next": "/"})
    assert switched.status_code == 303
    anonymous = httpx.AsyncClient(base_url=live.url, timeout=30, headers={"Accept-Language": language})
    pages = {}
    try:
        for path in ("/", f"/leads/{lead_id}", f"/leads/{lead_id}/history", f"/leads/{lead_id}/picker",
                     f"/leads/{lead_id}/callbacks", f"/calls/{call_id}/card", "/callbacks/due", *SETTINGS_PAGES,
                     "/settings/callbacks", "/settings/webhooks", "/calling-rules", "/usage", "/account", "/today",
                     "/no-such-page"):
            fragment = path not in ("/", *SETTINGS_PAGES, "/calling-rules", "/usage", "/account", "/today",
                                    "/no-such-page")
            answer = await admin.get(path, headers={"HX-Request": "true"} if fragment else {})
            assert answer.status_code == (404 if path == "/no-such-page" else 200), (path, answer.text[:300])
            pages[path] = page_words(answer.text)
        pages["/login"] = page_words((await anonymous.get("/login")).text)
        # The seller who placed the call: their day lists it (and the callback the lead asked for).
        seller = await browser_session(live, cw.world.member)
        try:
            del seller.headers["HX-Request"]
            assert (await seller.post("/lang", data={"lang": language, "next": "/"})).status_code == 303
            day = await seller.get("/today")
            assert day.status_code == 200 and 'data-testid="day-called-lead"' in day.text
            pages["/today (seller)"] = page_words(day.text)
        finally:
            await seller.aclose()
    finally:
        await admin.aclose()
        await anonymous.aclose()
    call = (await client.get(f"/api/calls/{call_id}", headers=cw.world.admin.headers)).json()
    lead = (await client.get(f"/api/leads/{lead_id}", headers=cw.world.admin.headers)).json()
    agents = (await client.get("/api/voice/agents/available", headers=cw.world.admin.headers)).json()
    users = (await client.get("/api/users", headers=cw.world.admin.headers)).json()
    callbacks = (await client.get("/api/callbacks", params={"leadId": lead_id}, headers=cw.world.admin.headers)).json()
    pages["data"] = data_words([call, lead, agents, users, callbacks])
    return pages


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_page_shows_the_products_texts_in_one_language(live: LiveServer, live_client: httpx.AsyncClient,
                                                                   language: str) -> None:
    cw = await make_call_world(live, live_client, language=language)  # the agents speak the page's language
    other = next(lang for lang in LANGUAGES if lang != language)
    foreign = catalog_words(other) - catalog_words(language)
    assert len(foreign) > 200 and {"cuenta", "account"} & foreign, "the word lists hold the catalogs' words"
    pages = await walk(live, cw, live_client, language)
    data = pages.pop("data")
    assert len(pages) == 22
    found = {path: sorted((words & foreign) - data) for path, words in pages.items()}
    assert not any(found.values()), f"{other} words on {language} pages: { {p: w for p, w in found.items() if w} }"
    assert all(words & (catalog_words(language) - catalog_words(other)) for words in pages.values()), (
        "each page shows words of its own language")
