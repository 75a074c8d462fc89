"""Every answer carries X-Request-ID; the log lines of a request carry its ids."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from leadcall.app import create_app
from leadcall.core.observability import JsonFormatter, ReadableFormatter, sane_request_id
from leadcall.settings import Settings
from leadcall.tenancy.deps import CurrentPrincipal
from tests.factories import TenantWorld, make_world

log = logging.getLogger("leadcall.test")


@pytest.fixture
async def traced(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app with two extra routes: one that logs about a call, one with a bug."""
    app = create_app(settings)
    extra = APIRouter()

    @extra.get("/api/traced/calls/{call_id}")
    async def traced_call(call_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        log.info("looking at the call")
        return {}

    @extra.get("/api/traced/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.include_router(extra)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                   base_url="http://testserver") as client:
        yield app, client


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient, world: TenantWorld) -> None:
    answers = [await client.get("/api/leads", headers=world.member.headers),  # API
               await client.get("/login"),  # page
               await client.get("/api/leads"),  # 401
               await client.get("/api/leads/nope", headers=world.member.headers),  # 404
               await client.get("/static/nope.css")]  # static
    assert [r.status_code for r in answers] == [200, 200, 401, 404, 404]
    ids = [r.headers["x-request-id"] for r in answers]
    assert all(len(i) == 32 for i in ids) and len(set(ids)) == len(ids)  # a new one each time


async def test_the_callers_sane_id_comes_back_and_an_insane_one_is_replaced(client: httpx.AsyncClient) -> None:
    r = await client.get("/health", headers={"X-Request-ID": "crm-7f3a:42"})
    assert r.headers["x-request-id"] == "crm-7f3a:42"
    for bad in ("x" * 129, "has space", "tab\there", "ñandú"):
        r = await client.get("/health", headers={"X-Request-ID": bad.encode("utf-8")})
        assert r.headers["x-request-id"] != bad and len(r.headers["x-request-id"]) == 32
    assert sane_request_id("x" * 128) == "x" * 128


async def test_log_lines_of_a_request_carry_its_ids(traced: tuple[FastAPI, httpx.AsyncClient],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    app, client = traced
    world = await make_world(app)
    caplog.set_level(logging.INFO, logger="leadcall")
    r = await client.get("/api/traced/calls/call-123", headers={**world.member.headers, "X-Request-ID": "req-1"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-1"
    [record] = [rec for rec in caplog.records if rec.name == "leadcall.test"]
    assert (record.request_id, record.tenant_id, record.call_id) == ("req-1", world.tenant_id, "call-123")
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "looking at the call" and line["level"] == "INFO"
    assert (line["request_id"], line["tenant_id"], line["call_id"]) == ("req-1", world.tenant_id, "call-123")
    assert ReadableFormatter().format(record).endswith(
        f"leadcall.test [request_id=req-1 tenant_id={world.tenant_id} call_id=call-123] looking at the call")


async def test_a_server_error_and_its_log_line_carry_the_id(traced: tuple[FastAPI, httpx.AsyncClient],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    _, client = traced
    r = await client.get("/api/traced/boom", headers={"X-Request-ID": "req-boom"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "req-boom"
    [record] = [rec for rec in caplog.records if rec.getMessage().startswith("unhandled error")]
    assert record.request_id == "req-boom" and record.tenant_id is None and record.call_id is None
    assert "RuntimeError: a bug" in json.loads(JsonFormatter().format(record))["exception"]


def test_lines_outside_a_request_name_no_ids() -> None:
    record = log.makeRecord("leadcall.test", logging.INFO, __file__, 1, "a chore ran", (), None)
    assert "request_id" not in json.loads(JsonFormatter().format(record))
    assert ReadableFormatter().format(record).endswith("leadcall.test a chore ran")
