"""OpenTelemetry traces: one placement is one trace from the request to the provider's answer; a webhook's
processing job is a child of the webhook request; off, nothing is traced."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from leadcall.core import tracing
from leadcall.core.observability import current_ids, job_carrier
from leadcall.kit.clock import ManualClock
from leadcall.settings import Settings
from leadcall.worker import job
from tests.live import LiveServer, finish_jobs, make_call_world, play, start_live


@pytest.fixture(scope="module")
async def traced_live(settings: Settings) -> AsyncIterator[tuple[InMemorySpanExporter, LiveServer]]:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing(exporter)
    # In-process jobs even on a Redis run: no arq worker serves the tests' queue (the arq wrapper is tested below).
    server = await start_live(settings, ManualClock(start=time.time()), redis_url=None)
    try:
        yield exporter, server
    finally:
        await server.stop()
        tracing.shutdown_tracing()


def url_of(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("url.full") or attributes.get("http.url") or "")


def in_trace(spans: tuple[ReadableSpan, ...], root: ReadableSpan) -> list[ReadableSpan]:
    assert root.context is not None
    return [s for s in spans if s.context is not None and s.context.trace_id == root.context.trace_id]


async def test_a_placement_is_one_trace_from_the_request_to_the_provider(
        traced_live: tuple[InMemorySpanExporter, LiveServer]) -> None:
    exporter, live = traced_live
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        cw = await make_call_world(live, client)
        exporter.clear()
        placed = await client.post(f"/api/leads/{cw.world.lead_ids[0]}/call", json={"agentId": cw.agent_ids[0]},
                                   headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    spans = exporter.get_finished_spans()
    [request] = [s for s in spans if s.name == "POST /api/leads/{lead_id}/call" and s.kind == SpanKind.SERVER]
    assert request.parent is None
    trace = in_trace(spans, request)
    sql = [s for s in trace if "db.statement" in (s.attributes or {})]
    assert any("INSERT INTO call_logs" in str((s.attributes or {})["db.statement"]) for s in sql)
    provider = [s for s in trace if s.kind == SpanKind.CLIENT and "/sim/" in url_of(s)]
    assert provider, [s.name for s in trace]
    assert not [url_of(s) for s in spans if "?" in url_of(s)]  # a query may hold a token: never in a span
    # The provider (the simulator, mounted in the same app) received the trace context with the request.
    assert any(s.kind == SpanKind.SERVER and s is not request for s in trace)


async def test_a_webhook_and_the_job_that_processes_it_share_a_trace(
        traced_live: tuple[InMemorySpanExporter, LiveServer]) -> None:
    exporter, live = traced_live
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        cw = await make_call_world(live, client)
        placed = await client.post(f"/api/leads/{cw.world.lead_ids[0]}/call", json={"agentId": cw.agent_ids[0]},
                                   headers=cw.world.member.headers)
        assert placed.status_code == 200, placed.text
        exporter.clear()
        await play(live, 120)
        await finish_jobs(live)
    spans = exporter.get_finished_spans()
    webhooks = [s for s in spans if s.kind == SpanKind.SERVER and s.name.startswith("POST /api/webhooks/elevenlabs")]
    assert webhooks, sorted({s.name for s in spans})
    webhook_traces = {w.context.trace_id for w in webhooks if w.context is not None}
    jobs = [s for s in spans if s.name == "job process_webhook" and s.context is not None
            and s.context.trace_id in webhook_traces]
    assert jobs, sorted({s.name for s in spans})
    for run in jobs:
        assert run.parent is not None  # the webhook request's span, carried into the job
        assert any("db.statement" in (s.attributes or {}) and s.parent is not None
                   and run.context is not None and s.parent.span_id == run.context.span_id for s in in_trace(spans, run))


async def test_an_arq_job_run_elsewhere_is_a_child_of_the_span_that_enqueued_it(
        traced_live: tuple[InMemorySpanExporter, LiveServer]) -> None:
    exporter, _ = traced_live
    assert tracing._provider is not None
    seen: list[str | None] = []

    async def run(ctx: dict[str, Any], delivery_id: str) -> None:
        seen.append(current_ids()["request_id"])

    wrapped = job("process_webhook")(run)
    with tracing._provider.get_tracer("test").start_as_current_span("enqueuing request") as request:
        carrier = job_carrier()
    assert "traceparent" in carrier
    exporter.clear()
    # The worker process knows nothing of the request but its carrier: a fresh context stands for it.
    await contextvars.Context().run(asyncio.ensure_future, wrapped({}, "delivery-1", carrier=carrier))
    [span] = [s for s in exporter.get_finished_spans() if s.name == "job process_webhook"]
    assert span.parent is not None and span.parent.span_id == request.get_span_context().span_id
    assert span.context is not None and span.context.trace_id == request.get_span_context().trace_id
    assert seen == [carrier["request_id"]]


def test_traces_stay_off_without_an_exporter_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert tracing.wanted_exporter() is None
    assert tracing.wanted_exporter({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}) is None
    assert tracing.wanted_exporter({"OTEL_TRACES_EXPORTER": "otlp"}) == "otlp"
    with pytest.raises(RuntimeError, match="OTEL_TRACES_EXPORTER=jaeger is not supported"):
        tracing.wanted_exporter({"OTEL_TRACES_EXPORTER": "jaeger"})
