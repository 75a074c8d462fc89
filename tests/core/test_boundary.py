"""The one input boundary (leadcall.core.boundary): a character no field accepts is a 422 naming the field,
wherever the request carries it, on both databases; authentication always answers first."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from leadcall.web import pages_router
from leadcall.web import public_router as web_public_router
from leadcall.web.rules import router as rules_pages_router
from tests.factories import PASSWORD, Actor, TenantWorld
from tests.routes import api_operations, public_operations


def _problem(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid"
    (problem,) = body["fields"]
    assert problem["code"] == "forbidden_character"
    return dict(problem)


async def _total(client: httpx.AsyncClient, actor: Actor) -> int:
    return int((await client.get("/api/leads", headers=actor.headers)).json()["total"])


@pytest.mark.parametrize("raw", ["\x00", "\x1b[2J", "\x7f", "\ud800"])
async def test_a_forbidden_character_in_json_names_the_field_and_writes_nothing(
        client: httpx.AsyncClient, world: TenantWorld, raw: str) -> None:
    before = await _total(client, world.member)
    body = json.dumps({"name": f"Ana{raw}", "company": "Acme"})  # a lone surrogate as the escape \\ud800
    r = await client.post("/api/leads", content=body, headers={**world.member.headers,
                                                               "content-type": "application/json"})
    problem = _problem(r)
    assert problem["field"] == "name"
    assert problem["params"] == {"character": f"U+{ord(raw[0]):04X}"}
    assert "name:" in r.json()["detail"]
    assert await _total(client, world.member) == before


async def test_nested_values_and_keys_are_named_by_their_path(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.put("/api/budgets", json={"monthlyLimit": 100, "thresholds": [50], "organizationId": "x\x00"},
                         headers=world.admin.headers)
    assert _problem(r)["field"] == "organizationId"
    key = await client.post("/api/leads", json={"name": "Ana", "no\x00te": "x"}, headers=world.member.headers)
    assert _problem(key)["field"] == "no\x00te"


async def test_path_and_query_values_are_checked(client: httpx.AsyncClient, world: TenantWorld) -> None:
    path = await client.get("/api/leads/abc%00def", headers=world.member.headers)
    assert _problem(path)["field"] == "lead_id"
    query = await client.get("/api/leads", params={"q": "Ana\x00"}, headers=world.member.headers)
    assert _problem(query)["field"] == "q"
    single_line = await client.get("/api/leads", params={"q": "Ana\nPérez"}, headers=world.member.headers)
    assert _problem(single_line)["params"] == {"character": "U+000A"}


async def test_free_text_keeps_tabs_and_line_ends(client: httpx.AsyncClient, world: TenantWorld) -> None:
    notes = "first line\r\nsecond\tline\nthird"
    r = await client.post("/api/leads", json={"name": "Ana", "notes": notes}, headers=world.member.headers)
    assert r.status_code == 201, r.text
    assert r.json()["notes"] == notes


async def test_a_header_value_is_checked(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post(f"/api/leads/{world.lead_ids[0]}/call", json={"agentId": "agent_x"},
                          headers={**world.member.headers, "Idempotency-Key": "key\x01"})
    assert _problem(r)["field"] == "idempotency-key"


async def test_form_fields_of_the_api_are_checked(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/leads/import", files={"file": ("l.csv", b"name\nAna\n", "text/csv")},
                          data={"note": "x\x00"}, headers=world.admin.headers)
    assert _problem(r)["field"] == "note"


async def test_anonymous_callers_are_told_to_sign_in_first(client: httpx.AsyncClient) -> None:
    nul = await client.get("/api/leads", params={"q": "\x00"})
    assert nul.status_code == 401
    broken = await client.post("/api/leads", content=b'{"name": ', headers={"content-type": "application/json"})
    assert broken.status_code == 401
    assert broken.json()["error"] == "unauthenticated"
    bad_token = await client.post("/api/leads", content=b'{"name": ', headers={
        "content-type": "application/json", "Authorization": "Bearer lc_nope"})
    assert bad_token.status_code == 401


async def test_every_authenticated_operation_refuses_strangers_before_reading_the_body(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    public = public_operations()
    answers = {}
    for method, path in api_operations(app):
        if (method, path) in public:
            continue
        url = path.replace("{", "").replace("}", "")  # any id: no one is signed in
        r = await client.request(method, url, content=b'{"broken": ', headers={"content-type": "application/json"})
        answers[(method, path)] = r.status_code
    assert len(answers) > 30
    assert {op: status for op, status in answers.items() if status != 401} == {}


async def test_malformed_json_of_a_signed_in_caller_is_a_422(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/leads", content=b'{"name": ', headers={**world.member.headers,
                                                                       "content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["fields"][0]["code"] == "json_invalid"


async def test_the_sign_in_route_checks_its_input(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/auth/login", json={"email": world.member.email, "password": f"{PASSWORD}\x00"})
    assert _problem(r)["field"] == "password"


async def test_pages_say_it_in_the_pages_language(client: httpx.AsyncClient, world: TenantWorld) -> None:
    login = await client.post("/api/auth/login", json={"email": world.admin.email, "password": PASSWORD})
    csrf = login.json()["csrfToken"]
    await client.patch(f"/api/users/{world.admin.user_id}", json={"language": "es"}, headers=world.admin.headers)
    r = await client.post("/settings/budget", data={"monthly_limit": "100", "thresholds": "50\x00"},
                          headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert r.status_code == 422
    assert "carácter de control (U+0000)" in r.text
    search = await client.get("/leads/rows", params={"q": "\x00"}, headers={"HX-Request": "true"})
    assert search.status_code == 422
    assert "Búsqueda" in search.text


@pytest.mark.parametrize(("raw", "code"), [("NaN", "finite_number"), ("Infinity", "finite_number"),
                                           ("1e15", "less_than_equal")])
async def test_numbers_are_finite_and_bounded(client: httpx.AsyncClient, world: TenantWorld, raw: str,
                                              code: str) -> None:
    r = await client.put("/api/budgets", content=f'{{"monthlyLimit": {raw}}}', headers={
        **world.admin.headers, "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert [(f["field"], f["code"]) for f in r.json()["fields"]] == [("monthlyLimit", code)]
    assert (await client.get("/api/budgets", headers=world.admin.headers)).json() == []


async def test_a_webhook_is_checked_by_its_address_and_its_body_waits_for_the_signature(
        client: httpx.AsyncClient) -> None:
    url = "/api/webhooks/elevenlabs/call-status"
    address = await client.post(url, params={"account": "acct\x00"}, json={"type": "x"})
    assert _problem(address)["field"] == "account"
    unknown = await client.post(url, params={"account": "acct"}, content=b'{"type": "x\\u0000"}',
                                headers={"content-type": "application/json"})
    assert unknown.status_code == 404  # the body was never looked at: no account, no secret, no signature


def _page_routes(router: Any) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in router.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router
            found.extend(_page_routes(route.original_router))
    return found


async def test_every_page_checks_its_input(client: httpx.AsyncClient, world: TenantWorld) -> None:
    login = await client.post("/api/auth/login", json={"email": world.admin.email, "password": PASSWORD})
    headers = {"X-CSRF-Token": login.json()["csrfToken"], "HX-Request": "true"}
    routers = [web_public_router, pages_router, rules_pages_router]
    routes = {(method, route.path) for router in routers for route in _page_routes(router) for method in route.methods}
    assert len(routes) > 30
    answers = {}
    for method, path in sorted(routes):
        url = re.sub(r"\{[^}]+\}", "x", path)
        answers[(method, path)] = (await client.request(method, url, params={"probe": "\x00"}, headers=headers)).status_code
    assert {route: status for route, status in answers.items() if status != 422} == {}
