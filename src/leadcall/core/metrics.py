"""The Prometheus metrics operators alert on, with bounded labels (codes and kinds, never ids).

Recorded in this process's registry, or, when `PROMETHEUS_MULTIPROC_DIR` is set (several web processes and
workers), in prometheus-client's shared files, which `exposition` then aggregates. Services mark what they
do with the decorators here, so instrumenting a shared function is one line.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from leadcall.core.errors import LeadcallError

P = ParamSpec("P")
R = TypeVar("R")

PLACEMENTS = Counter("leadcall_placements", "Call placements by result (placed, failed, refused) and code",
                     ["result", "code"])
PLACEMENT_SECONDS = Histogram("leadcall_placement_seconds", "Time to answer a placement, the dial included",
                              buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
WEBHOOKS = Counter("leadcall_webhooks_received", "Provider webhooks received by type and result",
                   ["type", "result"])
JOB_LAG = Histogram("leadcall_job_lag_seconds", "Time a job waited in its queue before it started, by job",
                    ["job"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300))
SSE_CLIENTS = Gauge("leadcall_sse_clients", "Live event streams open now", multiprocess_mode="livesum")

# The kind of the webhook being received, once its signature is checked (for the `type` label).
_webhook_kind: ContextVar[str] = ContextVar("leadcall_webhook_kind", default="unknown")


def _code(exc: BaseException) -> str:
    return (exc.code or exc.error) if isinstance(exc, LeadcallError) else "internal"


def observe_placement(place: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Counts each answer of a placement (its `success` and `code`) or its refusal, and times it."""

    @functools.wraps(place)
    async def observed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            answer = await place(*args, **kwargs)
        except Exception as exc:
            PLACEMENTS.labels("refused", _code(exc)).inc()
            raise
        finally:
            PLACEMENT_SECONDS.observe(time.perf_counter() - started)
        success = bool(getattr(answer, "success", False))
        PLACEMENTS.labels("placed" if success else "failed", getattr(answer, "code", None) or "none").inc()
        return answer

    return observed


def webhook_kind(kind: str) -> None:
    """Names the type of the webhook being received (the `type` label of its count)."""
    _webhook_kind.set(kind)


def observe_webhook(receive: Callable[P, Awaitable[dict[str, object]]]) -> Callable[P, Awaitable[dict[str, object]]]:
    """Counts each webhook received: stored, duplicate, ignored (a type we do not process) or refused."""

    @functools.wraps(receive)
    async def observed(*args: P.args, **kwargs: P.kwargs) -> dict[str, object]:
        token = _webhook_kind.set("unknown")
        try:
            answer = await receive(*args, **kwargs)
            result = "ignored" if answer.get("ignored") else "duplicate" if answer.get("duplicate") else "stored"
            WEBHOOKS.labels(_webhook_kind.get(), result).inc()
            return answer
        except Exception as exc:
            WEBHOOKS.labels(_webhook_kind.get(), f"refused_{_code(exc)}").inc()
            raise
        finally:
            _webhook_kind.reset(token)

    return observed


async def counted_stream(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """An event stream counted in `leadcall_sse_clients` while it is open."""
    SSE_CLIENTS.inc()
    try:
        async for chunk in stream:
            yield chunk
    finally:
        SSE_CLIENTS.dec()


class _Snapshot(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


def exposition(calls_live: Mapping[str, int]) -> bytes:
    """The Prometheus text of every metric, plus the live calls by status counted at this scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        source = CollectorRegistry()
        MultiProcessCollector(source)  # type: ignore[no-untyped-call]
    else:
        source = REGISTRY
    live = GaugeMetricFamily("leadcall_calls_live", "Calls not yet ended, by status", labels=["status"])
    for status, count in sorted(calls_live.items()):
        live.add_metric([status], count)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Snapshot([live]))
    return generate_latest(source) + generate_latest(scrape)


def metric_value(name: str, labels: Mapping[str, str] | None = None) -> float:
    """One sample of this process's registry (0 when not yet recorded)."""
    value: Any = REGISTRY.get_sample_value(name, dict(labels or {}))
    return float(value or 0.0)
