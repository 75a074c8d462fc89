"""Agent statistics: how each agent's calls went over a period (for the picker, settings and the API).

The figures come from the call logs (calls/stats.py computes them); the voice layer only asks, through
`AgentStatsSource`, so agents can show them without the voice layer reading calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Invalid
from leadcall.core.scoping import Scope
from leadcall.voice.schemas import AgentStatsView

DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True)
class AgentStats:
    """One agent's calls placed in [since, until), of one call type or all.

    `connect_rate`: answered / calls with a phone result other than voicemail (voicemail excluded);
    `interested_rate`: interested / answered. Rates are None without calls to divide by; costs are the
    tenant's currency, exact to the cent fraction leadcall stores (4 decimals).
    """

    calls: int
    answered: int
    connect_rate: float | None
    interested: int
    interested_rate: float | None
    callbacks: int
    opt_outs: int
    avg_duration_seconds: float | None
    cost_total: float
    cost_per_call: float | None
    cost_per_interested_lead: float | None
    currency: str | None


EMPTY = AgentStats(0, 0, None, 0, None, 0, 0, None, 0.0, None, None, None)


class AgentStatsSource(Protocol):
    async def agent_stats(self, session: AsyncSession, scope: Scope, *, since: datetime, until: datetime,
                          call_type: str | None) -> dict[str, AgentStats]:
        """Agent reference id → its statistics (agents without calls are absent)."""
        ...


class NoStats:
    async def agent_stats(self, session: AsyncSession, scope: Scope, *, since: datetime, until: datetime,
                          call_type: str | None) -> dict[str, AgentStats]:
        return {}


def period(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The period asked for (`statsFrom`, `statsTo`), by default the last DEFAULT_PERIOD_DAYS days."""
    end = _aware(until) if until is not None else now
    start = _aware(since) if since is not None else end - timedelta(days=DEFAULT_PERIOD_DAYS)
    if start >= end:
        raise Invalid("statsFrom must be before statsTo", code="period_reversed",
                      params={"from": start.isoformat(), "to": end.isoformat()}, extra={"field": "statsFrom"})
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stats_view(stats: AgentStats | None, since: datetime, until: datetime, call_type: str | None) -> AgentStatsView:
    s = stats or EMPTY
    return AgentStatsView(since=since, until=until, call_type=call_type, calls=s.calls, answered=s.answered,
                          connect_rate=s.connect_rate, interested=s.interested, interested_rate=s.interested_rate,
                          callbacks=s.callbacks, opt_outs=s.opt_outs, avg_duration_seconds=s.avg_duration_seconds,
                          cost_total=s.cost_total, cost_per_call=s.cost_per_call,
                          cost_per_interested_lead=s.cost_per_interested_lead, currency=s.currency)
