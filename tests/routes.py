"""Every documented HTTP operation of an app, read from its OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from leadcall.public import PUBLIC_ROUTERS

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def api_operations(app: FastAPI) -> list[tuple[str, str]]:
    app.openapi_schema = None  # routes added by a test must show up
    paths = app.openapi()["paths"]
    return sorted((m.upper(), p) for p, item in paths.items() for m in item if m in HTTP_METHODS)


def public_operations() -> set[tuple[str, str]]:
    return {(m, r.path) for router in PUBLIC_ROUTERS for r in router.routes if isinstance(r, APIRoute)
            for m in r.methods}
