"""The multi-process tests share the database with this test process, whose own app (the session's
`app` fixture) runs an in-process worker on a ManualClock that other tests have moved hours ahead:
left running, it would take calls being dialled for abandoned ones and process the processes'
webhooks itself (its jobs and events staying in this process). It is paused for each test here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI


@pytest.fixture(autouse=True)
async def no_test_process_worker(app: FastAPI) -> AsyncIterator[None]:
    await app.state.worker.stop()
    yield
    app.state.worker.start()
