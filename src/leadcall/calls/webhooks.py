"""ElevenLabs post-call webhooks in.

The handler verifies the signature against the secret of the account named in the
URL (fail closed: no secret, no entry), stores the raw body once under (account,
dedup key), and answers at once; processing happens after commit and is
idempotent, so byte-identical redeliveries, duplicates and out-of-order events all
end in the same state as one in-order delivery.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Query, Request
from sqlalchemy.exc import IntegrityError

from leadcall.calls import repository
from leadcall.calls.models import WebhookDelivery
from leadcall.calls.service import CallService
from leadcall.core.db import on_commit, transaction
from leadcall.core.errors import NotFound, Unauthenticated
from leadcall.voice.errors import ProviderError, WebhookSignatureError
from leadcall.voice.repository import unscoped_get_account
from leadcall.voice.types import WebhookEventKind

log = logging.getLogger("leadcall.webhooks")
router = APIRouter(tags=["webhooks"])
MAX_BODY_BYTES = 20 * 1024 * 1024


def _service(request: Request) -> CallService:
    service: CallService = request.app.state.call_service
    return service


async def receive(request: Request, account_id: str) -> dict[str, object]:
    service = _service(request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise NotFound("payload too large")
    async with transaction(service.sessionmaker) as session:
        account = await unscoped_get_account(session, account_id)
        if account is None:
            raise NotFound("unknown account")
        try:
            event = service.voices.verify_webhook(account, body, request.headers.get("elevenlabs-signature"))
        except WebhookSignatureError as exc:
            raise Unauthenticated(f"webhook refused: {exc.detail}") from exc
        except ProviderError as exc:
            raise Unauthenticated(f"webhook refused: {exc.detail}") from exc
        delivery = WebhookDelivery(account_id=account.id, tenant_id=account.tenant_id, dedup_key=event.dedup_key,
                                   kind=event.kind.value, conversation_id=event.conversation_id,
                                   received_at=service.now(), body=body.decode("utf-8", errors="replace"))
        try:
            async with session.begin_nested():
                session.add(delivery)
                await session.flush()
        except IntegrityError:
            return {"received": True, "duplicate": True}
        delivery_id = delivery.id

        async def process_soon() -> None:
            if service.jobs is not None:
                await service.jobs.enqueue("process_webhook", delivery_id)

        on_commit(session, process_soon)
    return {"received": True, "duplicate": False}


async def process_delivery(service: CallService, delivery_id: str) -> None:
    """Apply one stored webhook to its call; safe to run any number of times."""
    try:
        async with transaction(service.sessionmaker) as session:
            delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if delivery is None or delivery.processed_at is not None:
                return
            delivery.attempts += 1
            account = await unscoped_get_account(session, delivery.account_id)
            call = await repository.unscoped_call_by_conversation(session, delivery.account_id,
                                                                  delivery.conversation_id, for_update=True)
            if account is None or call is None:
                delivery.processed_at = service.now()
                delivery.last_error = "no call of ours has this conversation"
                return
            # Re-verification is not needed (it was verified on arrival); parse without the time check.
            event = service.voices.parse_stored_webhook(account, delivery.body.encode())
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
                service.publish_after_commit(session, call)
            delivery.processed_at = service.now()
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
