"""Retention: the period a tenant's admin sets, and the sweep that applies it.

The policy lives on the tenant row: `retention_days` (None keeps everything) and
`retention_delete_at_provider`. The sweep (a chore of the worker's pass, hourly; also
`leadcall retention run`) removes, for each tenant with a period, the content of its
ended calls created before the cutoff (see `redaction`), empties the raw webhooks it
received before the cutoff, and with the provider option queues those conversations
for deletion at ElevenLabs. Then it sends every queued deletion (retention's and
erasures'), at most `MAX_DELETE_ATTEMPTS` times each, outside any transaction.

Work goes in batches of `BATCH` calls per transaction, so no transaction holds a
tenant's whole history, and every step is idempotent: a sweep that dies midway is
finished by the next one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.calls.models import TERMINAL, CallEvent, CallLog
from leadcall.core.db import transaction
from leadcall.core.errors import Invalid
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.retention import redaction, schemas
from leadcall.retention.models import ConversationDeletion
from leadcall.tenancy.models import Tenant
from leadcall.tenancy.repository import unscoped_get_tenant
from leadcall.voice.errors import ProviderError
from leadcall.voice.manager import VoiceManager
from leadcall.voice.repository import unscoped_get_account

log = logging.getLogger("leadcall.retention")

BATCH = 200
MAX_DELETE_ATTEMPTS = 5
SWEEP_EVERY_SECONDS = 3600
_TERMINAL = [s.value for s in TERMINAL]


async def get_policy(session: AsyncSession, tenant_id: str) -> schemas.RetentionPolicy:
    tenant = await unscoped_get_tenant(session, tenant_id)
    assert tenant is not None
    pending, failed = (await session.execute(
        select(func.count().filter(ConversationDeletion.attempts < MAX_DELETE_ATTEMPTS),
               func.count().filter(ConversationDeletion.attempts >= MAX_DELETE_ATTEMPTS))
        .where(ConversationDeletion.tenant_id == tenant_id, ConversationDeletion.deleted_at.is_(None)))).one()
    return schemas.RetentionPolicy(days=tenant.retention_days, delete_at_provider=tenant.retention_delete_at_provider,
                                   pending_deletions=int(pending or 0), failed_deletions=int(failed or 0))


async def put_policy(session: AsyncSession, tenant_id: str,
                     data: schemas.RetentionPolicyUpdate) -> schemas.RetentionPolicy:
    if data.delete_at_provider and data.days is None:
        raise Invalid("deleting conversations at ElevenLabs needs a retention period (days)",
                      extra={"field": "deleteAtProvider"}, code="retention_needs_days")
    tenant = await unscoped_get_tenant(session, tenant_id)
    assert tenant is not None
    tenant.retention_days = data.days
    tenant.retention_delete_at_provider = data.delete_at_provider
    await session.flush()
    return await get_policy(session, tenant_id)


class RetentionService:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], voices: VoiceManager,
                 clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.voices = voices
        self.clock = clock

    def now(self) -> datetime:
        return utc_datetime(self.clock)

    async def sweep(self, tenant_id: str | None = None) -> schemas.RetentionRun:
        """Applies every tenant's policy (or one tenant's), then sends the queued deletions."""
        async with transaction(self.sessionmaker) as session:
            stmt = (select(Tenant.id, Tenant.retention_days, Tenant.retention_delete_at_provider)
                    .where(Tenant.retention_days.is_not(None)))
            if tenant_id is not None:
                stmt = stmt.where(Tenant.id == tenant_id)
            tenants = (await session.execute(stmt)).all()
        run = schemas.RetentionRun(calls=0, webhooks=0, deletions_requested=0, deleted_at_provider=0,
                                   deletion_failures=0)
        for each_tenant, days, at_provider in tenants:
            if days is None:
                continue
            calls, webhooks, requested = await self.apply_policy(each_tenant, days, bool(at_provider))
            run.calls += calls
            run.webhooks += webhooks
            run.deletions_requested += requested
        run.deleted_at_provider, run.deletion_failures = await self.delete_conversations(tenant_id)
        return run

    async def sweep_count(self) -> int:
        """The sweep as a worker chore: the work it did."""
        run = await self.sweep()
        return run.calls + run.webhooks + run.deleted_at_provider

    async def apply_policy(self, tenant_id: str, days: int, at_provider: bool) -> tuple[int, int, int]:
        """Returns (calls whose content went, webhooks emptied, deletions queued)."""
        now = self.now()
        cutoff = now - timedelta(days=days)
        calls = requested = 0
        while True:
            async with transaction(self.sessionmaker) as session:
                rows = (await session.execute(
                    select(CallLog.id, CallLog.account_id, CallLog.conversation_id)
                    .where(CallLog.tenant_id == tenant_id, CallLog.created_at < cutoff,
                           CallLog.transcript_purged_at.is_(None), CallLog.status.in_(_TERMINAL),
                           CallLog.next_check_at.is_(None))
                    .order_by(CallLog.created_at).limit(BATCH))).all()
                ids = [r.id for r in rows]
                calls += await redaction.remove_call_content(session, ids, now)
                await redaction.remove_webhook_bodies(
                    session, [(r.account_id, r.conversation_id) for r in rows if r.conversation_id], now)
                for call_id in ids:
                    session.add(CallEvent(tenant_id=tenant_id, call_id=call_id, at=now, source="retention",
                                          kind="content_removed",
                                          detail=f"transcript, summary and recording removed after {days} days"))
            if len(rows) < BATCH:
                break
        async with transaction(self.sessionmaker) as session:
            webhooks = await redaction.remove_old_webhook_bodies(session, tenant_id, cutoff, now)
        while at_provider:
            async with transaction(self.sessionmaker) as session:
                ids = list((await session.execute(
                    select(CallLog.id).where(CallLog.tenant_id == tenant_id, CallLog.created_at < cutoff,
                                             CallLog.status.in_(_TERMINAL), CallLog.conversation_id.is_not(None),
                                             CallLog.id.not_in(select(ConversationDeletion.call_id)))
                    .order_by(CallLog.created_at).limit(BATCH))).scalars())
                requested += await redaction.request_provider_deletion(session, tenant_id, ids, reason="retention",
                                                                       now=now)
            if len(ids) < BATCH:
                break
        return calls, webhooks, requested

    async def delete_conversations(self, tenant_id: str | None = None) -> tuple[int, int]:
        """Sends the queued deletions (of one tenant, or all); returns (deleted, failed attempts)."""
        deleted = failed = 0
        async with transaction(self.sessionmaker) as session:
            stmt = (select(ConversationDeletion.id)
                    .where(ConversationDeletion.deleted_at.is_(None),
                           ConversationDeletion.attempts < MAX_DELETE_ATTEMPTS)
                    .order_by(ConversationDeletion.requested_at).limit(10 * BATCH))
            if tenant_id is not None:
                stmt = stmt.where(ConversationDeletion.tenant_id == tenant_id)
            pending = list((await session.execute(stmt)).scalars())
        for deletion_id in pending:
            if await self._delete_one(deletion_id):
                deleted += 1
            else:
                failed += 1
        return deleted, failed

    async def _delete_one(self, deletion_id: str) -> bool:
        async with transaction(self.sessionmaker) as session:
            deletion = await session.get(ConversationDeletion, deletion_id)
            if deletion is None or deletion.deleted_at is not None:
                return True
            account = await unscoped_get_account(session, deletion.account_id)
            conversation_id = deletion.conversation_id
        error: str | None = None
        known = True
        if account is None:
            error = "the ElevenLabs account of this call is no longer connected"
        else:
            try:
                known = await self.voices.provider(account).delete_conversation(conversation_id)
            except ProviderError as exc:
                error = exc.detail
        async with transaction(self.sessionmaker) as session:
            deletion = await session.get(ConversationDeletion, deletion_id, with_for_update=True)
            if deletion is None or deletion.deleted_at is not None:
                return error is None
            now = self.now()
            deletion.attempts += 1
            if error is None:
                deletion.deleted_at = now
                deletion.last_error = None
                detail = (f"conversation {conversation_id} deleted at ElevenLabs ({deletion.reason})" if known else
                          f"conversation {conversation_id} was already gone at ElevenLabs ({deletion.reason})")
            else:
                deletion.last_error = error[:500]
                left = MAX_DELETE_ATTEMPTS - deletion.attempts
                detail = (f"could not delete conversation {conversation_id} at ElevenLabs: {error}"
                          + (f" (trying again, {left} more time(s))" if left else " (giving up)"))
                log.warning("deleting conversation %s failed: %s", conversation_id, error)
            session.add(CallEvent(tenant_id=deletion.tenant_id, call_id=deletion.call_id, at=now, source="retention",
                                  kind="provider_deleted" if error is None else "provider_delete_failed",
                                  detail=detail[:2000]))
        return error is None
