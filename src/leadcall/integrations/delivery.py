"""Delivering the outbox: signed POSTs (Standard Webhooks), a lease per claim, backoff, disabling.

- The worker's sweep asks `enqueue_due` every pass: each endpoint with deliveries due gets a job
  (`deliver_webhooks`, one per endpoint at a time; arq in the scale-out shape, a task of the process in the
  embedded one). The job claims due deliveries with a lease (`lease_until`, `lease_token`) in one statement, so
  two workers never send one delivery at once, and a worker that dies mid-send leaves a lease that lapses:
  the delivery is sent again after it (at least once; `webhook-id` lets the consumer drop a repeat).
- No request is made inside a database transaction: claim (commit), send, record (commit).
- A failed attempt is tried again after `RETRY_DELAYS` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight
  attempts over 27 h 35 min), then the delivery is `failed` (a manual retry can send it again).
- An endpoint whose attempts have all failed for `DISABLE_AFTER_SECONDS` (and at least
  `DISABLE_MIN_FAILURES` in a row) is disabled, and the tenant's admins are told (`webhook.disabled` on the
  live stream, the endpoint's state on the settings page).
- Redirects are not followed (a 3xx is a failure, with its reason); what the endpoint answers is never
  stored or shown: only its status code and our own short reason.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import Conflict
from leadcall.core.events import Event, EventHub
from leadcall.core.jobs import JobQueue
from leadcall.core.scoping import Scope
from leadcall.core.secrets import SecretBox
from leadcall.integrations import outbox
from leadcall.integrations.catalog import TEST_EVENT
from leadcall.integrations.models import (
    DeliveryState,
    OutboxAttempt,
    OutboxDelivery,
    OutboxEvent,
    WebhookEndpoint,
)
from leadcall.integrations.repository import DeliveryRepository, EndpointRepository
from leadcall.integrations.targets import WebhookTargets
from leadcall.kit.clock import Clock, utc_datetime

log = logging.getLogger("leadcall.webhooks")

DELIVER_JOB = "deliver_webhooks"
SWEEP_SECONDS = 1.0  # how often the sweep looks for due deliveries (each pass, in practice)
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)  # seconds after attempts 1..7
DISABLE_AFTER_SECONDS = 24 * 3600
DISABLE_MIN_FAILURES = 5
TIMEOUT_SECONDS = 10.0
BATCH = 10
LEASE_SECONDS = BATCH * (TIMEOUT_SECONDS + 5) + 30  # a batch's sends, each bounded by the timeout
MAX_BATCHES = 5  # per job; the next pass's job carries on
DISABLED_EVENT = "webhook.disabled"
KEEP_SECONDS = 30 * 24 * 3600  # events whose deliveries have all ended are kept this long (the delivery log)
PRUNE_EVERY_SECONDS = 3600
# The `errorCode`s of a failed attempt (each with our own short reason).
ATTEMPT_ERRORS = ("http_status", "redirect", "timeout", "connect_failed", "request_failed", "target_refused")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    duration_ms: int
    error_code: str | None = None
    error: str | None = None


def signature_header(secrets: list[str], msg_id: str, at: datetime, body: str) -> str:
    """`v1,<base64>` per secret, space separated (the spec's way to sign with an old and a new secret)."""
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)


def signing_secrets(endpoint: WebhookEndpoint, box: SecretBox, now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    secrets = [box.decrypt(endpoint.secret_encrypted)]
    if endpoint.previous_secret_encrypted and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(box.decrypt(endpoint.previous_secret_encrypted))
    return secrets


def _failure(exc: httpx.HTTPError) -> tuple[str, str]:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"the endpoint did not answer within {TIMEOUT_SECONDS:.0f} s"
    if isinstance(exc, httpx.ConnectError):
        return "connect_failed", "could not connect to the endpoint (nothing listens, TLS failed, or the address is " \
                                 "not allowed)"
    return "request_failed", "the request to the endpoint failed before an answer came"


def _status_outcome(status: int, duration_ms: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome(True, status, duration_ms)
    if 300 <= status < 400:
        return Outcome(False, status, duration_ms, "redirect",
                       f"the endpoint answered {status} (a redirect); redirects are not followed: use the final URL")
    return Outcome(False, status, duration_ms, "http_status", f"the endpoint answered {status}")


class WebhookDeliveries:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], secret_box: SecretBox, clock: Clock,
                 http: httpx.AsyncClient, targets: WebhookTargets, events: EventHub | None,
                 jobs: JobQueue | None) -> None:
        self.sessionmaker = sessionmaker
        self.secret_box = secret_box
        self.clock = clock
        self.http = http
        self.targets = targets
        self.events = events
        self.jobs = jobs

    def now(self) -> datetime:
        return utc_datetime(self.clock)

    # -- the worker ----------------------------------------------------------------------------

    async def enqueue_due(self) -> int:
        """The sweep's chore: a delivery job for every endpoint with deliveries due (without a job queue, the
        deliveries themselves). Returns the endpoints found."""
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            endpoint_ids = await DeliveryRepository.unscoped_endpoints_due(session, now)
        for endpoint_id in endpoint_ids:
            if self.jobs is not None:
                await self.jobs.enqueue(DELIVER_JOB, endpoint_id)
            else:
                await self.deliver_endpoint(endpoint_id)
        return len(endpoint_ids)

    async def deliver_endpoint(self, endpoint_id: str) -> int:
        """The job: the endpoint's due deliveries, oldest first, a leased batch at a time. Returns attempts."""
        done = 0
        for _ in range(MAX_BATCHES):
            token = str(uuid.uuid4())
            async with transaction(self.sessionmaker) as session:
                claimed = await DeliveryRepository.unscoped_claim(session, endpoint_id, token, self.now(),
                                                                  lease_seconds=LEASE_SECONDS, limit=BATCH)
            for delivery_id in claimed:
                try:
                    await self._attempt(delivery_id, token, manual=False)
                except Exception:  # noqa: BLE001 - its lease lapses and a later pass tries again
                    log.exception("webhook delivery %s failed unexpectedly", delivery_id)
                done += 1
            if len(claimed) < BATCH:
                break
        return done

    async def prune(self) -> int:
        """The sweep's hourly chore: events older than KEEP_SECONDS with no delivery still pending go, with their
        deliveries and log (their payloads hold leads' data and transcripts). Returns the events deleted."""
        cutoff = self.now() - timedelta(seconds=KEEP_SECONDS)
        pending = select(OutboxDelivery.id).where(OutboxDelivery.event_id == OutboxEvent.id,
                                                  OutboxDelivery.state == DeliveryState.pending.value)
        async with transaction(self.sessionmaker) as session:
            done = await session.execute(delete(OutboxEvent).where(OutboxEvent.created_at < cutoff, ~pending.exists())
                                         .execution_options(synchronize_session=False))
        return int(done.rowcount)  # type: ignore[attr-defined]

    # -- an attempt ----------------------------------------------------------------------------

    async def _attempt(self, delivery_id: str, token: str, *, manual: bool) -> OutboxDelivery | None:
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            found = await DeliveryRepository.unscoped_leased(session, delivery_id, token)
            if found is None:
                return None  # the lease lapsed and another worker has it
            delivery, event, endpoint = found
            if not manual and not endpoint.enabled:
                delivery.lease_token, delivery.lease_until = None, None  # it waits for the endpoint
                return delivery
            url, msg_id, body = endpoint.url, event.id, event.payload
            secrets = signing_secrets(endpoint, self.secret_box, now)
        outcome = await self._send(url, msg_id, body, secrets)
        return await self._record(delivery_id, token, outcome, manual=manual)

    async def _send(self, url: str, msg_id: str, body: str, secrets: list[str]) -> Outcome:
        refused = self.targets.refusal(url)
        if refused is not None:
            return Outcome(False, None, 0, "target_refused",
                           f"the URL is no longer allowed ({refused.reason.value}); nothing was sent")
        at = datetime.fromtimestamp(int(self.clock.now()), UTC)
        headers = {"content-type": "application/json", "user-agent": "leadcall-webhooks/1",
                   "webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
                   "webhook-signature": signature_header(secrets, msg_id, at, body)}
        started = time.monotonic()
        try:
            # The answer's body is not read: nothing of it is kept or shown.
            async with self.http.stream("POST", url, content=body.encode(), headers=headers) as response:
                status = response.status_code
        except httpx.HTTPError as exc:
            code, reason = _failure(exc)
            return Outcome(False, None, int((time.monotonic() - started) * 1000), code, reason)
        return _status_outcome(status, int((time.monotonic() - started) * 1000))

    async def _record(self, delivery_id: str, token: str, outcome: Outcome, *, manual: bool) -> OutboxDelivery | None:
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            delivery = await DeliveryRepository.unscoped_for_update(session, delivery_id)
            if delivery is None:
                return None  # the endpoint was deleted meanwhile
            # Locked: two workers recording attempts of one endpoint count its failures one after the other.
            endpoint = (await session.execute(select(WebhookEndpoint).where(
                WebhookEndpoint.id == delivery.endpoint_id).with_for_update())).scalar_one()
            delivery.attempts += 1
            session.add(OutboxAttempt(tenant_id=delivery.tenant_id, delivery_id=delivery.id,
                                       attempt=delivery.attempts, manual=manual, at=now,
                                       status_code=outcome.status_code, duration_ms=outcome.duration_ms,
                                       ok=outcome.ok, error_code=outcome.error_code, error=outcome.error))
            delivery.last_status_code, delivery.last_duration_ms = outcome.status_code, outcome.duration_ms
            delivery.last_error = outcome.error
            if delivery.lease_token == token:
                delivery.lease_token, delivery.lease_until = None, None
            if not manual:
                delivery.scheduled_attempts += 1
            if outcome.ok:
                delivery.state, delivery.delivered_at, delivery.next_attempt_at = (DeliveryState.succeeded.value, now,
                                                                                   None)
            elif delivery.is_test:
                delivery.state, delivery.next_attempt_at = DeliveryState.failed.value, None
            elif not manual:
                if delivery.scheduled_attempts <= len(RETRY_DELAYS):
                    delivery.state = DeliveryState.pending.value
                    delivery.next_attempt_at = now + timedelta(seconds=RETRY_DELAYS[delivery.scheduled_attempts - 1])
                else:
                    delivery.state, delivery.next_attempt_at = DeliveryState.failed.value, None
            elif delivery.state != DeliveryState.pending.value:
                delivery.state = DeliveryState.failed.value  # a manual retry leaves a pending schedule as it was
            delivery.updated_at = now
            if not delivery.is_test:
                self._follow_endpoint(session, endpoint, outcome, now)
        return delivery

    def _follow_endpoint(self, session: AsyncSession, endpoint: WebhookEndpoint, outcome: Outcome,
                         now: datetime) -> None:
        if outcome.ok:
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            return
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        failing_for = (now - endpoint.failing_since).total_seconds()
        if (endpoint.enabled and failing_for >= DISABLE_AFTER_SECONDS
                and endpoint.consecutive_failures >= DISABLE_MIN_FAILURES):
            endpoint.enabled = False
            endpoint.disabled_at, endpoint.updated_at = now, now
            endpoint.disabled_reason = (f"every attempt failed for {int(failing_for // 3600)} h "
                                        f"({endpoint.consecutive_failures} in a row); last: {outcome.error}")[:300]
            log.warning("webhook endpoint %s disabled after repeated failure", endpoint.id)
            # Only its id on the tenant's stream: the admins' pages fetch the rest (members see the stream too).
            event = Event(DISABLED_EVENT, endpoint.tenant_id, None,
                          {"endpointId": endpoint.id, "disabledAt": now.isoformat()})

            async def tell_admins() -> None:
                if self.events is not None:
                    await self.events.publish(event)

            on_commit(session, tell_admins)

    # -- on an admin's request -------------------------------------------------------------------

    async def retry(self, scope: Scope, endpoint_id: str, delivery_id: str) -> OutboxDelivery:
        """One attempt now, whatever the delivery's state; a pending schedule stays as it was if it fails."""
        token = str(uuid.uuid4())
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            endpoint = await EndpointRepository(session, scope).get(endpoint_id)
            delivery = await DeliveryRepository(session, scope).of_endpoint(endpoint.id, delivery_id)
            if not endpoint.enabled:
                raise Conflict("the endpoint is disabled; enable it before retrying its deliveries (a test send "
                               "works while it is disabled)", code="webhook_endpoint_disabled")
            if delivery.lease_until is not None and delivery.lease_until > now:
                raise Conflict("this delivery is being sent right now; look at its log in a moment",
                               code="webhook_delivery_in_progress")
            delivery.lease_token, delivery.lease_until = token, now + timedelta(seconds=LEASE_SECONDS)
        return await self._attempted(delivery_id, token)

    async def test(self, scope: Scope, endpoint_id: str) -> OutboxDelivery:
        """A `webhook.test` event sent to this endpoint only, now; in its delivery log like any other."""
        token = str(uuid.uuid4())
        now = self.now()
        async with transaction(self.sessionmaker) as session:
            endpoint = await EndpointRepository(session, scope).get(endpoint_id)
            subject = f"endpoint:{endpoint.id}"
            sequence = await outbox.record_for(session, endpoint, event_type=TEST_EVENT, subject=subject,
                                               data={"endpointId": endpoint.id,
                                                     "message": "a test send from leadcall"}, now=now)
            delivery = (await session.execute(select(OutboxDelivery).join(
                OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id).where(
                OutboxDelivery.endpoint_id == endpoint.id, OutboxEvent.subject == subject,
                OutboxEvent.sequence == sequence))).scalar_one()
            delivery.is_test, delivery.next_attempt_at = True, None
            delivery.lease_token, delivery.lease_until = token, now + timedelta(seconds=LEASE_SECONDS)
            delivery_id = delivery.id
        return await self._attempted(delivery_id, token)

    async def _attempted(self, delivery_id: str, token: str) -> OutboxDelivery:
        delivery = await self._attempt(delivery_id, token, manual=True)
        if delivery is None:
            raise Conflict("this delivery is being sent right now; look at its log in a moment",
                           code="webhook_delivery_in_progress")
        return delivery

