"""What removing a call's content means, shared by an erasure and by retention.

A call's content is what was said and recorded: transcript, summary, the recording
(ours is only a reference; the audio itself lives at ElevenLabs until the conversation
is deleted there) and the raw webhook bodies, which hold the transcript, the analysis,
the lead's dynamic variables and, for audio events, the recording itself. Its figures
stay: status, phone and sales result, duration, cost, hold, timestamps and the audit
trail, so budgets and usage read the same before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import CallEvent, CallLog, WebhookDelivery
from leadcall.core.db import new_id
from leadcall.leads.models import LeadEvent
from leadcall.retention.models import ConversationDeletion
from leadcall.rules.models import LeadConsent
from leadcall.scheduling.models import Callback

REMOVED_BODY = WebhookDelivery.REMOVED_BODY
ERASED = "[erased]"


async def remove_call_content(session: AsyncSession, call_ids: Sequence[str], now: datetime) -> int:
    """Drops transcript, summary, the recording reference and the outcome's evidence (quotes and rationale
    from the conversation) of these calls; returns how many changed. A webhook that comes later for such a
    call is not applied (calls.webhooks)."""
    if not call_ids:
        return 0
    result = await session.execute(
        update(CallLog).where(CallLog.id.in_(call_ids))
        .values(transcript=None, summary=None, has_audio=False, outcome_evidence=None,
                transcript_purged_at=func.coalesce(CallLog.transcript_purged_at, now))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def remove_webhook_bodies(session: AsyncSession, conversations: Sequence[tuple[str, str]],
                                now: datetime) -> int:
    """Empties the stored webhooks of these (account id, conversation id) pairs. One not yet applied is
    marked done: its content is gone, so there is nothing left to apply."""
    if not conversations:
        return 0
    result = await session.execute(
        update(WebhookDelivery)
        .where(tuple_(WebhookDelivery.account_id, WebhookDelivery.conversation_id).in_(list(conversations)),
               WebhookDelivery.body != REMOVED_BODY)
        .values(body=REMOVED_BODY, processed_at=func.coalesce(WebhookDelivery.processed_at, now))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def remove_old_webhook_bodies(session: AsyncSession, tenant_id: str, received_before: datetime,
                                    now: datetime) -> int:
    """Empties every webhook of the tenant received before the cutoff (also those matching no call)."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.received_at < received_before,
               WebhookDelivery.body != REMOVED_BODY)
        .values(body=REMOVED_BODY, processed_at=func.coalesce(WebhookDelivery.processed_at, now))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def erase_call_details(session: AsyncSession, call_ids: Sequence[str], secrets: Sequence[str]) -> None:
    """An erasure goes further than retention: the number called, the seller's notes and the callback text
    leave the calls, and the lead's name and number leave the calls' audit trail and failure reasons."""
    if not call_ids:
        return
    await session.execute(
        update(CallLog).where(CallLog.id.in_(call_ids))
        .values(to_number="", notes=None, callback_text=None, next_action=None)
        .execution_options(synchronize_session=False))
    for secret in secrets:
        if not secret:
            continue
        await session.execute(
            update(CallEvent).where(CallEvent.call_id.in_(call_ids), CallEvent.detail.contains(secret, autoescape=True))
            .values(detail=func.replace(CallEvent.detail, secret, ERASED))
            .execution_options(synchronize_session=False))
        await session.execute(
            update(CallLog).where(CallLog.id.in_(call_ids), CallLog.failure_reason.contains(secret, autoescape=True))
            .values(failure_reason=func.replace(CallLog.failure_reason, secret, ERASED))
            .execution_options(synchronize_session=False))


def _scrub(value: Any, secrets: Sequence[str]) -> Any:
    """`value` (text, or JSON made of dicts, lists and text) with every secret replaced."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, ERASED)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


async def erase_lead_records(session: AsyncSession, lead_id: str, secrets: Sequence[str]) -> None:
    """The lead's own records stay as evidence (its audit trail, consents, callbacks), without its personal data."""
    secrets = [s for s in secrets if s]
    for event in (await session.execute(select(LeadEvent).where(LeadEvent.lead_id == lead_id))).scalars():
        event.detail = None  # free text (a do-not-call reason, a seller's note): it may say anything of the lead
        event.params = _scrub(event.params, secrets)
    for consent in (await session.execute(select(LeadConsent).where(LeadConsent.lead_id == lead_id))).scalars():
        consent.text = _scrub(consent.text, secrets)
    for callback in (await session.execute(select(Callback).where(Callback.lead_id == lead_id))).scalars():
        callback.note = callback.requested_text = None  # the seller's note, the lead's words for the time
        callback.reason = _scrub(callback.reason, secrets)
        callback.moved_params = _scrub(callback.moved_params, secrets)


async def request_provider_deletion(session: AsyncSession, tenant_id: str, call_ids: Sequence[str], *,
                                    reason: str, now: datetime) -> int:
    """Queues the conversations of these calls for deletion at ElevenLabs (once per call)."""
    if not call_ids:
        return 0
    rows = (await session.execute(
        select(CallLog.id, CallLog.account_id, CallLog.conversation_id)
        .where(CallLog.tenant_id == tenant_id, CallLog.id.in_(call_ids), CallLog.conversation_id.is_not(None),
               CallLog.id.not_in(select(ConversationDeletion.call_id))))).all()
    if not rows:
        return 0
    values = [{"id": new_id(), "tenant_id": tenant_id, "call_id": call_id, "account_id": account_id,
               "conversation_id": conversation_id, "reason": reason, "requested_at": now, "attempts": 0}
              for call_id, account_id, conversation_id in rows]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(ConversationDeletion).values(values)
                          .on_conflict_do_nothing(index_elements=["call_id"]))
    return len(values)

