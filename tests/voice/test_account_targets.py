"""An account's base URLs reach only ElevenLabs, Twilio and the origins the operator names (SSRF guard)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from leadcall.core.db import transaction
from leadcall.voice.models import ElevenLabsAccount
from tests.live import CallWorld, LiveServer, free_port

BASE = "/api/voice/providers/elevenlabs"
UNREACHABLE = "Could not connect to an ElevenLabs API at this URL; check the URL and try again."


def refusal(r: httpx.Response) -> tuple[str, str]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["fields"][0]["field"] == body["params"]["field"]
    return body["code"], body["params"]["field"]


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"baseUrl": "http://127.0.0.1:22"}, "provider_host_not_allowed", "baseUrl"),
    ({"baseUrl": "http://169.254.169.254/latest/meta-data"}, "provider_host_not_allowed", "baseUrl"),
    ({"baseUrl": "http://localhost:5432"}, "provider_host_not_allowed", "baseUrl"),
    ({"baseUrl": "https://api.elevenlabs.io.attacker.net"}, "provider_host_not_allowed", "baseUrl"),
    ({"baseUrl": "http://api.elevenlabs.io"}, "https_required", "baseUrl"),
    ({"twilioBaseUrl": "http://10.0.0.7:8080"}, "provider_host_not_allowed", "twilioBaseUrl"),
    ({"twilioBaseUrl": "https://api.elevenlabs.io"}, "provider_host_not_allowed", "twilioBaseUrl"),
])
async def test_base_urls_outside_the_providers_are_refused_when_saved(
        live_client: httpx.AsyncClient, cw: CallWorld, changes: dict[str, str], code: str, field: str) -> None:
    admin = cw.world.admin.headers
    created = await live_client.post(f"{BASE}/config", headers=admin,
                                     json={"name": f"Probe {field}", "apiKey": "sk_probe_123456789", **changes})
    assert refusal(created) == (code, field)
    updated = await live_client.put(f"{BASE}/config", headers=admin, json={"id": cw.account_id, **changes})
    assert refusal(updated) == (code, field)
    tried = await live_client.post(f"{BASE}/test-connection", headers=admin,
                                   json={"apiKey": "sk_probe_123456789", **changes})
    if field == "baseUrl":
        assert refusal(tried) == (code, field)
    listed = (await live_client.get(f"{BASE}/config", headers=admin)).json()
    assert [a["name"] for a in listed] == ["Main"]  # nothing half written
    assert listed[0]["baseUrl"].endswith("/sim")


async def test_official_and_residency_hosts_and_the_named_simulator_are_accepted(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    admin = cw.world.admin.headers
    for i, url in enumerate(["https://api.elevenlabs.io", "https://api.eu.residency.elevenlabs.io/",
                             "https://api.us.elevenlabs.io"]):
        r = await live_client.post(f"{BASE}/config", headers=admin, json={
            "name": f"Region {i}", "apiKey": "sk_region_123456789", "baseUrl": url, "isActive": False,
            "twilioBaseUrl": "https://api.twilio.com"})
        assert r.status_code == 201, r.text
        assert r.json()["baseUrl"] == url.rstrip("/")
    ok = await live_client.post(f"{BASE}/test-connection", headers=admin, json={
        "apiKey": cw.sim_account.api_key, "baseUrl": f"{live.url}/sim"})
    assert ok.json()["ok"] is True


@pytest.fixture
async def internal_services() -> AsyncIterator[dict[str, int]]:
    """What a probe would look for inside: a closed port, a service that is not HTTP, an HTTP service."""

    async def ssh(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2p1\r\n")
        await writer.drain()
        writer.close()

    async def admin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"detail": "internal admin console v3"}'
        writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    servers = [await asyncio.start_server(handler, "127.0.0.1", 0) for handler in (ssh, admin)]
    try:
        yield {"closed": free_port(), "not_http": servers[0].sockets[0].getsockname()[1],
               "http": servers[1].sockets[0].getsockname()[1]}
    finally:
        for server in servers:
            server.close()


async def test_an_account_saved_before_the_guard_reaches_nothing_inside(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld, internal_services: dict[str, int]) -> None:
    """A base URL already stored (say, before this guard) is checked again on connecting; whatever runs at
    the address, the answer is the same sentence, never the upstream's words."""
    answers: dict[str, Any] = {}
    for kind, port in internal_services.items():
        async with transaction(live.app.state.container.sessionmaker) as session:
            await session.execute(update(ElevenLabsAccount).where(ElevenLabsAccount.id == cw.account_id)
                                  .values(base_url=f"http://127.0.0.1:{port}"))
        await live.app.state.voice_manager.forget_account(cw.account_id)
        r = await live_client.post(f"{BASE}/test-connection", headers=cw.world.admin.headers,
                                   json={"configId": cw.account_id})
        assert r.status_code == 200, r.text
        answers[kind] = r.json()
    assert answers["closed"] == answers["not_http"] == answers["http"]
    assert answers["http"]["ok"] is False and answers["http"]["detail"] == UNREACHABLE
    listed = (await live_client.get(f"{BASE}/config", headers=cw.world.admin.headers)).json()
    assert listed[0]["lastCheckDetail"] == UNREACHABLE
