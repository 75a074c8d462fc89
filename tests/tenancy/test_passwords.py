"""Passwords: the rules a new one must pass, changing one's own, admin-issued reset links, Argon2 hashing
with old hashes upgraded at sign-in, and sign-in costing the same for unknown emails."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select

from leadcall.core.db import transaction
from leadcall.core.errors import NotFound
from leadcall.core.scoping import Scope
from leadcall.kit.clock import utc_datetime
from leadcall.tenancy import passwords
from leadcall.tenancy.models import PasswordReset, User
from tests.factories import PASSWORD, TenantWorld

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def second(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def stored_hash(app: FastAPI, user_id: str) -> str:
    async with transaction(app.state.container.sessionmaker) as session:
        user = await session.get(User, user_id)
        assert user is not None and user.password_hash
        return user.password_hash


def field_codes(response: httpx.Response) -> list[str]:
    return [f["code"] for f in response.json().get("fields", [])]


async def test_new_passwords_must_be_long_and_uncommon(client: httpx.AsyncClient, world: TenantWorld) -> None:
    base = {"name": "New", "organizationId": world.org_id}
    for password, code in (("12345678", "password_too_short"), ("x", "password_too_short"),
                           ("1234567890", "password_too_common"), ("QwertyUiop", "password_too_common"),
                           ("p" * 201, "password_too_long")):
        r = await client.post("/api/users", json={**base, "email": f"rules-{secrets.token_hex(4)}@example.com",
                                                  "password": password}, headers=world.admin.headers)
        assert r.status_code == 422, (password, r.text)
        assert field_codes(r) == [code]
        assert r.json()["fields"][0]["field"] == "password"
    ok = await client.post("/api/users", json={**base, "email": f"rules-{secrets.token_hex(4)}@example.com",
                                               "password": "ten chars!"}, headers=world.admin.headers)
    assert ok.status_code == 201, ok.text


async def test_changing_ones_password_ends_the_other_sessions_only(app: FastAPI, client: httpx.AsyncClient,
                                                                    second: httpx.AsyncClient,
                                                                    world: TenantWorld) -> None:
    csrf = (await sign_in(client, world.member.email)).json()["csrfToken"]
    await sign_in(second, world.member.email)
    headers = {"X-CSRF-Token": csrf}
    wrong = await client.post("/api/me/password", json={"currentPassword": "not it", "newPassword": NEW_PASSWORD},
                              headers=headers)
    assert wrong.status_code == 422 and wrong.json()["code"] == "current_password_wrong"
    common = await client.post("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": "password123"},
                               headers=headers)
    assert common.status_code == 422 and field_codes(common) == ["password_too_common"]
    same = await client.post("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": PASSWORD},
                             headers=headers)
    assert same.status_code == 422 and same.json()["code"] == "password_unchanged"
    assert (await second.get("/api/me")).status_code == 200, "refused changes end nothing"

    r = await client.post("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
                          headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"endedSessions": 1, "revokedTokens": 0}
    assert (await client.get("/api/me")).status_code == 200, "this session stays signed in"
    assert (await second.get("/api/me")).status_code == 401
    assert (await client.get("/api/me", headers=world.member.headers)).status_code == 200, "tokens untouched"
    assert (await sign_in(second, world.member.email)).status_code == 401
    assert (await sign_in(second, world.member.email, NEW_PASSWORD)).status_code == 200


async def test_a_password_change_can_revoke_the_tokens_too(client: httpx.AsyncClient, world: TenantWorld) -> None:
    r = await client.post("/api/me/password", headers=world.manager.headers,
                          json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeTokens": True})
    assert r.status_code == 200, r.text
    assert r.json()["revokedTokens"] == 1
    assert (await client.get("/api/me", headers=world.manager.headers)).status_code == 401


async def test_wrong_current_passwords_are_limited(client: httpx.AsyncClient, world: TenantWorld) -> None:
    codes = [(await client.post("/api/me/password", headers=world.other_org_member.headers,
                                json={"currentPassword": f"guess-{i}", "newPassword": NEW_PASSWORD})).status_code
             for i in range(11)]
    assert codes == [422] * 10 + [429]


async def test_patching_a_password_is_refused_clearly(app: FastAPI, client: httpx.AsyncClient,
                                                      world: TenantWorld) -> None:
    before = await stored_hash(app, world.member.user_id)
    r = await client.patch(f"/api/users/{world.member.user_id}", json={"name": "Renamed", "password": NEW_PASSWORD},
                           headers=world.admin.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "password_not_changed_here"
    assert "/api/users/{id}/password-reset" in r.json()["detail"]
    assert await stored_hash(app, world.member.user_id) == before
    me = (await client.get("/api/me", headers=world.member.headers)).json()
    assert me["user"]["name"] != "Renamed", "nothing of the refused edit was written"


async def test_an_admin_issued_reset_link_works_once(app: FastAPI, client: httpx.AsyncClient,
                                                     second: httpx.AsyncClient, world: TenantWorld) -> None:
    await sign_in(second, world.member.email)
    refused = await client.post(f"/api/users/{world.member.user_id}/password-reset", headers=world.manager.headers)
    assert refused.status_code == 403
    issued = await client.post(f"/api/users/{world.member.user_id}/password-reset", headers=world.admin.headers)
    assert issued.status_code == 201, issued.text
    url = issued.json()["url"]
    assert url.startswith("http://testserver/password-reset/") and issued.json()["expiresAt"]
    token = url.rsplit("/", 1)[1]
    async with transaction(app.state.container.sessionmaker) as session:
        stored = (await session.execute(select(PasswordReset.secret_hash).where(
            PasswordReset.user_id == world.member.user_id))).scalars().all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored

    weak = await client.post("/api/auth/password-reset", json={"token": token, "newPassword": "12345678"})
    assert weak.status_code == 422 and field_codes(weak) == ["password_too_short"]
    done = await client.post("/api/auth/password-reset", json={"token": token, "newPassword": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    assert (await second.get("/api/me")).status_code == 401, "every session of the user ended"
    assert (await sign_in(second, world.member.email, NEW_PASSWORD)).status_code == 200
    again = await client.post("/api/auth/password-reset", json={"token": token, "newPassword": "yet another one"})
    assert again.status_code == 404 and again.json()["code"] == "reset_link_invalid"
    assert (await sign_in(second, world.member.email, NEW_PASSWORD)).status_code == 200


async def test_a_new_link_voids_the_earlier_one(client: httpx.AsyncClient, world: TenantWorld) -> None:
    first = (await client.post(f"/api/users/{world.member.user_id}/password-reset",
                               headers=world.admin.headers)).json()["url"].rsplit("/", 1)[1]
    await client.post(f"/api/users/{world.member.user_id}/password-reset", headers=world.admin.headers)
    r = await client.post("/api/auth/password-reset", json={"token": first, "newPassword": NEW_PASSWORD})
    assert r.status_code == 404 and r.json()["code"] == "reset_link_invalid"


async def test_reset_links_expire(app: FastAPI, world: TenantWorld) -> None:
    now = utc_datetime(app.state.container.clock)
    async with transaction(app.state.container.sessionmaker) as session:
        user = await session.get(User, world.member.user_id)
        assert user is not None
        _row, secret = await passwords.issue_reset(session, Scope(world.tenant_id), user_id=user.id, issued_by=None,
                                                   now=now, valid_seconds=3600)
    async with transaction(app.state.container.sessionmaker) as session:
        await passwords.reset_target(session, secret, now + timedelta(minutes=59))
        with pytest.raises(NotFound):
            await passwords.reset_target(session, secret, now + timedelta(hours=1))


async def test_a_scrypt_hash_is_upgraded_to_argon2_at_sign_in(app: FastAPI, client: httpx.AsyncClient,
                                                              world: TenantWorld) -> None:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    async with transaction(app.state.container.sessionmaker) as session:
        user = await session.get(User, world.manager.user_id)
        assert user is not None
        user.password_hash = legacy
    assert (await sign_in(client, world.manager.email, "wrong password")).status_code == 401
    assert await stored_hash(app, world.manager.user_id) == legacy, "a failed sign-in upgrades nothing"
    assert (await sign_in(client, world.manager.email)).status_code == 200
    upgraded = await stored_hash(app, world.manager.user_id)
    assert upgraded.startswith("$argon2id$")
    assert (await sign_in(client, world.manager.email)).status_code == 200


async def test_sign_in_costs_one_argon2_verification_whoever_asks(app: FastAPI, client: httpx.AsyncClient,
                                                                   world: TenantWorld,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Timing cannot tell an unknown email from a wrong password: each costs one verification of an Argon2
    hash made with the same parameters (measured in bench/sign_in_timing.py)."""
    checked: list[str] = []
    real = Argon2Hasher.verify

    def counting(self: Argon2Hasher, password: str | bytes, hash: str | bytes) -> bool:  # noqa: A002
        checked.append(str(hash).split("$")[3])  # the cost parameters: m=…,t=…,p=…
        return real(self, password, hash)

    monkeypatch.setattr(Argon2Hasher, "verify", counting)
    for email in (world.member.email, "nobody-at-all@example.com"):
        assert (await sign_in(client, email, "a wrong password")).status_code == 401
    async with transaction(app.state.container.sessionmaker) as session:
        user = await session.get(User, world.other_org_member.user_id)
        assert user is not None
        user.is_active = False
    assert (await sign_in(client, world.other_org_member.email)).status_code == 401
    assert len(checked) == 3 and len(set(checked)) == 1, checked


async def test_revoking_a_colleagues_token_answers_like_an_unknown_id(client: httpx.AsyncClient,
                                                                     world: TenantWorld) -> None:
    colleague = (await client.get("/api/tokens", headers=world.manager.headers)).json()[0]["id"]
    theirs = await client.delete(f"/api/tokens/{colleague}", headers=world.member.headers)
    unknown = await client.delete("/api/tokens/no-such-token", headers=world.member.headers)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert (await client.get("/api/me", headers=world.manager.headers)).status_code == 200


async def test_a_huge_password_is_refused_before_any_hashing(client: httpx.AsyncClient, world: TenantWorld,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = Argon2Hasher.verify

    def counting(self: Argon2Hasher, password: str | bytes, hash: str | bytes) -> bool:  # noqa: A002
        checked.append("verify")
        return real(self, password, hash)

    monkeypatch.setattr(Argon2Hasher, "verify", counting)
    r = await sign_in(client, world.member.email, "x" * 1_000_000)
    assert r.status_code == 422 and field_codes(r) == ["string_too_long"]
    assert checked == []
