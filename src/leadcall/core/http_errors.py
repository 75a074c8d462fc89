"""Renders the error family as JSON `{error, detail}` for the API, and documents that envelope in the OpenAPI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
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


class FieldProblem(BaseModel):
    field: str = Field(description="The field, as the request names it (dotted for nested values).")
    message: str = Field(description="The problem in English.")
    code: str = Field(description="pydantic's error type (string_too_long, missing, ...) or one of ours "
                                  "(forbidden_character {character}).")
    params: dict[str, Any] = Field(description="The values the code's sentence names.")


class Error(BaseModel):
    """Every error the API answers, whatever its status."""

    model_config = ConfigDict(extra="allow")  # errors may carry more: retryAfterSeconds, reasonCode, ...

    error: str = Field(description="The kind of error: invalid, not_found, unauthenticated, rate_limited, ...")
    detail: str = Field(description="A sentence a person can act on, in English.")
    code: str | None = Field(default=None, description="Errors a user can cause: the stable name of the case.")
    params: dict[str, Any] | None = Field(default=None, description="The values the code's sentence names.")
    fields: list[FieldProblem] | None = Field(default=None, description="422: each field's problem.")


_DESCRIPTIONS = {400: "Bad request", 401: "Not signed in, or the token is unknown, revoked or expired",
                 402: "The budget is spent", 403: "The caller's role may not do this", 404: "Not found (also "
                 "another tenant's ids)", 405: "Method not allowed", 409: "Conflicts with the current state",
                 413: "The request is too large", 422: "The input is invalid; `fields` names each problem",
                 424: "The ElevenLabs account needs attention (key, permissions)", 429: "Too many requests; "
                 "see Retry-After", 500: "Our fault; it has been logged", 503: "A service we depend on is "
                 "not answering; try again later"}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given statuses, each answered with the error envelope."""
    return {status: {"model": Error, "description": _DESCRIPTIONS[status],
                     **({"headers": _RETRY_AFTER} if status == 429 else {})} for status in statuses}


# What any route of the API can answer besides its own success (and any error a route adds, e.g. 402).
API_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 500, 503)

# (request, status, detail, code): errors the framework raises (no route, our fault) name a code for the pages to
# word them in their language; LeadcallErrors reach the pages already worded (web/forms.py).
HtmlRenderer = Callable[[Request, int, str, str | None], Response]


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/sim/", "/openapi.json", "/docs"))


def install_error_handlers(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """The same errors, rendered as JSON for the API and as a page or toast for the web app."""

    def respond(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
                page_code: str | None = None) -> Response:
        if html is not None and _wants_html(request):  # the web app's renderer also sends a 401 to sign in
            return html(request, status, str(body.get("detail", "")), page_code)
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
        body: dict[str, Any] = {"error": _HTTP_NAMES.get(exc.status_code, "error"), "detail": detail}
        if exc.status_code == 404 and detail == "Not Found":
            body.update(detail="no such page or API route", code="no_route")
        return respond(request, exc.status_code, body, getattr(exc, "headers", None), body.get("code"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = {"error": "internal", "code": "internal", "detail": "something went wrong on our side; it has been logged"}
        return respond(request, 500, body, page_code="internal")
