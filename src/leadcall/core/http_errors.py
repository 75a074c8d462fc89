"""Renders the error family as JSON `{error, detail}` for the API."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadcall.core.errors import LeadcallError

log = logging.getLogger("leadcall")

_HTTP_NAMES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "rate_limited"}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "request"


def validation_detail(errors: list[Any]) -> tuple[str, list[dict[str, str]]]:
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "is invalid"))}
              for e in errors]
    return "; ".join(f"{f['field']}: {f['message']}" for f in fields), fields


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LeadcallError)
    async def _leadcall(request: Request, exc: LeadcallError) -> Response:
        return JSONResponse(exc.to_json(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail, fields = validation_detail(list(exc.errors()))
        return JSONResponse({"error": "invalid", "detail": detail, "fields": fields}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such page or API route"
        return JSONResponse({"error": _HTTP_NAMES.get(exc.status_code, "error"), "detail": detail},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal", "detail": "something went wrong on our side; it has been logged"},
                            status_code=500)
