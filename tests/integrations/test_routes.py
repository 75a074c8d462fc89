"""The endpoints' API: admins only, another tenant's ids are 404, bad input answers its code, SSRF refusals."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import TenantWorld
from tests.integrations.receiver import Receiver
from tests.integrations.support import add_endpoint

BASE = "/api/webhook-endpoints"


async def test_only_admins_manage_endpoints(client: httpx.AsyncClient, world: TenantWorld) -> None:
    created = await add_endpoint(client, world.admin, "https://crm.invalid/hooks")
    for actor in (world.manager, world.member):
        for method, path in (("GET", BASE), ("POST", BASE), ("GET", f"{BASE}/{created['id']}"),
                             ("PATCH", f"{BASE}/{created['id']}"), ("DELETE", f"{BASE}/{created['id']}"),
                             ("POST", f"{BASE}/{created['id']}/rotate-secret"), ("POST", f"{BASE}/{created['id']}/test"),
                             ("GET", f"{BASE}/{created['id']}/deliveries"), ("GET", "/api/webhook-event-types")):
            r = await client.request(method, path, json={"url": "https://x.example/h"} if method == "POST" else None,
                                     headers=actor.headers)
            assert r.status_code == 403, (actor.role, method, path, r.text)
            assert r.json()["code"] == "role_not_allowed"
    assert (await client.get(f"{BASE}/{created['id']}", headers=world.admin.headers)).status_code == 200


async def test_another_tenants_endpoint_is_not_found(hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
                                                     hooks_other_world: TenantWorld, receiver: Receiver) -> None:
    victim = await add_endpoint(hooks_client, hooks_other_world.admin, f"{receiver.url}/ok")
    sent = await hooks_client.post(f"{BASE}/{victim['id']}/test", headers=hooks_other_world.admin.headers)
    delivery_id = sent.json()["id"]
    attacker = hooks_world.admin.headers
    for method, path in (("GET", f"{BASE}/{victim['id']}"), ("PATCH", f"{BASE}/{victim['id']}"),
                         ("DELETE", f"{BASE}/{victim['id']}"), ("POST", f"{BASE}/{victim['id']}/rotate-secret"),
                         ("POST", f"{BASE}/{victim['id']}/test"), ("GET", f"{BASE}/{victim['id']}/deliveries"),
                         ("POST", f"{BASE}/{victim['id']}/deliveries/{delivery_id}/retry")):
        r = await hooks_client.request(method, path, json={"enabled": False} if method == "PATCH" else None,
                                       headers=attacker)
        assert r.status_code == 404, (method, path, r.text)
    assert victim["id"] not in (await hooks_client.get(BASE, headers=attacker)).text
    # The attacker's own endpoint cannot reach the victim's delivery either.
    own = await add_endpoint(hooks_client, hooks_world.admin, f"{receiver.url}/ok")
    r = await hooks_client.post(f"{BASE}/{own['id']}/deliveries/{delivery_id}/retry", headers=attacker)
    assert r.status_code == 404
    assert len(receiver.received) == 1  # only the victim's own test send
    shown = await hooks_client.get(f"{BASE}/{victim['id']}", headers=hooks_other_world.admin.headers)
    assert shown.json()["enabled"] is True and shown.json()["secretHint"] == victim["secretHint"]


@pytest.mark.parametrize(("url", "code"), [
    ("http://crm.example.com/hooks", "https_required"),
    ("https://10.0.0.7/hooks", "private_target"),
    ("https://127.0.0.1/hooks", "private_target"),
    ("https://169.254.169.254/latest/meta-data", "private_target"),
    ("https://[::1]/hooks", "private_target"),
    ("https://0x7f000001/hooks", "private_target"),
    ("ftp://crm.example.com/hooks", "https_required"),
    ("https://user:pw@crm.example.com/hooks", "url_invalid"),
    ("not a url", "url_invalid"),
])
async def test_targets_are_refused_without_private_targets(client: httpx.AsyncClient, world: TenantWorld, url: str,
                                                           code: str) -> None:
    r = await client.post(BASE, json={"url": url}, headers=world.admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and r.json()["fields"][0]["field"] == "url"
    assert (await client.get(BASE, headers=world.admin.headers)).json() == []


async def test_with_private_targets_allowed_only_loopback_may_use_http(hooks_client: httpx.AsyncClient,
                                                                       hooks_world: TenantWorld) -> None:
    admin = hooks_world.admin.headers
    assert (await hooks_client.post(BASE, json={"url": "http://127.0.0.1:9/hooks"}, headers=admin)).status_code == 201
    assert (await hooks_client.post(BASE, json={"url": "https://10.0.0.7/hooks"}, headers=admin)).status_code == 201
    r = await hooks_client.post(BASE, json={"url": "http://10.0.0.7/hooks"}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "https_required"


async def test_bad_input_answers_its_code_and_changes_nothing(client: httpx.AsyncClient, world: TenantWorld) -> None:
    admin = world.admin.headers
    r = await client.post(BASE, json={"url": "https://crm.invalid/h", "eventTypes": ["call.exploded"]}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "event_type_unknown"
    assert r.json()["params"]["eventType"] == "call.exploded"
    r = await client.post(BASE, json={"url": "https://crm.invalid/h", "eventTypes": []}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "event_types_empty"
    r = await client.post(BASE, json={"eventTypes": ["call.created"]}, headers=admin)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "url"
    assert (await client.get(BASE, headers=admin)).json() == []

    created = await add_endpoint(client, world.admin, "https://crm.invalid/h", eventTypes=["call.completed",
                                                                                             "call.created"])
    assert created["eventTypes"] == ["call.created", "call.completed"]  # in the catalog's order
    path = f"{BASE}/{created['id']}"
    r = await client.patch(path, json={"url": "http://crm.invalid/h", "description": "changed"}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "https_required"
    r = await client.patch(path, json={"url": None}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "url_invalid"
    shown = (await client.get(path, headers=admin)).json()
    assert shown["url"] == "https://crm.invalid/h" and shown["description"] is None  # nothing half-written
    r = await client.get(f"{path}/deliveries", params={"cursor": "garbage"}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "cursor_invalid"
    r = await client.post(f"{path}/deliveries/no-such-delivery/retry", headers=admin)
    assert r.status_code == 404
    everything = await client.patch(path, json={"eventTypes": None}, headers=admin)
    assert everything.json()["eventTypes"] is None
    types = (await client.get("/api/webhook-event-types", headers=admin)).json()
    assert {t["type"] for t in types} >= {"call.created", "call.updated", "call.completed", "lead.updated",
                                          "lead.opted_out", "callback.scheduled", "budget.alert"}
    assert (await client.delete(path, headers=admin)).status_code == 204
    assert (await client.get(path, headers=admin)).status_code == 404
