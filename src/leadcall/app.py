"""create_app(settings): the one place where the app is wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from leadcall.billing.router import router as billing_router
from leadcall.calls.router import router as calls_router
from leadcall.calls.webhooks import router as webhooks_router
from leadcall.campaigns.router import router as campaigns_router
from leadcall.core import tracing
from leadcall.core.boundary import check_address, check_request
from leadcall.core.container import Container
from leadcall.core.db import transaction
from leadcall.core.http_errors import API_ERRORS, install_error_handlers
from leadcall.core.observability import RequestContext, configure_logging
from leadcall.core.security_headers import SecuredFastAPI
from leadcall.integrations.router import router as webhook_endpoints_router
from leadcall.kit.clock import Clock, SystemClock
from leadcall.leads.router import router as leads_router
from leadcall.public import PUBLIC_ROUTERS
from leadcall.retention.router import router as retention_router
from leadcall.rules.router import router as rules_router
from leadcall.runtime import runtime
from leadcall.scheduling.router import router as scheduling_router
from leadcall.settings import Settings
from leadcall.tenancy.deps import current_principal
from leadcall.tenancy.router import router as tenancy_router
from leadcall.voice.analysis_router import router as voice_analysis_router
from leadcall.voice.router import router as voice_router
from leadcall.voice.service import linked_webhook_urls
from leadcall.web import pages_router, render_error_page
from leadcall.web import public_router as web_public_router
from leadcall.web.api_docs import DOCS_PATH, DOCS_POLICY
from leadcall.web.api_docs import router as api_docs_router
from leadcall.web.campaigns import router as campaigns_pages_router
from leadcall.web.health import router as health_pages_router
from leadcall.web.rules import router as rules_pages_router
from leadcall.web.scheduling import router as scheduling_pages_router
from leadcall.web.static_files import static_app
from leadcall.web.webhooks import router as webhooks_pages_router

API_ROUTERS: list[APIRouter] = [tenancy_router, leads_router, voice_router, calls_router, billing_router,
                                retention_router, rules_router, voice_analysis_router, scheduling_router,
                                webhook_endpoints_router, campaigns_router]


def mount_simulator(app: FastAPI, settings: Settings, clock: Clock | None) -> None:
    """The embedded default: the fake ElevenLabs API at /sim, in simulated time."""
    from leadcall.simulator import SimulatorState, create_simulator_app, seed_demo_accounts

    state = SimulatorState(clock=clock or SystemClock(), speed=settings.simulator_speed)
    seed_demo_accounts(state, webhook_url=None)
    app.state.simulator = state
    app.mount("/sim", create_simulator_app(state))


async def link_simulator_webhooks(app: FastAPI) -> None:
    """Point the embedded simulator's accounts at the webhook URL of the leadcall account using each key."""
    container: Container = app.state.container
    settings = container.settings
    async with transaction(container.sessionmaker) as session:
        urls = await linked_webhook_urls(session, container.secret_box, f"{settings.public_base_url}/sim",
                                         settings.public_base_url)
    for account in app.state.simulator.accounts.values():
        if account.api_key in urls:
            account.webhook_url = urls[account.api_key]


class LeadcallApp(SecuredFastAPI):
    """The request id outside everything else, so even a 500 answer and its log line carry it; inside it, the
    request's span when traces are on (so a 500 is in its trace too)."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestContext(tracing.instrument_asgi(super().build_middleware_stack()))


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    tracing.configure_tracing()  # as the OTEL_* environment says: off by default
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_format)
        async with runtime(settings, clock) as rt:
            app.state.container = rt.container
            app.state.events = rt.events
            app.state.voice_manager = rt.voices
            app.state.call_service = rt.calls
            app.state.billing = rt.billing
            app.state.retention = rt.retention
            app.state.worker = rt.worker
            app.state.jobs = rt.jobs
            app.state.limiter = rt.limiter
            app.state.heartbeats = rt.heartbeats
            app.state.rules = rt.rules
            app.state.scheduling = rt.scheduling
            app.state.webhooks = rt.webhooks
            app.state.campaigns = rt.campaigns
            app.state.dispatcher = rt.dispatcher
            app.state.campaign_progress = rt.progress
            simulator = getattr(app.state, "simulator", None)
            if simulator is not None:
                await link_simulator_webhooks(app)
                simulator.start()
            if settings.run_worker and settings.redis_url is None:
                rt.worker.start()
            try:
                yield
            finally:
                if simulator is not None:
                    await simulator.stop()

    # Security headers on every answer, 500s included (core/security_headers.py).
    app = LeadcallApp(hsts=settings.session_cookie_secure, policies={DOCS_PATH: DOCS_POLICY},
                         title="leadcall", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                         description="Call CRM leads with ElevenLabs AI voice agents.")
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret.get_secret_value(),
                       session_cookie="leadcall_session", max_age=settings.session_max_age_seconds,
                       same_site="lax", https_only=settings.session_cookie_secure)
    install_error_handlers(app, html=render_error_page)
    app.mount("/static", static_app(), name="static")
    app.include_router(web_public_router)
    app.include_router(api_docs_router)
    app.include_router(pages_router)
    app.include_router(rules_pages_router)
    app.include_router(scheduling_pages_router)
    app.include_router(campaigns_pages_router)
    app.include_router(health_pages_router)
    app.include_router(webhooks_pages_router)
    if settings.simulator_enabled:
        mount_simulator(app, settings, clock)
    for router in PUBLIC_ROUTERS:
        # Provider webhooks prove who sent them by their signature, which comes before any look at the body.
        checks = [Depends(check_address if router is webhooks_router else check_request)]
        app.include_router(router, dependencies=checks, responses=API_ERRORS)
    # Secure by default: every API route below requires a signed-in principal; then its input is checked.
    authenticated = APIRouter(dependencies=[Depends(current_principal), Depends(check_request)],
                              responses=API_ERRORS)
    for router in API_ROUTERS:
        authenticated.include_router(router)
    app.include_router(authenticated)
    return app
