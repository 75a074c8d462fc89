"""create_app(settings): the one place where the app is wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware

from leadcall.billing.router import router as billing_router
from leadcall.billing.service import BillingService
from leadcall.calls.router import router as calls_router
from leadcall.calls.service import CallService, PlacementHooks
from leadcall.calls.worker import CallWorker
from leadcall.core.cache import Cache, MemoryCache
from leadcall.core.container import Container
from leadcall.core.db import make_engine, make_sessionmaker, transaction
from leadcall.core.events import EventHub, MemoryEventHub
from leadcall.core.http_errors import install_error_handlers
from leadcall.core.ratelimit import MemoryRateLimiter, RateLimiter
from leadcall.core.redis_impl import RedisCache, RedisEventHub, RedisRateLimiter
from leadcall.core.redis_impl import connect as connect_redis
from leadcall.core.secrets import SecretBox
from leadcall.kit.clock import Clock, SystemClock
from leadcall.leads.router import router as leads_router
from leadcall.public import PUBLIC_ROUTERS
from leadcall.settings import Settings
from leadcall.tenancy.deps import current_principal
from leadcall.tenancy.router import router as tenancy_router
from leadcall.voice.manager import VoiceManager
from leadcall.voice.router import router as voice_router
from leadcall.voice.service import linked_webhook_urls

API_ROUTERS: list[APIRouter] = [tenancy_router, leads_router, voice_router, calls_router, billing_router]


def build_container(settings: Settings, clock: Clock | None = None) -> Container:
    engine = make_engine(settings.database_url)
    keys = settings.secret_keys.get_secret_value()
    if not keys:
        raise RuntimeError("LEADCALL_SECRET_KEYS is not set; generate one with `leadcall secrets new-key`")
    return Container(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                     clock=clock or SystemClock(), secret_box=SecretBox.from_setting(keys))


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


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = build_container(settings, clock)
        app.state.container = container
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0),
                                 limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        redis = connect_redis(settings.redis_url) if settings.redis_url else None
        events: EventHub
        cache: Cache
        limiter: RateLimiter
        if redis is not None:
            redis_events = RedisEventHub(redis)
            await redis_events.start()
            events, cache, limiter = redis_events, RedisCache(redis), RedisRateLimiter(redis, container.clock)
        else:
            events, cache, limiter = MemoryEventHub(), MemoryCache(container.clock), MemoryRateLimiter(container.clock)
        voices = VoiceManager(secret_box=container.secret_box, clock=container.clock, http=http, cache=cache)
        billing = BillingService(clock=container.clock, events=events, limiter=limiter,
                                 per_user_per_minute=settings.placements_per_user_per_minute,
                                 per_tenant_per_minute=settings.placements_per_tenant_per_minute)
        calls = CallService(sessionmaker=container.sessionmaker, voices=voices, events=events,
                            clock=container.clock,
                            hooks=PlacementHooks(reserve=billing.reserve, settle=billing.settle, admit=billing.admit))
        voices.live_call_counter = calls
        worker = CallWorker(calls)
        app.state.events = events
        app.state.voice_manager = voices
        app.state.call_service = calls
        app.state.billing = billing
        app.state.worker = worker
        simulator = getattr(app.state, "simulator", None)
        if simulator is not None:
            await link_simulator_webhooks(app)
            simulator.start()
        if settings.run_worker:
            worker.start()
        try:
            yield
        finally:
            await worker.stop()
            if simulator is not None:
                await simulator.stop()
            await events.close()
            if redis is not None:
                await redis.aclose()
            await http.aclose()
            await container.engine.dispose()

    app = FastAPI(title="leadcall", version="0.1.0", lifespan=lifespan,
                  description="Call CRM leads with ElevenLabs AI voice agents.")
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret.get_secret_value(),
                       session_cookie="leadcall_session", max_age=settings.session_max_age_seconds,
                       same_site="lax", https_only=settings.session_cookie_secure)
    install_error_handlers(app)
    if settings.simulator_enabled:
        mount_simulator(app, settings, clock)
    for router in PUBLIC_ROUTERS:
        app.include_router(router)
    # Secure by default: every API route below requires a signed-in principal.
    authenticated = APIRouter(dependencies=[Depends(current_principal)])
    for router in API_ROUTERS:
        authenticated.include_router(router)
    app.include_router(authenticated)
    return app
