"""Renders the error family as JSON `{error, detail}` for the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadcall.core.errors import LeadcallError, plain_params

log = logging.getLogger("leadcall")

_HTTP_NAMES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "rate_limited"}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "request"


def validation_detail(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """Each field's problem in English, with pydantic's stable `code` (its error type) and the `params` the
    sentence names, so a front end can say it in its own language."""
    fields = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "is invalid")),
               "code": str(e.get("type", "value_error")), "params": plain_params(e.get("ctx"))}
              for e in errors]
    return "; ".join(f"{f['field']}: {f['message']}" for f in fields), fields


HtmlRenderer = Callable[[Request, int, str], Response]


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/sim/", "/openapi.json", "/docs"))


def install_error_handlers(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """The same errors, rendered as JSON for the API and as a page or toast for the web app."""

    def respond(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        if html is not None and _wants_html(request):
            if status == 401:
                if request.headers.get("hx-request"):
                    return Response(status_code=204, headers={"HX-Redirect": "/login"})
                return RedirectResponse("/login", status_code=303)
            return html(request, status, str(body.get("detail", "")))
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(LeadcallError)
    async def _leadcall(request: Request, exc: LeadcallError) -> Response:
        return respond(request, exc.status_code, exc.to_json(), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail, fields = validation_detail(list(exc.errors()))
        return respond(request, 422, {"error": "invalid", "detail": detail, "fields": fields})

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> Response:
        detail, fields = validation_detail(list(exc.errors()))
        return respond(request, 422, {"error": "invalid", "detail": detail, "fields": fields})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such page or API route"
        return respond(request, exc.status_code, {"error": _HTTP_NAMES.get(exc.status_code, "error"), "detail": detail},
                       getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(request, 500, {"error": "internal",
                                      "detail": "something went wrong on our side; it has been logged"})
