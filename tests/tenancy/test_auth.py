from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import PASSWORD, TenantWorld
from tests.routes import api_operations, public_operations


async def test_login_sets_session_and_me_answers(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/auth/login", json={"email": world.member.email.upper(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "member"
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert me.json()["user"]["email"] == world.member.email
    assert "place_calls" in me.json()["permissions"]


async def test_wrong_password_is_refused_without_saying_which_part(client: httpx.AsyncClient,
                                                                   world: TenantWorld) -> None:
    r = await client.post("/api/auth/login", json={"email": world.member.email, "password": "nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "unauthenticated", "detail": "wrong email or password",
                        "code": "wrong_credentials", "params": {}}
    unknown = await client.post("/api/auth/login", json={"email": "ghost@example.com", "password": "nope"})
    assert unknown.json() == r.json()


async def test_cookie_session_needs_csrf_token_for_writes(client: httpx.AsyncClient, world: TenantWorld) -> None:
    login = await client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
    csrf = login.json()["csrfToken"]
    body = {"name": "Nueva"}
    refused = await client.post("/api/leads", json=body)
    assert refused.status_code == 403
    assert "security token" in refused.json()["detail"]
    wrong = await client.post("/api/leads", json=body, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    accented = await client.post("/api/leads", json=body, headers={"X-CSRF-Token": "forgé".encode("latin-1")})
    assert accented.status_code == 403  # refused, not a server error
    ok = await client.post("/api/leads", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text


async def test_bearer_token_works_and_revoked_token_does_not(client: httpx.AsyncClient,
                                                             world: TenantWorld) -> None:
    created = await client.post("/api/tokens", json={"name": "crm"}, headers=world.member.headers)
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("lc_") and created.json()["prefix"] == token[:10]
    listed = await client.get("/api/tokens", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert all("token" not in t for t in listed.json())
    revoke = await client.delete(f"/api/tokens/{created.json()['id']}", headers=world.member.headers)
    assert revoke.status_code == 200 and revoke.json()["revokedAt"]
    after = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]


async def test_malformed_authorization_header(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/me", headers={"Authorization": "Token abc"})
    assert r.status_code == 401
    assert "Bearer" in r.json()["detail"]


async def test_every_non_public_route_requires_authentication(app: FastAPI, client: httpx.AsyncClient) -> None:
    public = public_operations()
    checked = 0
    for method, template in api_operations(app):
        if (method, template) in public or not template.startswith("/api"):
            continue
        path = template.replace("{", "").replace("}", "")
        r = await client.request(method, path)
        assert r.status_code == 401, f"{method} {template} answered {r.status_code} without credentials"
        checked += 1
    assert checked >= 10


async def test_roles_are_enforced(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.get("/api/users", headers=world.member.headers)
    assert r.status_code == 403
    assert "member" in r.json()["detail"]
    assert r.json()["code"] == "role_not_allowed" and r.json()["params"]["role"] == "member"
    assert (await client.get("/api/users", headers=world.admin.headers)).status_code == 200


async def test_admin_creates_user_in_own_tenant_only(client: httpx.AsyncClient, world: TenantWorld,
                                                     other_world: TenantWorld) -> None:
    body = {"email": "new.user@example.com", "name": "New", "password": "long-enough", "role": "manager",
            "organizationId": other_world.org_id}
    r = await client.post("/api/users", json=body, headers=world.admin.headers)
    assert r.status_code == 404
    body["organizationId"] = world.org_id
    body["email"] = f"new-{world.tenant_id[:8]}@example.com"
    r = await client.post("/api/users", json=body, headers=world.admin.headers)
    assert r.status_code == 201, r.text
    dup = await client.post("/api/users", json=body, headers=world.admin.headers)
    assert dup.status_code == 409 and dup.json()["code"] == "email_taken"


async def test_admin_cannot_demote_self(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.patch(f"/api/users/{world.admin.user_id}", json={"role": "member"},
                           headers=world.admin.headers)
    assert r.status_code == 409 and r.json()["code"] == "own_admin_role"


async def test_password_guessing_is_slowed_down(client: httpx.AsyncClient, world: TenantWorld) -> None:
    codes = [(await client.post("/api/auth/login", json={"email": world.manager.email, "password": f"guess-{i}"}))
             for i in range(11)]
    assert [c.status_code for c in codes[:10]] == [401] * 10
    assert codes[10].status_code == 429 and int(codes[10].headers["Retry-After"]) >= 1
    assert "too many sign-in attempts" in codes[10].json()["detail"]
