"""Each account's webhook and call figures, from the stored webhooks and call logs (voice/health.py says what
they mean and when they warn)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import CallLog, CallStatus, WebhookDelivery
from leadcall.core.scoping import Scope
from leadcall.voice.health import WEBHOOK_GRACE_SECONDS, WINDOW, AccountActivity, ProviderProblem


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0)).cast(Integer)


class CallActivity:
    async def account_activity(self, session: AsyncSession, scope: Scope, account_ids: list[str], *,
                               now: datetime) -> dict[str, AccountActivity]:
        if not account_ids:
            return {}
        since, settled = now - WINDOW, now - timedelta(seconds=WEBHOOK_GRACE_SECONDS)
        hooks = (select(WebhookDelivery.account_id, func.max(WebhookDelivery.received_at),
                        _count(WebhookDelivery.last_error.is_not(None) & WebhookDelivery.processed_at.is_not(None)
                               & (WebhookDelivery.received_at >= since)))
                 .where(WebhookDelivery.tenant_id == scope.tenant_id, WebhookDelivery.account_id.in_(account_ids))
                 .group_by(WebhookDelivery.account_id))
        last_hook: dict[str, datetime | None] = {}
        unapplied: dict[str, int] = {}
        for account_id, last, bad in (await session.execute(hooks)).all():
            last_hook[account_id], unapplied[account_id] = last, int(bad or 0)

        ended = func.coalesce(CallLog.end_time, CallLog.updated_at)
        no_webhook = ~exists().where(WebhookDelivery.account_id == CallLog.account_id,
                                     WebhookDelivery.conversation_id == CallLog.conversation_id)
        last_received = (select(func.max(WebhookDelivery.received_at))
                         .where(WebhookDelivery.account_id == CallLog.account_id).scalar_subquery())
        stopped = and_(no_webhook, ended <= settled, or_(last_received.is_(None), ended > last_received))
        calls = (select(CallLog.account_id, func.count(CallLog.id), _count(no_webhook),
                        func.min(case((stopped, ended), else_=None)))
                 .where(CallLog.tenant_id == scope.tenant_id, CallLog.account_id.in_(account_ids),
                        CallLog.status == CallStatus.completed.value, CallLog.conversation_id.is_not(None),
                        ended >= since)
                 .group_by(CallLog.account_id))
        figures: dict[str, tuple[int, int, datetime | None]] = {
            account_id: (int(total), int(polled or 0), first_stopped)
            for account_id, total, polled, first_stopped in (await session.execute(calls)).all()}

        problems: dict[str, ProviderProblem] = {}
        for account_id in account_ids:  # a tenant has a few accounts; each its newest refused dial
            failed = (select(CallLog.failure_code, CallLog.failure_reason, CallLog.created_at)
                      .where(CallLog.tenant_id == scope.tenant_id, CallLog.account_id == account_id,
                             CallLog.failure_code.is_not(None))
                      .order_by(CallLog.created_at.desc()).limit(1))
            row = (await session.execute(failed)).first()
            if row is not None:
                problems[account_id] = ProviderProblem(code=str(row[0]), detail=row[1] or "", at=row[2], where="call")

        found: dict[str, AccountActivity] = {}
        for account_id in set(last_hook) | set(figures) | set(problems):
            total, polled, first_stopped = figures.get(account_id, (0, 0, None))
            found[account_id] = AccountActivity(
                last_webhook_at=last_hook.get(account_id), unapplied_webhooks=unapplied.get(account_id, 0),
                calls_ended=total, polling_only=polled, stopped_since=first_stopped,
                last_call_problem=problems.get(account_id))
        return found
