"""Outgoing webhooks' tests run on a server of their own: private targets allowed (the receiver listens on
127.0.0.1), no background worker, a clock of its own; sending is driven by the tests (`deliveries_at`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from leadcall.kit.clock import ManualClock
from leadcall.settings import Settings
from tests.factories import TenantWorld, make_world
from tests.integrations.receiver import Receiver, start_receiver
from tests.live import CallWorld, LiveServer, make_call_world, start_live


@pytest.fixture(scope="session")
async def hooks_live(settings: Settings) -> AsyncIterator[LiveServer]:
    server = await start_live(settings.model_copy(update={"allow_private_targets": True}),
                              ManualClock(start=time.time()))
    yield server
    await server.stop()


@pytest.fixture
async def hooks_client(hooks_live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hooks_live.url, timeout=30) as c:
        yield c


@pytest.fixture
async def hooks_world(hooks_live: LiveServer) -> TenantWorld:
    return await make_world(hooks_live.app)


@pytest.fixture
async def hooks_other_world(hooks_live: LiveServer) -> TenantWorld:
    return await make_world(hooks_live.app, name="Other Tenant")


@pytest.fixture
async def hooks_cw(hooks_live: LiveServer, hooks_client: httpx.AsyncClient) -> CallWorld:
    return await make_call_world(hooks_live, hooks_client)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found, stop = await start_receiver()
    yield found
    await stop()
