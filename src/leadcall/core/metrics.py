"""The Prometheus metrics operators alert on, with bounded labels (codes, kinds, endpoints, never ids).

Recorded in this process's registry, or, when `PROMETHEUS_MULTIPROC_DIR` is set (several web processes and
workers: each process writes its own files in that directory, which must be empty when they start, and a
scrape of any web process aggregates them all), in prometheus-client's shared files, which `exposition`
then aggregates. Services mark what they do with the decorators here, so instrumenting a shared function is
one line. What the database knows (calls live, calls being confirmed, budget holds) and the queue's depth
are read at each scrape instead, so every process answers the same.

The one id a label may carry is an ElevenLabs account's (provider requests by account), and only when
`LEADCALL_METRICS_ACCOUNT_LABELS` asks for it; otherwise it is `all`.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import httpx
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
CALLS_ENDED = Counter("leadcall_calls_ended", "Calls that reached a final status, by status and by what told us "
                      "(webhook, poll, reconcile, api)", ["status", "source"])
WEBHOOK_APPLY_SECONDS = Histogram("leadcall_webhook_apply_seconds",
                                  "From a webhook's arrival to its effect on the call, by type", ["type"],
                                  buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600))
PROVIDER_REQUESTS = Counter("leadcall_provider_requests", "Requests to ElevenLabs (and Twilio) by account, "
                            "endpoint and HTTP status (`error`: no answer)", ["account", "endpoint", "status"])
PROVIDER_SECONDS = Histogram("leadcall_provider_request_seconds", "Time of a provider request, by endpoint",
                             ["endpoint"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RECONCILER_ACTIONS = Counter("leadcall_reconciler_actions", "What the reconciler did with a call whose dial has "
                             "no recorded answer: confirming, found, not_found, lookup_failed, given_up",
                             ["action"])
JOB_LAG = Histogram("leadcall_job_lag_seconds", "Time a job waited in its queue before it started, by job",
                    ["job"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300))
CAMPAIGN_DIALS = Counter("leadcall_campaign_dials", "Campaign attempts the dispatcher handed to placement, by result "
                         "(placed, refused) and the refusal's code", ["result", "code"])
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


_ID_SEGMENT = re.compile(r"^[A-Za-z]+_[A-Za-z0-9]+$|^(?=.*\d)[A-Za-z0-9._-]{16,}$")


def endpoint_of(path: str) -> str:
    """The endpoint a provider path names, ids replaced (`/v1/convai/conversations/{id}`), any prefix before
    the API's version dropped (a simulator's `/sim`): a bounded label."""
    at = path.find("/v1/")
    if at < 0:
        at = path.find("/2010-04-01/")
    path = path[at:] if at >= 0 else path
    return "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))


class MeteredTransport(httpx.AsyncBaseTransport):
    """Counts and times each provider request (`leadcall_provider_requests`, `leadcall_provider_request_seconds`)
    by the account the adapter named on it, its endpoint and its status."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, by_account: Callable[[], bool]) -> None:
        self._inner = inner
        self._by_account = by_account  # the operator's setting, read at each request

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        account = str(request.extensions.get("leadcall_account") or "none") if self._by_account() else "all"
        endpoint = endpoint_of(request.url.path)
        started = time.perf_counter()
        status = "error"
        try:
            response = await self._inner.handle_async_request(request)
            status = str(response.status_code)
            return response
        finally:
            PROVIDER_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
            PROVIDER_REQUESTS.labels(account, endpoint, status).inc()

    async def aclose(self) -> None:
        await self._inner.aclose()


# A gauge read at the scrape: (name, help, label names, {label values: value}).
ScrapeGauge = tuple[str, str, Sequence[str], Mapping[tuple[str, ...], float]]


class _Snapshot(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


def exposition(calls_live: Mapping[str, int], others: Sequence[ScrapeGauge] = ()) -> bytes:
    """The Prometheus text of every metric, plus the live calls by status and the `others` read at this scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        source = CollectorRegistry()
        MultiProcessCollector(source)  # type: ignore[no-untyped-call]
    else:
        source = REGISTRY
    live = GaugeMetricFamily("leadcall_calls_live", "Calls not yet ended, by status", labels=["status"])
    for status, count in sorted(calls_live.items()):
        live.add_metric([status], count)
    families = [live]
    for name, help_text, labels, values in others:
        family = GaugeMetricFamily(name, help_text, labels=list(labels))
        for label_values, value in sorted(values.items()):
            family.add_metric(list(label_values), value)
        families.append(family)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Snapshot(families))
    return generate_latest(source) + generate_latest(scrape)


def metric_value(name: str, labels: Mapping[str, str] | None = None) -> float:
    """One sample of this process's registry (0 when not yet recorded)."""
    value: Any = REGISTRY.get_sample_value(name, dict(labels or {}))
    return float(value or 0.0)
