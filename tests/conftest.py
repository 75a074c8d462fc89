"""Shared test wiring: a migrated database (SQLite by default, PostgreSQL when
LEADCALL_TEST_DATABASE_URL says so), the app over ASGI, and small typed factories.

Tests isolate themselves by creating their own tenant, so no table is truncated
between tests.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.app import create_app
from leadcall.core.db import transaction
from leadcall.core.migrate import upgrade
from leadcall.core.secrets import SecretBox
from leadcall.kit.clock import ManualClock
from leadcall.settings import Settings
from tests import pg_admin
from tests.factories import TenantWorld, make_world
from tests.live import CallWorld, LiveServer, make_call_world, start_live

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _ensure_postgres() -> None:
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode != 0:
        subprocess.run("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
                       shell=True, check=False)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    wanted = os.environ.get("LEADCALL_TEST_DATABASE_URL", "sqlite")
    if wanted == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadcall-test-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'test.db'}"
            upgrade(url)
            yield url
        return
    # A throwaway PostgreSQL database per run, so parallel runs never collide.
    _ensure_postgres()
    name = f"leadcall_test_{uuid.uuid4().hex[:10]}"
    pg_admin.execute(PG_ADMIN_URL, f'CREATE DATABASE "{name}"')
    url = wanted.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        pg_admin.execute(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    import time

    return ManualClock(start=time.time())


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_keys=SecretBox.generate_key(),
                    session_secret="test-session-secret", public_base_url="http://testserver")


@pytest.fixture(scope="session")
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    async with transaction(app.state.container.sessionmaker) as s:
        yield s


@pytest.fixture
async def world(app: FastAPI) -> TenantWorld:
    return await make_world(app)


@pytest.fixture
async def other_world(app: FastAPI) -> TenantWorld:
    return await make_world(app, name="Other Tenant")


@pytest.fixture(scope="session")
async def live(settings: Settings, clock: ManualClock) -> AsyncIterator[LiveServer]:
    server = await start_live(settings, clock)
    yield server
    await server.stop()


@pytest.fixture
async def live_client(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as c:
        yield c


@pytest.fixture
async def cw(live: LiveServer, live_client: httpx.AsyncClient) -> CallWorld:
    return await make_call_world(live, live_client)
