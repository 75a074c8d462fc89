"""Fixtures for provider tests: an ElevenLabs provider over `httpx.MockTransport` that
records every request, so tests assert exactly what would go on the wire."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from leadcall.kit.clock import ManualClock
from leadcall.voice.providers.elevenlabs import ElevenLabsProvider
from tests.simulator.openapi_check import spec
from tests.voice.providers.wire import Handler, Recorder, Rig, make_settings

RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def rig() -> AsyncIterator[RigFactory]:
    """`await rig(handler, **settings_overrides)` builds a provider over a recording transport."""
    made: list[tuple[ElevenLabsProvider, httpx.AsyncClient]] = []

    async def build(handler: Handler, **overrides: Any) -> Rig:
        recorder = Recorder(handler)
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        clock = ManualClock(start=time.time())
        sleeps: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        provider = ElevenLabsProvider(make_settings(**overrides), clock=clock, http=http, sleep=fake_sleep)
        made.append((provider, http))
        return Rig(provider=provider, recorder=recorder, clock=clock, sleeps=sleeps)

    yield build
    for provider, http in made:
        await provider.aclose()
        await http.aclose()


@pytest.fixture(scope="session")
def openapi_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = spec()["components"]["schemas"]
    return schemas

