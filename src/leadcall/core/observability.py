"""Request ids and the ids every log line of a request carries.

`RequestContext` (a pure ASGI middleware, so streamed answers keep streaming) gives each HTTP request an id:
the caller's `X-Request-ID` when it is a sane one, else a new one; the answer carries it back. While the
request runs, every log record is stamped (by a log record factory, so any handler sees the fields, test
captures included) with `request_id`, the `tenant_id` of the signed-in principal once it is known, and the
`call_id` of the route's path or of `bind_call`. Jobs bind their ids with `bind_call` too.

`configure_logging` sets the format: one JSON object a line (`LEADCALL_LOG_FORMAT=json`, for production) or
readable lines with the ids in brackets (the default, for the demo).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128
FIELDS = ("request_id", "tenant_id", "call_id")

_request_id: ContextVar[str | None] = ContextVar("leadcall_request_id", default=None)
_call_id: ContextVar[str | None] = ContextVar("leadcall_call_id", default=None)
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
    tenant_id = call_id = None
    if scope is not None:
        principal = scope.get("state", {}).get("principal")
        tenant_id = getattr(principal, "tenant_id", None)
        call_id = scope.get("path_params", {}).get("call_id")
    return {"request_id": _request_id.get(), "tenant_id": tenant_id, "call_id": _call_id.get() or call_id}


@contextmanager
def bind_call(call_id: str | None) -> Iterator[None]:
    """Log lines inside the block name this call (a job following it, a webhook about it)."""
    token = _call_id.set(call_id)
    try:
        yield
    finally:
        _call_id.reset(token)


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

        id_token, scope_token = _request_id.set(request_id), _scope.set(scope)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(id_token)
            _scope.reset(scope_token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the ids there are, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update({name: value for name in FIELDS if (value := getattr(record, name, None))})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    """`time LEVEL logger [request_id=… tenant_id=… call_id=…] message`, naming only the ids there are."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{name}={value}" for name in FIELDS if (value := getattr(record, name, None)))
        record.ids = f" [{ids}]" if ids else ""
        return super().format(record)


_base_factory = logging.getLogRecordFactory()


def _record_with_ids(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    for name, value in current_ids().items():
        setattr(record, name, value)
    return record


class _LeadcallHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure_logging` installed, so configuring again replaces it."""


def configure_logging(log_format: str) -> None:
    """Stamps the ids on every record and prints leadcall's lines (INFO and up) in the chosen format."""
    logging.setLogRecordFactory(_record_with_ids)
    logger = logging.getLogger("leadcall")
    for handler in [h for h in logger.handlers if isinstance(h, _LeadcallHandler)]:
        logger.removeHandler(handler)
    handler = _LeadcallHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else ReadableFormatter())
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
