from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
from fastapi import FastAPI

from leadcall.calls.models import UsageRollup
from leadcall.core.db import transaction
from leadcall.kit.clock import ManualClock
from leadcall.settings import Settings
from tests.factories import TenantWorld

LEADCALL = str(Path(sys.executable).with_name("leadcall"))


async def run(settings: Settings, *args: str, password: str | None = None) -> str:
    """Runs the CLI in a thread: the session's event loop also serves the live app, which may be holding
    a database transaction the command has to wait for, so the loop must not be blocked meanwhile."""
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url}
    if password:
        env["LEADCALL_NEW_USER_PASSWORD"] = password
    done = await asyncio.to_thread(subprocess.run, [LEADCALL, *args], env=env, capture_output=True, text=True,
                                   timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def test_cli_creates_tenant_user_and_token_that_the_api_accepts(settings: Settings,
                                                                      client: httpx.AsyncClient) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    tenant_id = await run(settings, "tenant", "create", "CLI Co", "--slug", slug, "--country", "ES")
    org_id = await run(settings, "org", "create", "--tenant", tenant_id, "--name", "Ventas")
    email = f"{slug}@example.com"
    await run(settings, "user", "create", "--tenant", tenant_id, "--org", org_id, "--email", email, "--name", "Cli",
        "--role", "manager", password="a-long-password")
    token = await run(settings, "token", "create", "--email", email)
    assert token.startswith("lc_")
    headers = {"Authorization": f"Bearer {token}"}

    created = await client.post("/api/leads", json={"name": "Desde CLI", "phone": "612 345 678"}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "+34612345678"  # the tenant's country reads local numbers
    files = {"file": ("l.csv", b"name,phone\nUno,+34 611 111 111\nDos,nope\n", "text/csv")}
    report = (await client.post("/api/leads/import", files=files, headers=headers)).json()
    assert (report["created"], report["rejected"]) == (1, 1)
    listed = (await client.get("/api/leads", headers=headers)).json()
    assert {i["name"] for i in listed["items"]} == {"Desde CLI", "Uno"}


async def test_cli_errors_are_readable(settings: Settings) -> None:
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url}
    done = await asyncio.to_thread(subprocess.run, [LEADCALL, "token", "create", "--email", "nobody@example.com"],
                                   env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "no user with the email nobody@example.com" in done.stderr
    assert "Traceback" not in done.stderr


async def test_secrets_rotate_re_encrypts_under_the_new_key(settings: Settings, client: httpx.AsyncClient,
                                                            world: TenantWorld) -> None:
    from sqlalchemy import select

    from leadcall.core.db import make_engine, make_sessionmaker
    from leadcall.core.secrets import SecretBox
    from leadcall.voice.models import ElevenLabsAccount

    r = await client.post("/api/voice/providers/elevenlabs/config", headers=world.admin.headers,
                          json={"name": "Rotate", "apiKey": "sk_rotate_me_1234", "webhookSecret": "wsec_rotate"})
    assert r.status_code == 201, r.text
    old = settings.secret_keys.get_secret_value()
    new = SecretBox.generate_key()
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url, "LEADCALL_SECRET_KEYS": f"{new},{old}"}
    done = await asyncio.to_thread(subprocess.run, [LEADCALL, "secrets", "rotate"], env=env, capture_output=True,
                                   text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "sk_rotate_me_1234" not in done.stdout + done.stderr
    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as session:
        account = (await session.execute(select(ElevenLabsAccount).where(
            ElevenLabsAccount.id == r.json()["id"]))).scalar_one()
    await engine.dispose()
    only_new = SecretBox([new])
    assert only_new.decrypt(account.api_key_encrypted) == "sk_rotate_me_1234"
    assert account.webhook_secret_encrypted and only_new.decrypt(account.webhook_secret_encrypted) == "wsec_rotate"


async def leadcall(settings: Settings, *args: str, password: str | None = None,
                   extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url, "LEADCALL_PUBLIC_BASE_URL": "http://testserver",
           **(extra_env or {})}
    if password is not None:
        env["LEADCALL_NEW_USER_PASSWORD"] = password
    return await asyncio.to_thread(subprocess.run, [LEADCALL, *args], env=env, capture_output=True, text=True,
                                   timeout=60, check=False)


async def test_cli_refuses_short_and_common_passwords(settings: Settings, world: TenantWorld) -> None:
    email = f"weak-{uuid.uuid4().hex[:8]}@example.com"
    for weak, says in (("x", "at least 10 characters"), ("1234567890", "most common")):
        done = await leadcall(settings, "user", "create", "--tenant", world.tenant_id, "--org", world.org_id,
                              "--email", email, "--name", "Weak", password=weak)
        assert done.returncode == 1 and says in done.stderr, done.stderr
        done = await leadcall(settings, "user", "set-password", "--email", world.member.email, password=weak)
        assert done.returncode == 1 and says in done.stderr, done.stderr


async def test_cli_sets_a_password_and_prints_a_reset_link(settings: Settings, client: httpx.AsyncClient,
                                                           world: TenantWorld, clock: ManualClock) -> None:
    from tests.factories import PASSWORD

    assert (await client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
            ).status_code == 200
    done = await leadcall(settings, "user", "set-password", "--email", world.member.email, password="set by the cli")
    assert done.returncode == 0, done.stderr
    assert "sessions ended: 1" in done.stdout
    assert (await client.get("/api/me")).status_code == 401, "the user's sessions ended"
    assert (await client.post("/api/auth/login", json={"email": world.member.email, "password": "set by the cli"})
            ).status_code == 200

    # The command runs on the real clock; the app on the tests' clock, which earlier tests moved on
    # (simulated calls): the link must still be valid at the app's "now".
    ahead = max(0, int(clock.now() - time.time()))
    done = await leadcall(settings, "user", "reset-link", "--email", world.member.email,
                          extra_env={"LEADCALL_PASSWORD_RESET_VALID_SECONDS": str(ahead + 3600)})
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("http://testserver/password-reset/")
    r = await client.post("/api/auth/password-reset", json={"token": url.rsplit("/", 1)[1],
                                                            "newPassword": "set through the link"})
    assert r.status_code == 204, r.text
    assert (await client.post("/api/auth/login", json={"email": world.member.email, "password": "set through the link"})
            ).status_code == 200


async def test_usage_verify_finds_a_wrong_rollup_and_rebuild_mends_it(settings: Settings, app: FastAPI,
                                                                       world: TenantWorld) -> None:
    async with transaction(app.state.container.sessionmaker) as session:
        session.add(UsageRollup(tenant_id=world.tenant_id, day=date(2026, 2, 2), organization_id=world.org_id,
                                dimension="outcome", key="busy", label="", calls=1, answered=0, seconds=0,
                                cost_units=5))
    env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url}

    def usage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([LEADCALL, "usage", *args, "--tenant", world.tenant_id], env=env, capture_output=True,
                              text=True, timeout=60, check=False)

    wrong = await asyncio.to_thread(usage, "verify")
    assert wrong.returncode == 1, wrong.stderr
    assert "2026-02-02" in wrong.stdout and "1 difference(s)" in wrong.stdout
    assert (await asyncio.to_thread(usage, "rebuild")).returncode == 0
    right = await asyncio.to_thread(usage, "verify")
    assert right.returncode == 0, right.stdout
    assert "0 difference(s)" in right.stdout
