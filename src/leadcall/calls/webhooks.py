"""ElevenLabs post-call webhooks in: an inbox.

The request only verifies the signature against the secret of the account named in the URL (fail closed: no
secret, no entry), checks the body's size and shape, stores the raw body once under (account, dedup key) — a
redelivery is a no-op — commits and answers. Applying it (transcript, outcome, cost, state transitions, events,
outbox) is the `process_webhook` job, enqueued after that commit: run by `leadcall worker` processes in the
scale-out shape, one at a time in arrival order inside the web process in the embedded one, where it gives way
to the webhooks still arriving (`apply_in_a_gap`).

That job has the delivery for `WEBHOOK_LEASE_SECONDS` (`retry_at`); once that lease lapses with the delivery
still unprocessed (the job was lost: a crash, Redis restarted or refused the enqueue), the worker's sweep claims
it under a lease of its own and applies it. A delivery is applied at most once however many of them try: the
apply and the `processed_at` that marks it run in one transaction holding the delivery's row (its writer lock
on SQLite), and whoever comes second finds it processed. Duplicates and out-of-order events all end in the same
state as one in-order delivery. A webhook that arrives before its call's conversation id is stored is kept and
applied when the id lands (see `confirm`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Query, Request
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from leadcall.calls import confirm, repository
from leadcall.calls.models import WebhookDelivery
from leadcall.calls.service import CallService
from leadcall.core import metrics
from leadcall.core.db import new_id, on_commit, transaction
from leadcall.core.errors import NotFound, Unauthenticated
from leadcall.core.observability import bind, tag
from leadcall.core.request_body import read_limited
from leadcall.voice import health
from leadcall.voice.errors import ProviderError, UnhandledWebhookType
from leadcall.voice.types import WebhookEventKind

log = logging.getLogger("leadcall.webhooks")
router = APIRouter(tags=["webhooks"])
MAX_BODY_BYTES = 20 * 1024 * 1024
# How long a stored webhook is left to the job enqueued when it arrived (and a sweep's claim lasts) before a
# sweep takes it: that job may be lost (the process stopped, Redis restarted or did not take the enqueue).
WEBHOOK_LEASE_SECONDS = 5
# How long an in-process apply waits for a gap between arriving webhooks before it takes its turn anyway.
YIELD_TO_ARRIVALS_SECONDS = 0.25


def _service(request: Request) -> CallService:
    service: CallService = request.app.state.call_service
    return service


@metrics.observe_webhook
async def receive(request: Request, account_id: str) -> dict[str, object]:
    service = _service(request)
    with service.webhooks_arriving.entered():
        return await _receive(request, service, account_id)


async def _receive(request: Request, service: CallService, account_id: str) -> dict[str, object]:
    body = await read_limited(request, MAX_BODY_BYTES)  # 413 before an oversized body is read whole
    container = request.app.state.container
    found = service.voices.cached_webhook_verifier(account_id)  # webhooks come in bursts: usually known
    if found is None:
        async with transaction(container.read_sessionmaker) as session:
            found = await service.voices.webhook_verifier(session, account_id)
    if found is None:
        raise NotFound("unknown account")
    tenant_id, verifier = found
    try:
        event = verifier.verify_webhook(body, request.headers.get("elevenlabs-signature"))
    except UnhandledWebhookType as exc:  # genuine, but of a type we do not process: acknowledged, so
        # ElevenLabs does not count it as a failed delivery (it disables a webhook after repeated errors)
        log.info("ignoring a signed ElevenLabs webhook of type %r (account %s)", exc.event_type[:80], account_id)
        return {"received": True, "duplicate": False, "ignored": True}
    except ProviderError as exc:  # bad, stale or missing signature; no secret configured
        await _note_refused(service, tenant_id, account_id, exc.detail)
        raise Unauthenticated(f"webhook refused: {exc.detail}") from exc
    metrics.webhook_kind(event.kind.value)
    async with transaction(service.sessionmaker) as session:
        now = service.now()
        row = {"id": new_id(), "account_id": account_id, "tenant_id": tenant_id, "dedup_key": event.dedup_key,
               "kind": event.kind.value, "conversation_id": event.conversation_id, "received_at": now,
               "retry_at": now + timedelta(seconds=WEBHOOK_LEASE_SECONDS), "attempts": 0,
               "body": body.decode("utf-8", errors="replace")}
        insert = pg_insert if container.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = (insert(WebhookDelivery).values(**row)
                .on_conflict_do_nothing(index_elements=["account_id", "dedup_key"]).returning(WebhookDelivery.id))
        inserted = (await session.execute(stmt)).scalar_one_or_none()
        if inserted is None:
            return {"received": True, "duplicate": True}

        async def process_soon() -> None:
            if service.jobs is not None:
                await service.jobs.enqueue("process_webhook", inserted)

        on_commit(session, process_soon)
    return {"received": True, "duplicate": False}


async def _note_refused(service: CallService, tenant_id: str, account_id: str, detail: str) -> None:
    """Counted for the account's health (a tenant admin sees refused deliveries). Two refusals at once may both
    find no row yet: one insert wins, the other is not counted (never a failed answer)."""
    try:
        async with transaction(service.sessionmaker) as session:
            await health.note_refused(session, tenant_id, account_id, detail, service.now())
    except IntegrityError:
        log.info("a refused webhook of account %s was not counted (a concurrent one was)", account_id)


async def apply_in_a_gap(service: CallService, delivery_id: str) -> None:
    """The embedded shape's job: the apply waits for a moment when this process receives no webhook (at most
    `YIELD_TO_ARRIVALS_SECONDS`), so a burst is taken in at the pace of the inserts alone and applied as it
    thins out. However long a burst lasts, a delivery waits no longer than its lease: then the sweep applies it."""
    await service.webhooks_arriving.quiet(YIELD_TO_ARRIVALS_SECONDS)
    await process_delivery(service, delivery_id)


async def process_delivery(service: CallService, delivery_id: str) -> None:
    """Apply one stored webhook to its call; safe to run any number of times."""
    with bind():  # the ids it tags are this delivery's (the sweep processes several in one pass)
        await _process_delivery(service, delivery_id)


async def _process_delivery(service: CallService, delivery_id: str) -> None:
    try:
        async with transaction(service.sessionmaker) as session:
            delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None or delivery.processed_at is not None:
                return
            tag(tenant_id=delivery.tenant_id)
            found = await service.voices.webhook_verifier(session, delivery.account_id)
            if found is None:
                delivery.attempts += 1
                delivery.processed_at = service.now()
                delivery.last_error = "the account of this webhook is gone"
                return
            # It was verified on arrival; parsing it again needs no second signature or time check.
            event = found[1].parse_webhook(delivery.body.encode())
            call = await repository.unscoped_call_by_conversation(session, delivery.account_id,
                                                                  delivery.conversation_id, for_update=True)
            if call is None:
                # Early (the dial's answer is not recorded yet) or for a call being confirmed: never lost.
                call, keep = await confirm.call_for_unknown_conversation(service, session, delivery, event)
                if call is None:
                    if keep:
                        confirm.keep_for_later(delivery, service.now())
                        return
                    delivery.attempts += 1
                    delivery.processed_at = service.now()
                    delivery.last_error = "no call of ours has this conversation"
                    return
            tag(call_id=call.id)
            delivery.attempts += 1
            delivery.last_error = None
            if call.transcript_purged_at is not None and call.next_check_at is None:
                # The call's content was removed (retention, an erasure): a late webhook brings none of it back.
                delivery.body = WebhookDelivery.REMOVED_BODY
                delivery.processed_at = service.now()
                delivery.last_error = "not applied: the call's content was removed"
                return
            changed = False
            if event.kind is WebhookEventKind.TRANSCRIPTION and event.conversation is not None:
                changed = await service.apply_conversation(session, call, event.conversation, source="webhook")
            elif event.kind is WebhookEventKind.INITIATION_FAILURE:
                changed = await service.apply_failure(session, call, event.failure_reason or "unknown",
                                                      source="webhook")
            elif event.kind is WebhookEventKind.AUDIO and not call.has_audio:
                call.has_audio = True
                changed = True
            service.audit(session, call, source="webhook", kind=event.kind.value,
                          detail=f"event at {event.event_timestamp}" + ("" if changed else " (no change)"))
            if event.conversation is not None and event.conversation.status.is_terminal:
                call.next_check_at = None
            if changed:
                await service.publish_after_commit(session, call)
            delivery.processed_at = service.now()
            metrics.WEBHOOK_APPLY_SECONDS.labels(event.kind.value).observe(
                max(0.0, (delivery.processed_at - delivery.received_at).total_seconds()))
            log.info("webhook %s (%s) applied to call %s%s", delivery.id, event.kind.value, call.id,
                     "" if changed else " (no change)")
    except Exception as exc:  # noqa: BLE001 - recorded; the worker retries pending deliveries
        log.exception("webhook %s failed", delivery_id)
        async with transaction(service.sessionmaker) as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is not None:
                delivery.attempts += 1
                delivery.last_error = str(exc)[:500]


@router.post("/api/webhooks/elevenlabs/call-status")
async def call_status(request: Request, account: str = Query(description="The leadcall account id")) -> dict[str, object]:
    return await receive(request, account)


@router.post("/api/webhooks/elevenlabs/transcription")
async def transcription(request: Request,
                        account: str = Query(description="The leadcall account id")) -> dict[str, object]:
    return await receive(request, account)
