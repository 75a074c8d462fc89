"""Helpers of the outgoing webhooks' tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from leadcall.integrations.delivery import TIMEOUT_SECONDS, WebhookDeliveries
from leadcall.integrations.targets import WebhookTargets
from leadcall.kit.clock import Clock
from leadcall.kit.outbound import GuardedTransport
from tests.factories import Actor


@asynccontextmanager
async def deliveries_at(app: FastAPI, clock: Clock, *, allow_private: bool = True) -> AsyncIterator[WebhookDeliveries]:
    """A sender on the app's database, with its own clock and connection pool, that sends due deliveries
    itself (no job queue): a worker the test drives. Each one is another worker process as far as the
    deliveries' leases are concerned."""
    targets = WebhookTargets(allow_private)
    async with httpx.AsyncClient(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=5.0), follow_redirects=False,
                                 transport=GuardedTransport(targets.policy)) as http:
        container = app.state.container
        yield WebhookDeliveries(sessionmaker=container.sessionmaker, secret_box=container.secret_box, clock=clock,
                                http=http, targets=targets, events=app.state.events, jobs=None)


async def add_endpoint(client: httpx.AsyncClient, admin: Actor, url: str, **fields: Any) -> dict[str, Any]:
    r = await client.post("/api/webhook-endpoints", json={"url": url, **fields}, headers=admin.headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def deliveries_of(client: httpx.AsyncClient, admin: Actor, endpoint_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/webhook-endpoints/{endpoint_id}/deliveries", headers=admin.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items
