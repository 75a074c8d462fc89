"""Server-side sessions: sign-out ends a session for every copy of its cookie, sessions are listed with
their device and address, and each one (or all) can be ended."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls import router as calls_router
from leadcall.core.db import transaction
from leadcall.core.errors import Unauthenticated
from leadcall.kit.clock import utc_datetime
from leadcall.tenancy import sessions
from leadcall.tenancy.models import User, UserSession
from tests.factories import PASSWORD, Actor, TenantWorld
from tests.live import CallWorld, LiveServer

COOKIE = "leadcall_session"


@pytest.fixture
async def second(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"}) as c:
        yield c


async def sign_in(client: httpx.AsyncClient, actor: Actor) -> str:
    r = await client.post("/api/auth/login", json={"email": actor.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrfToken"])


def copy_of(client: httpx.AsyncClient, app: FastAPI) -> httpx.AsyncClient:
    """A stranger's client holding a copy of `client`'s cookie."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                             cookies={COOKIE: client.cookies[COOKIE]})


async def test_a_copied_cookie_stops_working_after_sign_out(app: FastAPI, client: httpx.AsyncClient,
                                                            world: TenantWorld) -> None:
    await sign_in(client, world.member)
    async with copy_of(client, app) as thief:
        assert (await thief.get("/api/me")).status_code == 200
        out = await client.post("/api/auth/logout")
        assert out.status_code == 204
        after = await thief.get("/api/me")
        assert after.status_code == 401
        assert after.json()["code"] == "session_ended"
    assert (await client.get("/api/me")).status_code == 401


async def test_sessions_are_listed_with_device_address_and_which_is_this_one(
        app: FastAPI, client: httpx.AsyncClient, second: httpx.AsyncClient, world: TenantWorld) -> None:
    await sign_in(client, world.member)
    await sign_in(second, world.member)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as third:
        await sign_in(third, world.manager)  # a colleague's session is not the member's
    listed = (await second.get("/api/me/sessions")).json()
    assert len(listed) == 2
    mine = next(s for s in listed if s["current"])
    assert "Firefox" in mine["userAgent"] and mine["address"] == "127.0.0.1"
    assert mine["createdAt"] and mine["lastUsedAt"] and mine["expiresAt"] > mine["createdAt"]
    assert [s["current"] for s in listed].count(True) == 1
    by_token = (await second.get("/api/me/sessions", headers=world.member.headers)).json()
    assert [s["current"] for s in by_token] == [False, False], "a token request is none of the sessions"


async def test_ending_one_session_signs_out_that_browser_only(app: FastAPI, client: httpx.AsyncClient,
                                                               second: httpx.AsyncClient, world: TenantWorld) -> None:
    await sign_in(client, world.member)
    csrf = await sign_in(second, world.member)
    other = next(s for s in (await second.get("/api/me/sessions")).json() if not s["current"])
    refused = await second.delete(f"/api/me/sessions/{other['id']}")
    assert refused.status_code == 403, "a cookie session must send its CSRF token"
    ended = await second.delete(f"/api/me/sessions/{other['id']}", headers={"X-CSRF-Token": csrf})
    assert ended.status_code == 204
    assert (await client.get("/api/me")).status_code == 401
    assert (await second.get("/api/me")).status_code == 200
    again = await second.delete(f"/api/me/sessions/{other['id']}", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 404


async def test_another_users_session_answers_like_an_unknown_one(client: httpx.AsyncClient, second: httpx.AsyncClient,
                                                                 world: TenantWorld) -> None:
    await sign_in(client, world.manager)
    colleague = (await client.get("/api/me/sessions")).json()[0]["id"]
    as_admin = await second.delete(f"/api/me/sessions/{colleague}", headers=world.admin.headers)
    unknown = await second.delete("/api/me/sessions/no-such-session", headers=world.admin.headers)
    assert as_admin.status_code == unknown.status_code == 404
    assert as_admin.json() == unknown.json()
    assert (await client.get("/api/me")).status_code == 200, "the colleague is still signed in"


async def test_sign_out_everywhere_ends_every_session_but_keeps_tokens(client: httpx.AsyncClient,
                                                                       second: httpx.AsyncClient,
                                                                       world: TenantWorld) -> None:
    csrf = await sign_in(client, world.member)
    await sign_in(second, world.member)
    r = await client.delete("/api/me/sessions", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert (await client.get("/api/me")).status_code == 401
    assert (await second.get("/api/me")).status_code == 401
    assert (await client.get("/api/me", headers=world.member.headers)).status_code == 200


async def test_deactivating_a_user_ends_their_sessions(client: httpx.AsyncClient, second: httpx.AsyncClient,
                                                       world: TenantWorld) -> None:
    await sign_in(client, world.member)
    r = await second.patch(f"/api/users/{world.member.user_id}", json={"isActive": False}, headers=world.admin.headers)
    assert r.status_code == 200, r.text
    assert (await client.get("/api/me")).status_code == 401
    r = await second.patch(f"/api/users/{world.member.user_id}", json={"isActive": True}, headers=world.admin.headers)
    assert (await client.get("/api/me")).status_code == 401, "reactivation does not revive an ended session"


async def test_the_cookie_secret_is_stored_only_hashed_and_sessions_expire(app: FastAPI, world: TenantWorld) -> None:
    now = utc_datetime(app.state.container.clock)
    lifetime = app.state.container.settings.session_max_age_seconds
    async with transaction(app.state.container.sessionmaker) as session:
        user = await _user(session, world.member.user_id)
        secret = await sessions.start_session(session, user, sessions.Device("test-agent", "10.0.0.7"), now, lifetime)
    async with transaction(app.state.container.sessionmaker) as session:
        row = (await session.execute(select(UserSession).where(UserSession.user_id == world.member.user_id))).scalar_one()
        assert secret not in (row.secret_hash, row.id, row.user_agent, row.address)
        principal, stale = await sessions.principal_from_session(session, secret, now + timedelta(seconds=30))
        assert principal.user_id == world.member.user_id and principal.session_id == row.id
        assert stale is None, "used within the minute: no write"
        _principal, stale = await sessions.principal_from_session(session, secret, now + timedelta(minutes=2))
        assert stale == row.id
        with pytest.raises(Unauthenticated) as ended:
            await sessions.principal_from_session(session, secret, now + timedelta(seconds=lifetime))
        assert ended.value.code == "session_ended"


def cookie_for(app: FastAPI, secret: str) -> str:
    """The signed cookie a browser would hold for a session (as Starlette's session middleware writes it)."""
    payload = base64.b64encode(json.dumps({"sid": secret, "csrf": "t"}).encode())
    signer = TimestampSigner(app.state.container.settings.session_secret.get_secret_value())
    return signer.sign(payload).decode()


async def test_a_request_records_last_use_and_address(app: FastAPI, world: TenantWorld) -> None:
    now = utc_datetime(app.state.container.clock)
    async with transaction(app.state.container.sessionmaker) as session:
        user = await _user(session, world.member.user_id)
        secret = await sessions.start_session(session, user, sessions.Device("old", "10.0.0.7"),
                                              now - timedelta(minutes=5), 3600)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                 cookies={COOKIE: cookie_for(app, secret)}) as browser:
        assert (await browser.get("/api/me")).status_code == 200
    async with transaction(app.state.container.sessionmaker) as session:
        row = (await session.execute(select(UserSession).where(UserSession.user_id == world.member.user_id))).scalar_one()
        assert row.last_used_at == now and row.address == "127.0.0.1"
        assert row.user_agent == "old", "the device is the one that signed in"


async def _user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user


async def test_signing_in_again_replaces_the_browsers_session(app: FastAPI, client: httpx.AsyncClient,
                                                             world: TenantWorld) -> None:
    await sign_in(client, world.member)
    async with copy_of(client, app) as before:
        await sign_in(client, world.member)
        assert (await before.get("/api/me")).status_code == 401, "the replaced session ended"
    assert len((await client.get("/api/me/sessions")).json()) == 1


async def test_an_open_event_stream_ends_when_its_session_does(live: LiveServer, cw: CallWorld,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream opened before sign-out does not keep a copied cookie listening: it checks between events."""
    monkeypatch.setattr(calls_router, "HEARTBEAT_SECONDS", 0.2)
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as browser:
        r = await browser.post("/api/auth/login", json={"email": cw.world.member.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        async with httpx.AsyncClient(base_url=live.url, timeout=10, cookies={COOKIE: browser.cookies[COOKIE]}) as thief, \
                thief.stream("GET", "/api/events") as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert (await asyncio.wait_for(anext(lines), 5)).startswith(": connected")
            assert await asyncio.wait_for(_next_comment(lines), 5) == ": keep-alive", "still signed in: it goes on"
            assert (await browser.post("/api/auth/logout")).status_code == 204
            rest = await asyncio.wait_for(_drain(lines), 5)  # the server ends the stream
            assert rest.count(": keep-alive") <= 1


async def _next_comment(lines: AsyncIterator[str]) -> str:
    async for line in lines:
        if line.startswith(": "):
            return line
    return ""


async def _drain(lines: AsyncIterator[str]) -> list[str]:
    return [line async for line in lines if line]
