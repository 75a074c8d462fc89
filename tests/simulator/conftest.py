"""Fixtures: a seeded simulator (English or Spanish account) and its client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.simulator.harness import Sim, make_sim


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    made, client = await make_sim("en")
    async with client:
        yield made


@pytest.fixture
async def sim_es() -> AsyncIterator[Sim]:
    made, client = await make_sim("es")
    async with client:
        yield made
