"""Request ids and the ids every log line of a request carries.

`RequestContext` (a pure ASGI middleware, so streamed answers keep streaming) gives each HTTP request an id:
the caller's `X-Request-ID` when it is a sane one, else a new one; the answer carries it back. While the
request runs, every log record is stamped (by a log record factory, so any handler sees the fields, test
captures included) with `request_id`, the `tenant_id` of the signed-in principal once it is known, and the
`call_id` of the route's path or of `bind`/`tag`. Jobs open their own `bind` block (the in-process runner and
the arq worker's wrapper), carrying the request id of the request that enqueued them, and `tag` the tenant and
call once they have loaded them.

Secrets and phone numbers never reach a log line in clear: the same record factory runs `redact` over the
message, its arguments and the traceback of every record, whichever logger made it (ours, SQLAlchemy's
parameters, httpx's URLs, uvicorn's access lines), before any handler sees it. Phone numbers keep their first
four and last four digits (`+1202•••0122`), keys and tokens their kind (`sk_•••`), and the value of any
`password=`, `api_key: …`, `Authorization: Bearer …` pair is masked.

Why the standard library and not structlog: every library we run already logs through `logging`, and the one
record factory stamps ids and redacts for all of them; structlog would still need this bridge for them, for a
second API in our own code. `configure_logging` sets the format: one JSON object a line
(`LEADCALL_LOG_FORMAT=json`, for production) or readable lines with the ids in brackets (the default, the demo).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadcall.core import tracing

HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128
FIELDS = ("request_id", "tenant_id", "call_id")

_request_id: ContextVar[str | None] = ContextVar("leadcall_request_id", default=None)
# Ids bound by a job or tagged by the code that learnt them (a placement's new call): one dict a block.
_bound: ContextVar[dict[str, str] | None] = ContextVar("leadcall_bound_ids", default=None)
# The request's ASGI scope: the router adds the path parameters to it, the principal lands in its state.
_scope: ContextVar[MutableMapping[str, Any] | None] = ContextVar("leadcall_scope", default=None)


def sane_request_id(value: str | None) -> str | None:
    """The caller's id if it is short and printable ASCII without spaces (it goes into logs and headers)."""
    if not value or len(value) > MAX_REQUEST_ID_LENGTH:
        return None
    return value if all("!" <= ch <= "~" for ch in value) else None


def current_ids() -> dict[str, str | None]:
    """The ids of the request or job running now (None where there is none)."""
    scope = _scope.get()
    bound = _bound.get() or {}
    tenant_id = call_id = None
    if scope is not None:
        principal = scope.get("state", {}).get("principal")
        tenant_id = getattr(principal, "tenant_id", None)
        call_id = scope.get("path_params", {}).get("call_id")
    return {"request_id": bound.get("request_id") or _request_id.get(),
            "tenant_id": bound.get("tenant_id") or tenant_id, "call_id": bound.get("call_id") or call_id}


@contextmanager
def bind(**ids: str | None) -> Iterator[None]:
    """Log lines inside the block carry these ids (`request_id`, `tenant_id`, `call_id`) on top of the ids
    there were; `tag` inside the block adds to it alone (a job run in a task copied from a request's context
    does not write into the request's ids)."""
    token = _bound.set({**(_bound.get() or {}), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _bound.reset(token)


def tag(**ids: str | None) -> None:
    """From here on, the lines of this request or `bind` block carry these ids too (a call just created)."""
    bound = _bound.get()
    if bound is None:
        bound = {}
        _bound.set(bound)
    bound.update({k: v for k, v in ids.items() if v})


def job_carrier() -> dict[str, str]:
    """What a job enqueued now carries from its request: the request id (a new one outside any request), and
    the trace context when traces are on."""
    return {"request_id": current_ids()["request_id"] or f"job-{uuid.uuid4().hex}", **tracing.trace_carrier()}


@contextmanager
def running_job(name: str, carrier: Mapping[str, str] | None) -> Iterator[None]:
    """The block of one job run: its lines carry the enqueuing request's id (without a carrier, the id of the
    request or job it runs in, else a new one), and the ids it `tag`s stay its own; with traces on, its span
    is a child of the enqueuing request's."""
    given = sane_request_id((carrier or {}).get("request_id")) or current_ids()["request_id"]
    with bind(request_id=given or f"job-{uuid.uuid4().hex}"), tracing.job_span(name, carrier):
        yield


class RequestContext:
    """Sets the request id for the request's log lines and returns it as `X-Request-ID` on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = sane_request_id(given) or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        id_token, scope_token, bound_token = _request_id.set(request_id), _scope.set(scope), _bound.set({})
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(id_token)
            _scope.reset(scope_token)
            _bound.reset(bound_token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the ids there are, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({name: value for name in FIELDS if (value := getattr(record, name, None))})
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    """`time LEVEL logger [request_id=… tenant_id=… call_id=…] message`, naming only the ids there are."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{name}={value}" for name in FIELDS if (value := getattr(record, name, None)))
        record.ids = f" [{ids}]" if ids else ""
        return super().format(record)


MASK = "•••"
_PHONE = re.compile(r"(?:\+|%2[Bb])\d(?:[\s().-]{0,2}\d){6,16}")
_NATIONAL = re.compile(r"\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")  # (202) 555-0122, 202.555.0122
_KEY = re.compile(r"\b(sk|wsec|whsec|lc)_[A-Za-z0-9_-]{6,}")
_PAIR = re.compile(r"(?i)((?:password|passwd|secret|api[_-]?key|apikey|token|auth[_-]?token|authorization|cookie|"
                   r"session|csrf[_-]?token)[\w-]*[\"']?\s*[:=]\s*[\"']?)"
                   r"(?:bearer\s+|basic\s+)?[^\s\"'&,;)}\]]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+(?!•••)[A-Za-z0-9._~+/=-]{6,}")


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0).replace("%2B", "").replace("%2b", ""))
    return f"+{digits[:4]}{MASK}{digits[-4:]}" if len(digits) > 8 else f"+{MASK}"


def redact(text: str) -> str:
    """`text` with phone numbers, keys, tokens and the values of secret-named pairs masked."""
    text = _KEY.sub(lambda m: f"{m.group(1)}_{MASK}", text)
    text = _PAIR.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _PHONE.sub(_phone, text)
    return _NATIONAL.sub(lambda m: f"{MASK}{m.group(0)[-4:]}", text)


def _redacted_arg(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value  # formatted with %d, %.2f …: kept as they are
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked


_base_factory = logging.getLogRecordFactory()


def _record_with_ids(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    for name, value in current_ids().items():
        setattr(record, name, value)
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redacted_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redacted_arg(v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[1] is not None:
        # Formatted now, redacted once: every handler's formatter uses `exc_text` as it is.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


class _LeadcallHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure_logging` installed, so configuring again replaces it."""


def configure_logging(log_format: str) -> None:
    """Stamps the ids on every record, redacts it, and prints, in the chosen format, leadcall's lines (INFO and
    up) and every library's warnings: the one handler is the root logger's (uvicorn's own loggers keep theirs)."""
    logging.setLogRecordFactory(_record_with_ids)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _LeadcallHandler)]:
        root.removeHandler(handler)
    handler = _LeadcallHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else ReadableFormatter())
    root.addHandler(handler)
    logger = logging.getLogger("leadcall")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
