"""Agent statistics from the call logs (voice/stats.py says what each figure means)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.calls.models import CallLog, PhoneResult, SalesResult
from leadcall.core.scoping import Scope
from leadcall.voice.stats import AgentStats


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0)).cast(Integer)


class CallStats:
    async def agent_stats(self, session: AsyncSession, scope: Scope, *, since: datetime, until: datetime,
                          call_type: str | None) -> dict[str, AgentStats]:
        answered = CallLog.phone_result == PhoneResult.answered.value
        interested = CallLog.sales_result == SalesResult.interested.value
        stmt = (select(CallLog.agent_ref_id, func.count(CallLog.id), _count(answered),
                       _count(CallLog.phone_result.is_not(None) & (CallLog.phone_result != PhoneResult.voicemail.value)),
                       _count(interested), _count(CallLog.sales_result == SalesResult.callback_requested.value),
                       _count(CallLog.opted_out.is_(True)),
                       func.avg(case((answered, CallLog.duration_seconds), else_=None)),
                       func.coalesce(func.sum(CallLog.cost), 0), _count(CallLog.cost.is_not(None)),
                       func.count(func.distinct(case((interested, CallLog.lead_id), else_=None))),
                       func.max(CallLog.cost_currency))
                .where(CallLog.tenant_id == scope.tenant_id, CallLog.created_at >= since, CallLog.created_at < until)
                .group_by(CallLog.agent_ref_id))
        if scope.organization_id is not None:
            stmt = stmt.where(CallLog.organization_id == scope.organization_id)
        if call_type is not None:
            stmt = stmt.where(CallLog.call_type == call_type)
        found: dict[str, AgentStats] = {}
        for ref_id, calls, ans, reachable, inter, callbacks, opt_outs, avg, cost, costed, leads, currency in (
                await session.execute(stmt)).all():
            total = round(float(cost or 0), 4)
            found[ref_id] = AgentStats(
                calls=int(calls), answered=int(ans or 0), connect_rate=_ratio(int(ans or 0), int(reachable or 0)),
                interested=int(inter or 0), interested_rate=_ratio(int(inter or 0), int(ans or 0)),
                callbacks=int(callbacks or 0), opt_outs=int(opt_outs or 0),
                avg_duration_seconds=round(float(avg), 1) if avg is not None else None, cost_total=total,
                cost_per_call=round(total / int(costed), 4) if costed else None,
                cost_per_interested_lead=round(total / int(leads), 4) if leads else None, currency=currency)
        return found
