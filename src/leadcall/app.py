"""create_app(settings): the one place where the app is wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from leadcall.core.container import Container
from leadcall.core.db import make_engine, make_sessionmaker
from leadcall.core.http_errors import install_error_handlers
from leadcall.core.secrets import SecretBox
from leadcall.kit.clock import Clock, SystemClock
from leadcall.leads.router import router as leads_router
from leadcall.public import PUBLIC_ROUTERS
from leadcall.settings import Settings
from leadcall.tenancy.deps import current_principal
from leadcall.tenancy.router import router as tenancy_router

API_ROUTERS: list[APIRouter] = [tenancy_router, leads_router]


def build_container(settings: Settings, clock: Clock | None = None) -> Container:
    engine = make_engine(settings.database_url)
    keys = settings.secret_keys.get_secret_value()
    if not keys:
        raise RuntimeError("LEADCALL_SECRET_KEYS is not set; generate one with `leadcall secrets new-key`")
    return Container(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                     clock=clock or SystemClock(), secret_box=SecretBox.from_setting(keys))


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = build_container(settings, clock)
        app.state.container = container
        try:
            yield
        finally:
            await container.engine.dispose()

    app = FastAPI(title="leadcall", version="0.1.0", lifespan=lifespan,
                  description="Call CRM leads with ElevenLabs AI voice agents.")
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret.get_secret_value(),
                       session_cookie="leadcall_session", max_age=settings.session_max_age_seconds,
                       same_site="lax", https_only=settings.session_cookie_secure)
    install_error_handlers(app)
    for router in PUBLIC_ROUTERS:
        app.include_router(router)
    # Secure by default: every API route below requires a signed-in principal.
    authenticated = APIRouter(dependencies=[Depends(current_principal)])
    for router in API_ROUTERS:
        authenticated.include_router(router)
    app.include_router(authenticated)
    return app
