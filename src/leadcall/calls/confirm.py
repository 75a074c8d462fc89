"""Calls whose placing ElevenLabs did not confirm, found again by our id.

Every dial carries the call's own id (`CallRequest.reference`: ElevenLabs' `user_id` and the
dynamic variable `leadcall_call_id`), and ElevenLabs hands it back with the conversation and
with its transcription webhook. So when a dial gets no clear answer — a timeout, a 5xx, a
connection cut after the request left, an unreadable answer, or the server stopping between
reserving the call and recording the answer — the call may well be ringing: it is neither
failed nor dialled again. It stays `initiating`, "confirming with ElevenLabs"
(`confirming_since`), and as a live call it keeps the lead from being called again. It leaves
that state in one of three ways:

* the reconciler finds the conversation by our id (the agent's conversations since the dial,
  filtered by our id, each read back and matched; `confirm_call`, run by `check_call`);
* a webhook carrying our id arrives (`post_call_transcription`; `call_for_unknown_conversation`);
* searches that worked kept finding nothing for `CONFIRM_WINDOW_SECONDS` after the dial: then
  ElevenLabs has no such call, and the call fails saying so (you can call again).

A webhook for a conversation no call has yet is kept, not finalised, while a call of the same
account and agent is still waiting for its conversation id, and it is applied once the id lands
(`apply_kept_webhooks`); with no such call left it is not ours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls import insights, repository
from leadcall.calls.models import TERMINAL, CallLog, CallStatus, PhoneResult, TranscriptionStatus, WebhookDelivery
from leadcall.core import metrics
from leadcall.core.db import on_commit, transaction
from leadcall.voice.errors import ProviderError, ProviderRetriable
from leadcall.voice.repository import unscoped_get_account
from leadcall.voice.types import Conversation, WebhookEvent

if TYPE_CHECKING:
    from leadcall.calls.service import CallService

# A dial answers within its HTTP timeouts; a call reserved this long ago with no answer recorded was
# left by a server that stopped (or hangs) mid-dial.
DIAL_GRACE_SECONDS = 30
# How long after the dial searches that find nothing are believed: a conversation exists at
# ElevenLabs from the moment it accepts the call, so a few minutes cover any propagation.
CONFIRM_WINDOW_SECONDS = 5 * 60
# Our clock and ElevenLabs' may differ: search from a little before the dial.
CLOCK_SLACK_SECONDS = 120
# While ElevenLabs cannot be asked at all, keep trying this long past the call's deadline.
GIVE_UP_AFTER_DEADLINE = timedelta(hours=1)
# A kept webhook is looked at again this often until its call's conversation id lands.
KEPT_WEBHOOK_RETRY_SECONDS = 2
# The first look at a call whose dial got no clear answer, and the first poll of one just found.
FIRST_LOOK_SECONDS = 3

NOT_FOUND_REASON = ("ElevenLabs has no call with this call's id (looked up for {minutes} minutes after dialling): "
                    "it was not placed; you can call again")
UNREACHABLE_REASON = ("could not confirm with ElevenLabs whether the call was placed ({detail}); "
                      "check the lead's phone history before calling again")
UNCONFIRMED_ANSWER = ("ElevenLabs did not confirm the call ({reason}), so it may be ringing. leadcall is confirming "
                      "it with ElevenLabs by the call's id; until then the lead cannot be called again.")


def unconfirmed_reason(exc: ProviderRetriable) -> str:
    """What went wrong with a dial that may have placed its call, in a few words."""
    if exc.status_code is not None and exc.status_code >= 500:
        return f"it answered {exc.status_code}, a server error"
    if exc.code == "timeout":
        return "no answer in time"
    if exc.code == "unexpected_response":
        return "its answer could not be read"
    return "the connection broke before its answer arrived"


def is_confirming(call: CallLog) -> bool:
    return (call.confirming_since is not None and call.conversation_id is None
            and CallStatus(call.status) not in TERMINAL)


def placement_state(call: CallLog) -> str:
    """`dialing` (the dial is under way), `confirming`, `placed` (ElevenLabs has the conversation)
    or `not_placed`."""
    if call.conversation_id is not None:
        return "placed"
    if CallStatus(call.status) in TERMINAL:
        return "not_placed"
    return "confirming" if call.confirming_since is not None else "dialing"


async def mark_confirming(service: CallService, session: AsyncSession, call: CallLog, why: str, *, source: str) -> None:
    """The call may be ringing although ElevenLabs did not say so: look it up by our id from now on."""
    now = service.now()
    if call.confirming_since is None:
        call.confirming_since = now
        call.updated_at = now
        service.audit(session, call, source=source, kind="confirming",
                      detail=f"{why}; it may be ringing, so it is not dialled again: confirming with ElevenLabs "
                             f"by our id {call.id}")
        await service.publish_after_commit(session, call)
    call.next_check_at = now + timedelta(seconds=FIRST_LOOK_SECONDS)


async def record_unconfirmed(service: CallService, session: AsyncSession, call_id: str, detail: str) -> CallLog:
    """The dial's answer left open whether the call was placed (timeout, 5xx, cut connection)."""
    call = await repository.unscoped_get_call(session, call_id, for_update=True)
    assert call is not None
    if call.conversation_id is None and CallStatus(call.status) not in TERMINAL:
        await mark_confirming(service, session, call, f"ElevenLabs did not confirm the call ({detail})", source="api")
    return call


async def confirm_call(service: CallService, call_id: str, *, source: str) -> None:
    """Look a call without conversation id up at ElevenLabs by our id, and bind, wait or fail it."""
    from leadcall.calls.service import next_check_delay  # the polling backoff (service imports this module)

    async with transaction(service.sessionmaker) as session:
        call = await repository.unscoped_get_call(session, call_id, for_update=True)
        if call is None or call.conversation_id is not None or CallStatus(call.status) in TERMINAL:
            return
        now = service.now()
        if call.next_check_at is not None and call.next_check_at > now:
            return  # not due: another worker has just looked
        if call.confirming_since is None:
            dial_over_at = call.created_at + timedelta(seconds=DIAL_GRACE_SECONDS)
            if now < dial_over_at:  # a dial may still be under way in some process
                call.next_check_at = dial_over_at
                return
            await mark_confirming(service, session, call, "the server stopped before it recorded ElevenLabs' answer "
                                                          "to the dial", source=source)
            metrics.RECONCILER_ACTIONS.labels("confirming").inc()
        call.checks_made += 1
        call.next_check_at = now + timedelta(seconds=next_check_delay(call.checks_made))
        account = await unscoped_get_account(session, call.account_id)
        assert account is not None
        agent_id = call.agent_id
        dialled_at = int(call.created_at.timestamp())
    try:
        # A conversation starts when ElevenLabs accepts the call, right at the dial.
        found = await service.voices.provider(account).find_conversation(
            agent_id, call_id, dialled_at - CLOCK_SLACK_SECONDS, dialled_at + DIAL_GRACE_SECONDS + CLOCK_SLACK_SECONDS)
    except ProviderError as exc:
        metrics.RECONCILER_ACTIONS.labels("lookup_failed").inc()
        await _search_failed(service, call_id, exc.detail, source=source)
        return
    async with transaction(service.sessionmaker) as session:
        call = await repository.unscoped_get_call(session, call_id, for_update=True)
        if call is None or call.conversation_id is not None:
            return  # bound meanwhile (its webhook, or the dial's own answer)
        if found is not None:
            metrics.RECONCILER_ACTIONS.labels("found").inc()
            await bind(service, session, call, found, source=source, how="found at ElevenLabs by our id")
            await service.apply_conversation(session, call, found, source=source)
            if found.status.is_terminal:
                call.next_check_at = None
        elif service.now() >= call.created_at + timedelta(seconds=CONFIRM_WINDOW_SECONDS):
            metrics.RECONCILER_ACTIONS.labels("not_found").inc()
            await _fail(service, session, call,
                        NOT_FOUND_REASON.format(minutes=CONFIRM_WINDOW_SECONDS // 60), source=source)


async def _search_failed(service: CallService, call_id: str, detail: str, *, source: str) -> None:
    async with transaction(service.sessionmaker) as session:
        call = await repository.unscoped_get_call(session, call_id, for_update=True)
        if call is None or call.conversation_id is not None or CallStatus(call.status) in TERMINAL:
            return
        service.audit(session, call, source=source, kind="check_failed",
                      detail=f"could not look the call up at ElevenLabs: {detail}")
        if service.now() > (call.deadline_at or call.created_at) + GIVE_UP_AFTER_DEADLINE:
            metrics.RECONCILER_ACTIONS.labels("given_up").inc()
            await _fail(service, session, call, UNREACHABLE_REASON.format(detail=detail), source=source)


async def _fail(service: CallService, session: AsyncSession, call: CallLog, reason: str, *, source: str) -> None:
    call.failure_reason = reason[:500]
    call.phone_result = PhoneResult.failed.value
    call.transcription_status = TranscriptionStatus.failed.value
    call.next_action = insights.next_action(await service._language(session, call), PhoneResult.failed,
                                            None, None, None)
    if service._move(session, call, CallStatus.failed, source=source, detail=reason):
        await service._settle(session, call)
        await service.publish_after_commit(session, call)


async def bind(service: CallService, session: AsyncSession, call: CallLog, conv: Conversation, *, source: str,
               how: str) -> None:
    """The call is this conversation: store its id (then webhooks kept for it are applied)."""
    now = service.now()
    call.conversation_id = conv.conversation_id
    call.call_sid = call.call_sid or conv.call_sid
    call.updated_at = now
    detail = f"ElevenLabs has the call: conversation {conv.conversation_id} ({how})"
    if not service._move(session, call, CallStatus.ringing, source=source, detail=detail):
        service.audit(session, call, source=source, kind="confirmed", detail=detail)
    if CallStatus(call.status) not in TERMINAL:
        call.next_check_at = now + timedelta(seconds=FIRST_LOOK_SECONDS)
    await service.publish_after_commit(session, call)
    account_id, conversation_id = call.account_id, conv.conversation_id

    async def after_commit() -> None:
        # The agent's and lead's counters in their own transaction (billing's lock order, step 4).
        await service._count_placed_after_record(call, now)
        await apply_kept_webhooks(service, account_id, conversation_id)

    on_commit(session, after_commit)


async def apply_kept_webhooks(service: CallService, account_id: str, conversation_id: str) -> None:
    """Process the webhooks kept for a conversation whose call was not known when they arrived."""
    async with transaction(service.sessionmaker) as session:
        kept = list((await session.execute(
            select(WebhookDelivery.id).where(WebhookDelivery.account_id == account_id,
                                             WebhookDelivery.conversation_id == conversation_id,
                                             WebhookDelivery.processed_at.is_(None))
            .order_by(WebhookDelivery.received_at))).scalars())
    if service.jobs is None:
        return
    for delivery_id in kept:
        await service.jobs.enqueue("process_webhook", delivery_id)


async def call_for_unknown_conversation(service: CallService, session: AsyncSession, delivery: WebhookDelivery,
                                        event: WebhookEvent) -> tuple[CallLog | None, bool]:
    """For a webhook whose conversation no call has: the call it names by our id (now bound to it), or
    None and whether to keep the webhook (a call of that account and agent still awaits its
    conversation id, so it may be this one's)."""
    reference = event.conversation.reference if event.conversation is not None else None
    if reference and event.conversation is not None:
        call = await repository.unscoped_get_call(session, reference, for_update=True)
        if call is not None and call.account_id == delivery.account_id and call.conversation_id is None:
            await bind(service, session, call, event.conversation, source="webhook", how="its webhook carries our id")
            return call, False
    waiting = await repository.unscoped_unbound_call_exists(
        session, delivery.account_id, event.agent_id or None, placed_before=delivery.received_at
        + timedelta(seconds=CLOCK_SLACK_SECONDS))
    return None, waiting


def keep_for_later(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.retry_at = now + timedelta(seconds=KEPT_WEBHOOK_RETRY_SECONDS)
    delivery.last_error = "kept: its call is still waiting for its conversation id"
