"""Shared set-up for the benchmarks: a migrated database, a tenant with a member and an
ElevenLabs account on the simulator, served over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import uvicorn

from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import Role
from leadcall.voice import service as voice
from leadcall.voice.schemas import AccountCreate
from leadcall.voice.targets import ProviderTargets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", access_log=False))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    server.task = task  # type: ignore[attr-defined]
    return server


@dataclass
class Tenant:
    tenant_id: str
    token: str
    admin_token: str
    account_id: str | None = None


async def make_tenant(sessionmaker: Any, box: Any = None, *, sim_base_url: str | None = None,
                      api_key: str | None = None, webhook_secret: str | None = None,
                      targets: ProviderTargets | None = None) -> Tenant:
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:8]
    async with transaction(sessionmaker) as session:
        t = await tenancy.create_tenant(session, name=f"Bench {suffix}", now=now)
        scope = Scope(t.id)
        org = await tenancy.create_organization(session, scope, name="Sales", now=now)
        member = await tenancy.create_user(session, scope, email=f"m-{suffix}@bench.test", name="M", password=None,
                                           role=Role.member, organization_id=org.id, now=now)
        admin = await tenancy.create_user(session, scope, email=f"a-{suffix}@bench.test", name="A", password=None,
                                          role=Role.admin, organization_id=org.id, now=now)
        _, token = await tenancy.create_token(session, scope, user_id=member.id, name="bench", now=now)
        _, admin_token = await tenancy.create_token(session, scope, user_id=admin.id, name="bench", now=now)
        account_id = None
        if sim_base_url and api_key and box is not None and targets is not None:
            account = await voice.create_account(session, scope, box, AccountCreate(
                name="Bench", api_key=api_key, webhook_secret=webhook_secret, base_url=sim_base_url,
                concurrency_limit=1000), now, targets=targets)
            account_id = account.id
    return Tenant(t.id, token, admin_token, account_id)


async def rate(label: str, jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> float:
    """Runs the jobs with bounded concurrency; returns jobs per second."""
    queue = list(jobs)
    started = time.perf_counter()

    async def runner() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return len(jobs) / (time.perf_counter() - started)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> str:
    return (f"p50 {p(values, 0.5) * 1000:.1f} ms, p99 {p(values, 0.99) * 1000:.1f} ms, "
            f"mean {statistics.fmean(values) * 1000:.1f} ms")
