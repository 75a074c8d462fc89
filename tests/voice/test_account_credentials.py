"""Keys and secrets are what a provider issues: printable ASCII. Anything else is refused when saved, since
it could never be sent in an HTTP header (and would break every later request of the account)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import TenantWorld

CONFIG = "/api/voice/providers/elevenlabs/config"


@pytest.mark.parametrize("field", ["apiKey", "webhookSecret", "twilioAccountSid", "twilioAuthToken"])
async def test_a_credential_outside_printable_ascii_is_a_422(client: httpx.AsyncClient, world: TenantWorld,
                                                             field: str) -> None:
    body = {"name": f"Main {field}", "apiKey": "sk_test_0123456789", field: "sk_\u0087clave_ñ_0123"}
    r = await client.post(CONFIG, json=body, headers=world.admin.headers)
    assert r.status_code == 422, r.text
    assert [(f["field"], f["code"]) for f in r.json()["fields"]] == [(field, "string_pattern_mismatch")]
    assert (await client.get(CONFIG, headers=world.admin.headers)).json() == []


async def test_spaces_around_a_pasted_key_are_dropped(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post(CONFIG, json={"name": "Main", "apiKey": "  sk_test_0123456789\n"}, headers=world.admin.headers)
    assert r.status_code == 201, r.text
    assert r.json()["apiKeyMasked"].endswith("6789")
