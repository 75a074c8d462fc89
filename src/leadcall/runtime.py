"""Builds the services one process runs on, for the web app and for `leadcall worker` alike.

The shape comes from settings only: without LEADCALL_REDIS_URL everything is
in-process (events, caches, rate limits, jobs); with it, events go through Redis
pub/sub, caches and rate limits live in Redis, and jobs go to arq workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.billing.service import ALERTS_JOB, ALERTS_SWEEP_SECONDS, BillingService
from leadcall.calls.health import CallActivity
from leadcall.calls.models import CallLog
from leadcall.calls.service import CallService, PlacementHooks
from leadcall.calls.stats import CallStats
from leadcall.calls.webhooks import apply_in_a_gap
from leadcall.calls.worker import CallWorker, Chore
from leadcall.campaigns.dispatcher import DISPATCH_JOB, CampaignDispatcher
from leadcall.campaigns.dispatcher import SWEEP_SECONDS as CAMPAIGNS_SWEEP_SECONDS
from leadcall.campaigns.progress import ProgressPublisher
from leadcall.campaigns.service import CampaignService
from leadcall.core import tracing
from leadcall.core.cache import Cache, MemoryCache
from leadcall.core.container import Container
from leadcall.core.db import make_engine, make_read_sessionmaker, make_sessionmaker
from leadcall.core.events import EventHub, MemoryEventHub
from leadcall.core.heartbeats import SWEEP, Heartbeats, MemoryHeartbeats
from leadcall.core.jobs import ArqJobs, InProcessJobs, JobQueue
from leadcall.core.metrics import MeteredTransport
from leadcall.core.ratelimit import MemoryRateLimiter, RateLimiter
from leadcall.core.redis_events import RedisEventHub
from leadcall.core.redis_impl import RedisCache, RedisHeartbeats, RedisRateLimiter
from leadcall.core.redis_link import RedisLink, client_options
from leadcall.core.redis_link import connect as connect_redis
from leadcall.core.secrets import SecretBox
from leadcall.integrations.delivery import DELIVER_JOB, TIMEOUT_SECONDS, WebhookDeliveries
from leadcall.integrations.delivery import SWEEP_SECONDS as WEBHOOKS_SWEEP_SECONDS
from leadcall.integrations.targets import WebhookTargets
from leadcall.kit.clock import Clock, SystemClock
from leadcall.kit.outbound import GuardedTransport
from leadcall.retention.archive import DELETE_CONVERSATIONS_JOB
from leadcall.retention.service import SWEEP_EVERY_SECONDS, RetentionService
from leadcall.rules.service import RulesService, lead_zone
from leadcall.scheduling.service import SWEEP_SECONDS as CALLBACKS_SWEEP_SECONDS
from leadcall.scheduling.service import SchedulingService
from leadcall.settings import Settings
from leadcall.voice.health import CHECK_EVERY_SECONDS as WEBHOOK_CHECK_SECONDS
from leadcall.voice.manager import VoiceManager
from leadcall.voice.service import unscoped_check_all_webhooks
from leadcall.voice.targets import ProviderTargets


@dataclass
class Runtime:
    container: Container
    limiter: RateLimiter
    events: EventHub
    jobs: JobQueue
    voices: VoiceManager
    billing: BillingService
    calls: CallService
    worker: CallWorker
    heartbeats: Heartbeats
    retention: RetentionService
    rules: RulesService
    scheduling: SchedulingService
    webhooks: WebhookDeliveries
    campaigns: CampaignService
    dispatcher: CampaignDispatcher
    progress: ProgressPublisher


def build_container(settings: Settings, clock: Clock | None = None) -> Container:
    engine = make_engine(settings.database_url)
    keys = settings.secret_keys.get_secret_value()
    if not keys:
        raise RuntimeError("LEADCALL_SECRET_KEYS is not set; generate one with `leadcall secrets new-key`")
    return Container(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine),
                     read_sessionmaker=make_read_sessionmaker(engine),
                     clock=clock or SystemClock(), secret_box=SecretBox.from_setting(keys))


def arq_pool(redis_url: str, timeout_seconds: float) -> Any:
    """arq's client, with our deadlines; it connects on its first command, so a process started while Redis
    is down starts all the same (and says so in `/health`)."""
    from arq.connections import ArqRedis

    return ArqRedis.from_url(redis_url, **client_options(timeout_seconds))


@asynccontextmanager
async def runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    tracing.configure_tracing()  # `leadcall worker` comes here without create_app; once on, nothing changes
    container = build_container(settings, clock)
    tracing.instrument_engine(container.engine)
    # The provider clients' pool: it connects only to the providers' hosts, at allowed addresses.
    targets = ProviderTargets.from_settings(settings.provider_hosts, settings.allow_private_targets)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0), transport=MeteredTransport(GuardedTransport(
        targets.connections, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)),
        by_account=lambda: settings.metrics_account_labels))
    tracing.instrument_http(http)
    timeout = settings.redis_timeout_seconds
    link = RedisLink(connect_redis(settings.redis_url, timeout)) if settings.redis_url else None
    events: EventHub
    cache: Cache
    limiter: RateLimiter
    jobs: JobQueue
    in_process = InProcessJobs()
    if link is not None and settings.redis_url:
        redis_events = RedisEventHub(link, timeout_seconds=timeout)
        await redis_events.start()
        events, limiter = redis_events, RedisRateLimiter(link, container.clock)
        heartbeats: Heartbeats = RedisHeartbeats(link, container.clock)
        cache = RedisCache(link, container.clock, container.secret_box.derived_key("redis-cache"))
        jobs = ArqJobs(arq_pool(settings.redis_url, timeout), link)
    else:
        events, cache, limiter = MemoryEventHub(), MemoryCache(container.clock), MemoryRateLimiter(container.clock)
        heartbeats = MemoryHeartbeats(container.clock)
        jobs = in_process
    voices = VoiceManager(secret_box=container.secret_box, clock=container.clock, http=http, cache=cache,
                          targets=targets, sessionmaker=container.sessionmaker,
                          read_sessionmaker=container.read_sessionmaker)
    billing = BillingService(clock=container.clock, events=events, limiter=limiter,
                             per_user_per_minute=settings.placements_per_user_per_minute,
                             per_tenant_per_minute=settings.placements_per_tenant_per_minute,
                             sessionmaker=container.sessionmaker, read_sessionmaker=container.read_sessionmaker,
                             jobs=jobs)
    rules = RulesService(container.sessionmaker, container.clock)
    hooks = PlacementHooks(reserve=billing.reserve, settle=billing.settle, admit=billing.admit,
                           eligible=rules.check, refused=rules.note_refusal, lead_zone=lead_zone)
    calls = CallService(sessionmaker=container.sessionmaker, voices=voices, events=events, clock=container.clock,
                        hooks=hooks, jobs=jobs, read_sessionmaker=container.read_sessionmaker,
                        public_base_url=settings.public_base_url)
    scheduling = SchedulingService(sessionmaker=container.sessionmaker, calls=calls, rules=rules, events=events,
                                   clock=container.clock)

    async def wake_dispatcher() -> None:
        await dispatcher.wake()

    campaigns = CampaignService(sessionmaker=container.sessionmaker, rules=rules, calls=calls,
                                clock=container.clock, wake=wake_dispatcher)
    # Waiting for a pacing slot is waiting in real time; on a test's manual clock the sweep moves on instead.
    dispatcher = CampaignDispatcher(sessionmaker=container.sessionmaker, calls=calls, campaigns=campaigns,
                                    clock=container.clock, jobs=jobs,
                                    linger_seconds=20.0 if isinstance(container.clock, SystemClock) else 0.0)
    progress = ProgressPublisher(sessionmaker=container.sessionmaker, events=events)

    async def settle(session: AsyncSession, call: CallLog) -> None:
        """A call has ended: billing reconciles its reservation, then the follow-through acts on its outcome,
        then its campaign (if any) on its result."""
        await billing.settle(session, call)
        await scheduling.settle(session, call)
        await dispatcher.settle(session, call)

    hooks.settle = settle
    voices.live_call_counter = calls
    voices.agent_stats = CallStats()
    voices.account_activity = CallActivity()
    retention = RetentionService(sessionmaker=container.sessionmaker, voices=voices, clock=container.clock)

    async def process_webhook(delivery_id: str) -> None:
        await apply_in_a_gap(calls, delivery_id)

    async def check_budget_alerts(tenant_id: str, organization_id: str) -> None:
        await billing.check_alerts(tenant_id, organization_id)

    # One at a time, in arrival order (see InProcessJobs): the web process's own requests keep the writer.
    in_process.register("process_webhook", process_webhook, concurrency=1)
    in_process.register(ALERTS_JOB, check_budget_alerts)

    async def delete_conversations(tenant_id: str) -> None:
        await retention.delete_conversations(tenant_id)

    in_process.register(DELETE_CONVERSATIONS_JOB, delete_conversations)

    # Outgoing webhooks: their own connection pool, to any public host (the SSRF guard), never following a redirect.
    webhook_targets = WebhookTargets(settings.allow_private_targets)
    webhook_http = httpx.AsyncClient(
        timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=5.0), follow_redirects=False,
        transport=GuardedTransport(webhook_targets.policy,
                                   limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)))
    tracing.instrument_http(webhook_http)
    webhooks = WebhookDeliveries(sessionmaker=container.sessionmaker, secret_box=container.secret_box,
                                 clock=container.clock, http=webhook_http, targets=webhook_targets, events=events,
                                 jobs=jobs)

    async def deliver_webhooks(endpoint_id: str) -> None:
        await webhooks.deliver_endpoint(endpoint_id)

    in_process.register(DELIVER_JOB, deliver_webhooks)

    async def check_workspace_webhooks() -> int:
        return await unscoped_check_all_webhooks(container.sessionmaker, voices, settings.public_base_url,
                                                 container.clock)

    async def dispatch_campaigns() -> None:
        await dispatcher.dispatch(join=False)

    in_process.register(DISPATCH_JOB, dispatch_campaigns)

    async def swept() -> None:
        await heartbeats.beat(SWEEP)

    worker = CallWorker(calls, chores=[Chore("budget alerts", ALERTS_SWEEP_SECONDS, billing.check_all_alerts),
                                       Chore("retention", SWEEP_EVERY_SECONDS, retention.sweep_count),
                                       Chore("callbacks", CALLBACKS_SWEEP_SECONDS, scheduling.run_due),
                                       Chore("webhooks", WEBHOOKS_SWEEP_SECONDS, webhooks.enqueue_due),
                                       Chore("workspace webhooks", WEBHOOK_CHECK_SECONDS, check_workspace_webhooks),
                                       Chore("campaigns", CAMPAIGNS_SWEEP_SECONDS, dispatcher.sweep)],
                        heartbeat=swept)
    try:
        yield Runtime(container, limiter, events, jobs, voices, billing, calls, worker, heartbeats, retention, rules,
                      scheduling, webhooks, campaigns, dispatcher, progress)
    finally:
        await worker.stop()
        scheduling.close()
        progress.close()
        await jobs.close()
        await events.close()
        if link is not None:
            await link.close()
            await link.redis.aclose()
        await http.aclose()
        await webhook_http.aclose()
        await container.engine.dispose()
