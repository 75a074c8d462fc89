"""A realistic run's whole log output names no secret and no full phone number, and its lines carry their ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from leadcall.core.observability import JsonFormatter, configure_logging, redact
from leadcall.simulator.scenarios import BUSY, INTERESTED, REFUSED
from tests.calls.test_placing import new_lead, place
from tests.factories import PASSWORD
from tests.live import CallWorld, LiveServer, play

CSV_NUMBERS = ("+12025550171", "+34 612 34 56 78")
NATIONAL = "(202) 555-0172"  # a US number as a spreadsheet writes it: +12025550172 once read


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every log line of every library, at INFO (SQLAlchemy's statements and their parameters, httpx's
    requests) and DEBUG for leadcall, printed by the JSON formatter production uses."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "leadcall", "sqlalchemy.engine", "httpx")}
    root.addHandler(handler)
    for name, level in (("", logging.INFO), ("leadcall", logging.DEBUG), ("sqlalchemy.engine", logging.INFO),
                        ("httpx", logging.INFO)):
        logging.getLogger(name).setLevel(level)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def digits_of(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


async def test_a_full_run_logs_no_secret_and_no_full_number(live: LiveServer, live_client: httpx.AsyncClient,
                                                           cw: CallWorld, captured: io.StringIO) -> None:
    world = cw.world
    async with httpx.AsyncClient(base_url=live.url) as browser:  # a seller signs in with a password
        login = await browser.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        csrf, cookie = login.json()["csrfToken"], browser.cookies["leadcall_session"]
        assert (await browser.get("/api/me")).status_code == 200
        wrong = await browser.post("/api/auth/login", json={"email": world.member.email, "password": "Wr0ng-pass!"})
        assert wrong.status_code == 401
    # an admin connects a second account with its keys
    key, secret = f"sk_{'5' * 12}log{'a' * 30}", f"wsec_{'b' * 36}"
    sim_account = live.simulator.add_account(name="Second", api_key=key, webhook_secret=secret, webhook_url=None)
    live.simulator.seed_account(sim_account, language="en")
    r = await live_client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers, json={
        "name": "Second", "apiKey": key, "webhookSecret": secret, "baseUrl": f"{live.url}/sim",
        "twilioAccountSid": sim_account.twilio_account_sid, "twilioAuthToken": sim_account.twilio_auth_token,
        "twilioBaseUrl": f"{live.url}/sim"})
    assert r.status_code == 201, r.text
    wrong_key = await live_client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers,
                                       json={"name": "Bad", "apiKey": "sk_not_a_real_key_" + "c" * 20,
                                             "baseUrl": f"{live.url}/sim"})
    assert wrong_key.status_code == 201  # accepted; listing its agents fails and is logged
    # a manager imports leads from a spreadsheet
    rows = [f"Imported {i},{number}" for i, number in enumerate((*CSV_NUMBERS, NATIONAL))]
    imported = await live_client.post("/api/leads/import", headers=world.manager.headers, files={
        "file": ("leads.csv", "\n".join(["name,phone", *(f'"{n}","{p}"' for n, p in
                                                          (row.split(",") for row in rows))]).encode(), "text/csv")})
    assert imported.status_code == 200 and imported.json()["created"] == 3, imported.text
    # sellers place calls: one answered, one refused by the provider, one busy; webhooks and polls follow
    calls: list[dict[str, Any]] = []
    for number in (INTERESTED, REFUSED, BUSY):
        lead_id = await new_lead(live_client, cw, number)
        placed = await place(live_client, cw, lead_id, **{"X-Request-ID": f"click-{digits_of(number)[-4:]}"})
        assert placed.status_code == 200, placed.text
        calls.append(placed.json()["callLog"])
    await play(live, 120)
    ended = [(await live_client.get(f"/api/calls/{c['id']}", headers=world.member.headers)).json() for c in calls]
    assert [c["status"] for c in ended] == ["completed", "failed", "failed"], ended

    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) > 50  # the capture saw the run (SQL statements, httpx requests, our own lines)
    secrets = [PASSWORD, "Wr0ng-pass!", csrf, cookie, world.member.token, world.admin.token, world.manager.token,
               key, secret, cw.sim_account.api_key, cw.sim_account.webhook_secret, sim_account.twilio_auth_token,
               cw.sim_account.twilio_auth_token, "sk_not_a_real_key_" + "c" * 20]
    for value in secrets:
        assert value not in text, f"a secret in the logs: {value[:6]}…"
    for number in (INTERESTED, REFUSED, BUSY, *CSV_NUMBERS, "+12025550172", NATIONAL):
        assert number not in text and digits_of(number) not in text, f"a full phone number in the logs: {number}"
    assert "612 34 56 78" not in text and "555-0172" not in text
    # the lines say what happened, with the numbers masked, and carry the ids of their request or job
    placements = [line for line in lines if line["logger"] == "leadcall.calls"
                  and line["message"].startswith(tuple(f"call {c['id']} " for c in calls))]
    assert [line["message"].split(" to ")[1].split(" ")[0] for line in placements] == [
        "+1202•••0100", "+1202•••0106", "+1202•••0104"]
    assert [(line["request_id"], line["tenant_id"], line["call_id"]) for line in placements] == [
        (f"click-{digits_of(n)[-4:]}", world.tenant_id, c["id"]) for n, c in zip((INTERESTED, REFUSED, BUSY), calls,
                                                                                 strict=True)]
    applied = [line for line in lines if line["logger"] == "leadcall.webhooks" and " applied to call " in line["message"]
               and line["message"].split(" applied to call ")[1].split(" ")[0] in {c["id"] for c in calls}]
    assert calls[0]["id"] in {line.get("call_id") for line in applied}
    assert all(line["tenant_id"] == world.tenant_id and line["request_id"] for line in applied)


@pytest.mark.parametrize(("said", "logged"), [
    ("dialing +12025550122 now", "dialing +1202•••0122 now"),
    ("to=%2B12025550122&x=1", "to=+1202•••0122&x=1"),
    ("lead +34 612 34 56 78 called", "lead +3461•••5678 called"),
    ("call (202) 555-0122 back", "call •••0122 back"),
    ("key sk_4f9a8b7c6d5e4f3a2b1c rejected", "key sk_••• rejected"),
    ("secret wsec_abcdef0123456789", "secret wsec_•••"),
    ("token lc_Zx9-abcdefghijklmnopqrstuv", "token lc_•••"),
    ("headers {'authorization': 'Bearer eyJhbGciOi.J9x', 'xi-api-key': 'abc123'}",
     "headers {'authorization': '•••', 'xi-api-key': '•••'}"),
    ("login password=hunter22&email=a@b.c", "login password=•••&email=a@b.c"),
    ("Cookie: leadcall_session=eyJ0eXAi.abc.def", "Cookie: •••"),
    ("call 3f2a9c at 2026-12-01T12:00:00+00:00 took 1764590400 ms", "call 3f2a9c at 2026-12-01T12:00:00+00:00 took "
                                                                     "1764590400 ms"),
])
def test_redaction_masks_what_is_secret_and_keeps_what_is_not(said: str, logged: str) -> None:
    assert redact(said) == logged


def test_a_records_arguments_and_traceback_are_redacted_too() -> None:
    configure_logging("readable")  # as the app's start does: the record factory that redacts
    log = logging.getLogger("leadcall.test")
    try:
        raise ValueError("ElevenLabs refused sk_secretkey0123456789 for +12025550199")
    except ValueError as exc:
        record = log.makeRecord("leadcall.test", logging.ERROR, __file__, 1, "dial to %s failed (%d tries)",
                                ("+12025550199", 3), (type(exc), exc, exc.__traceback__))
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "dial to +1202•••0199 failed (3 tries)"
    assert "sk_secretkey" not in line["exception"] and "+1202•••0199" in line["exception"]
