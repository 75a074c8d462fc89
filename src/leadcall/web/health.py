"""Settings page, for admins: each ElevenLabs account's health (voice/health.py) with its check (the read-only
doctor: voice/doctor.py), and the agents' statistics over a period the admin chooses (voice/stats.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from leadcall.core.boundary import check_request
from leadcall.core.deps import DbSession, Now
from leadcall.tenancy.principal import Principal
from leadcall.voice import doctor
from leadcall.voice import service as voice
from leadcall.voice import stats as agent_stats
from leadcall.voice.manager import VoiceManager
from leadcall.voice.schemas import AccountCheck, AccountHealthView
from leadcall.web.auth import AdminPage, page_principal
from leadcall.web.forms import PageRoute, field_problem, query_day
from leadcall.web.i18n import translate
from leadcall.web.rendering import language_of, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_principal), Depends(check_request)],
                   route_class=PageRoute)
PERIODS = (7, 30, 90)


def _voices(request: Request) -> VoiceManager:
    manager: VoiceManager = request.app.state.voice_manager
    return manager


def age_text(language: str, seconds: int | None) -> str:
    if seconds is None:
        return ""
    amount = (f"{seconds} s" if seconds < 60 else f"{seconds // 60} min" if seconds < 3600
              else f"{seconds // 3600} h" if seconds < 86400 else f"{seconds // 86400} d")
    return translate(language, "health.age", age=amount)


@dataclass(frozen=True)
class WarningView:
    code: str
    text: str


def warning_views(language: str, health: AccountHealthView) -> list[WarningView]:
    views = []
    for w in health.warnings:
        p = w.params
        values: dict[str, object] = {"count": p.get("pollingOnly", p.get("count", 0)), "url": p.get("url") or "—",
                                     "since": str(p.get("since") or p.get("at") or "")[:16].replace("T", " ")}
        views.append(WarningView(w.code, translate(language, f"healthwarning.{w.code}", **values)))
    return views


async def _health_panel(request: Request, principal: Principal, session: DbSession, now: datetime, account_id: str,
                        report: AccountCheck | None = None) -> Response:
    account = await voice.get_account(session, principal.tenant_scope, account_id)
    health = (await voice.accounts_health(session, principal.tenant_scope, _voices(request), [account], now))[account.id]
    language = language_of(request, principal)
    return render(request, "_account_health.html", principal, account=account, h=health, report=report,
                  warnings=warning_views(language, health),
                  webhook_age=age_text(language, health.last_webhook_age_seconds))


@router.get("/settings/accounts/{account_id}/health")
async def account_health(account_id: str, request: Request, principal: AdminPage, session: DbSession,
                         now: Now) -> Response:
    return await _health_panel(request, principal, session, now, account_id)


@router.post("/settings/accounts/{account_id}/check")
async def check_account(account_id: str, request: Request, principal: AdminPage, session: DbSession,
                        now: Now) -> Response:
    """The doctor, read-only at ElevenLabs (no PATCH, no call); what it learns of the webhook is stored."""
    account = await voice.get_account(session, principal.tenant_scope, account_id)
    report = await doctor.inspect(session, _voices(request), account,
                                  public_base_url=request.app.state.container.settings.public_base_url, now=now)
    return await _health_panel(request, principal, session, now, account_id, doctor.report_view(account.id, report,
                                                                                                 now))


@router.get("/settings/agent-stats")
async def agent_statistics(request: Request, principal: AdminPage, session: DbSession, now: Now,
                           days: int | None = Query(default=None),
                           from_: str | None = Query(default=None, alias="from"),
                           to: str | None = Query(default=None)) -> Response:
    """Each agent's figures over the last `days` (7, 30, 90) or from one day to another (both included)."""
    start, end = query_day(from_, "from"), query_day(to, "to")
    if start is not None or end is not None:
        until = datetime.combine((end or now.date()) + timedelta(days=1), time(), UTC)
        since_day = start or (until - timedelta(days=agent_stats.DEFAULT_PERIOD_DAYS)).date()
        since = datetime.combine(since_day, time(), UTC)
        chosen = None
    else:
        if days is not None and days not in PERIODS:
            raise RequestValidationError([field_problem("days", "enum", "choose 7, 30 or 90",
                                                        expected=", ".join(map(str, PERIODS)))])
        chosen = days or agent_stats.DEFAULT_PERIOD_DAYS
        since, until = now - timedelta(days=chosen), now
    since, until = agent_stats.period(since, until, now)
    manager = _voices(request)
    agents = await manager.availability(session, tenant_id=principal.tenant_id,
                                        organization_id=principal.organization_id, call_type=None,
                                        include_unusable=True)
    figures = await manager.agent_stats.agent_stats(session, principal.scope, since=since, until=until,
                                                    call_type=None)
    rows = [(a, figures.get(a.ref.id)) for a in agents]
    return render(request, "_agent_stats_table.html", principal, rows=rows, periods=PERIODS, chosen=chosen,
                  since=since, until=until, last_day=(until - timedelta(seconds=1)).date())
