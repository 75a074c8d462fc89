"""OpenTelemetry traces: off by default, on with the standard `OTEL_*` environment settings.

Which settings turn them on, and which ones the OpenTelemetry SDK reads itself:
- `OTEL_TRACES_EXPORTER=otlp` (OTLP over HTTP/protobuf, to `OTEL_EXPORTER_OTLP_ENDPOINT` or
  `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, with `OTEL_EXPORTER_OTLP_HEADERS`…) or `console` (spans printed on
  stdout). Unset or `none`: no traces. This default differs from the SDK's (`otlp`) on purpose: a process
  nobody asked to trace exports nothing and pays nothing.
- `OTEL_SDK_DISABLED=true` turns them off whatever the exporter says.
- `OTEL_SERVICE_NAME` (default `leadcall`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)` and
  `OTEL_BSP_*` are read by the SDK as usual.

What is traced once `configure_tracing` has run in the process (`create_app` for `leadcall serve`, `runtime`
for `leadcall worker`): every HTTP request the app serves (`instrument_asgi`, named by its route template),
the SQL of the engines `runtime` builds (`instrument_engine`), the requests of the provider and outgoing-
webhook clients (`instrument_http`), and every job run (`job_span`), whose parent is the request that enqueued
it: the W3C trace context rides in the job carrier (`trace_carrier`, through `observability.job_carrier`) in
both the in-process runner and arq.

Off, every function here is a check of one module variable: the OpenTelemetry packages (the `traces` extra)
are not even imported, and nothing is wrapped. The provider is process-wide state because the OpenTelemetry
context is; it is kept here instead of in OpenTelemetry's global (which can be set once) so a test can
configure it with an in-memory exporter and `shutdown_tracing` afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    import httpx
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

EXPORTERS = ("otlp", "console", "none")
TRACER = "leadcall"

_provider: TracerProvider | None = None


def wanted_exporter(environ: Mapping[str, str] = os.environ) -> str | None:
    """The exporter the environment asks for, or None when traces stay off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "none"
    if exporter not in EXPORTERS:
        raise RuntimeError(f"OTEL_TRACES_EXPORTER={exporter} is not supported by leadcall; use one of "
                           f"{', '.join(EXPORTERS)}")
    return None if exporter == "none" else exporter


def enabled() -> bool:
    return _provider is not None


def configure_tracing(exporter: SpanExporter | None = None) -> bool:
    """Turns traces on for this process: with `exporter` (tests: an in-memory one, spans exported as each
    ends), else as the `OTEL_*` environment says (batched). Once on, later calls change nothing. Returns
    whether traces are on."""
    global _provider
    if _provider is not None:
        return True
    kind = None if exporter is not None else wanted_exporter()
    if exporter is None and kind is None:
        return False
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
    except ImportError:
        raise RuntimeError(f"OTEL_TRACES_EXPORTER={kind} asks for traces, but leadcall's `traces` extra is not "
                           "installed: pip install 'leadcall[traces]'") from None

    resource = Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "leadcall"})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif kind == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _provider = provider
    return True


def shutdown_tracing() -> None:
    """Exports what is pending and turns traces off (objects instrumented meanwhile keep their spans going
    to the old provider, which drops them)."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def instrument_asgi(app: ASGIApp) -> ASGIApp:
    """`app` with a server span around each HTTP request, named `METHOD /route/{template}` once the router has
    found the route (never the path full of ids; a request no route takes keeps the bare method)."""
    if _provider is None:
        return app
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        span = trace.get_current_span()

        async def send_named(message: Message) -> None:
            # By the answer's start the router has written the route it took into this very scope (the ids of
            # the log lines come the same way); the span ends with the answer, so it is named now.
            route: str | None = getattr(scope.get("route"), "path", None)
            if message["type"] == "http.response.start" and route:
                span.update_name(f"{scope['method']} {route}")
                span.set_attribute("http.route", route)
            await send(message)

        await app(scope, receive, send_named)

    def details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return str(scope.get("method") or scope["type"]), {}

    return OpenTelemetryMiddleware(named, default_span_details=details, tracer_provider=_provider,
                                   exclude_spans=["receive", "send"])


def instrument_engine(engine: AsyncEngine) -> None:
    """A span for each SQL statement of `engine` (the statement, never its parameters)."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    # EngineTracer directly: SQLAlchemyInstrumentor is a process singleton that instruments one engine only once.
    # Its connection-usage metric goes nowhere: metrics are Prometheus's (core/metrics.py).
    usage = NoOpMeter(TRACER).create_up_down_counter("db.client.connections.usage")
    EngineTracer(_provider.get_tracer(TRACER), engine.sync_engine,  # type: ignore[no-untyped-call] # untyped upstream
                 connections_usage=usage)


def instrument_http(client: httpx.AsyncClient) -> None:
    """A client span for each request of `client`, its trace context sent along (`traceparent`). Its URL
    attribute is kept without the query: a tenant's webhook URL may carry a token there."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor, RequestInfo
    from opentelemetry.trace import Span

    async def without_query(span: Span, request: RequestInfo) -> None:
        if span.is_recording():
            url = str(request.url).split("?", 1)[0]
            span.set_attributes({"http.url": url, "url.full": url})

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=_provider, request_hook=without_query)


def trace_carrier() -> dict[str, str]:
    """The W3C trace context of the span running now (`traceparent`, `tracestate`), for a job to carry."""
    if _provider is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


@contextmanager
def job_span(name: str, carrier: Mapping[str, str] | None) -> Iterator[None]:
    """The span of one job run, a child of the span whose context `carrier` holds (else of the span running
    now, if any)."""
    if _provider is None:
        yield
        return
    from opentelemetry import context, trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = TraceContextTextMapPropagator().extract(dict(carrier)) if carrier and "traceparent" in carrier \
        else context.get_current()
    tracer = _provider.get_tracer(TRACER)
    with tracer.start_as_current_span(f"job {name}", context=parent, kind=trace.SpanKind.CONSUMER,
                                      attributes={"leadcall.job": name}):
        yield
