"""The routes that answer without a signed-in user. Everything else requires one."""

from __future__ import annotations

from fastapi import APIRouter

from leadcall.calls.webhooks import router as webhooks_router
from leadcall.tenancy.router import public_router as auth_router

health_router = APIRouter(tags=["health"])


@health_router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


PUBLIC_ROUTERS: list[APIRouter] = [health_router, auth_router, webhooks_router]
# The web app's sign-in pages and static files are public too (leadcall.web.public_router, /static).
