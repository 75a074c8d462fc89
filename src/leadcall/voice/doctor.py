"""`leadcall doctor`: read-only checks of one ElevenLabs account against what leadcall needs of it.

It changes nothing at ElevenLabs (no PATCH, no call): the connection, the workspace's post-call webhook as
ElevenLabs reports it (whether it points at this leadcall account and is enabled: voice/health.py; the
result is stored as the account's health), the account's agents with what leadcall's analysis would add to
each (a dry run of voice/analysis.py's plan, with the PATCH body set-up would send), and its phone numbers.
Placing a test call is the CLI's `--call` (cli/doctor.py), through the normal placement path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.db import commit
from leadcall.core.errors import NotFound
from leadcall.core.scoping import Scope
from leadcall.voice import analysis, schemas
from leadcall.voice.analysis_setup import statuses, tenant_language
from leadcall.voice.errors import ProviderError
from leadcall.voice.health import WebhookCheck, WebhookState, store_check
from leadcall.voice.health import check_webhook as check_post_call_webhook
from leadcall.voice.manager import VoiceManager
from leadcall.voice.models import ElevenLabsAccount
from leadcall.voice.providers.elevenlabs.adapter import analysis_patch_body
from leadcall.voice.repository import AgentRepository, unscoped_get_account
from leadcall.voice.service import accounts_health, webhook_url
from leadcall.voice.types import VoiceProvider


@dataclass
class AgentCheck:
    agent_id: str
    name: str
    enabled: bool | None  # None: leadcall has not listed it yet
    analysis_state: str
    would_add: list[str] = field(default_factory=list)
    keeps: list[str] = field(default_factory=list)
    problem: str | None = None
    patch_body: dict[str, Any] | None = None  # what set-up sends (the whole analysis: items to keep included)


@dataclass
class Report:
    account: str
    connection_ok: bool
    connection_detail: str
    webhook_url: str | None  # None: a bare key, no leadcall account
    has_webhook_secret: bool | None
    webhook: WebhookCheck | None = None
    live_at_provider: int | None = None  # conversations ElevenLabs counts live now (leadcall's own and others')
    agents: list[AgentCheck] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self, *, show_patch: bool = False) -> list[str]:
        out = [f"account: {self.account}",
               f"connection: {'ok' if self.connection_ok else 'FAILED'} ({self.connection_detail})",
               *([f"webhook secret: {'stored' if self.has_webhook_secret else 'NOT STORED: webhooks will be refused'}"]
                 if self.has_webhook_secret is not None else [])]
        if self.webhook is not None:
            w = self.webhook
            out.append(f"post-call webhook: {w.state.value.upper() if w.state is not WebhookState.ok else 'ok'} "
                       f"({w.detail})")
            if w.seen_url:
                out.append(f"  ElevenLabs sends to: {w.seen_url}; events: {', '.join(w.events) or 'none listed'}")
            if w.failure_at is not None:
                out.append(f"  ElevenLabs' last failed delivery: {w.failure_at.isoformat()} "
                           f"(status {w.failure_code if w.failure_code is not None else 'none: no answer'})")
        if self.webhook_url is not None:
            out.append(f"  leadcall expects: {self.webhook_url}")
        if self.live_at_provider is not None:
            out.append(f"live now at ElevenLabs: {self.live_at_provider} conversation(s), placed by leadcall or not "
                       "(each takes one of the workspace's concurrent calls)")
        out.append(f"phone numbers: {', '.join(self.numbers) if self.numbers else 'none'}")
        for a in self.agents:
            state = "enabled" if a.enabled else ("disabled" if a.enabled is False else "not listed by leadcall yet")
            out.append(f"agent {a.name} ({a.agent_id}), {state}, analysis {a.analysis_state}")
            if a.problem:
                out.append(f"  cannot read its analysis: {a.problem}")
            elif a.would_add:
                out.append(f"  set up would add or update: {', '.join(a.would_add)}")
            else:
                out.append("  leadcall's analysis items are in place")
            if a.keeps:
                out.append(f"  the agent's own items, kept unchanged: {', '.join(a.keeps)}")
            if show_patch and a.patch_body is not None:
                out.append(f"  PATCH /v1/convai/agents/{a.agent_id} (what set-up sends):")
                out += ["    " + line for line in json.dumps(a.patch_body, indent=2, ensure_ascii=False).splitlines()]
        out += [f"problem: {p}" for p in self.problems]
        return out


async def check_account(session: AsyncSession, manager: VoiceManager, account_id: str, *,
                        public_base_url: str, now: datetime) -> Report:
    """The operator's check (`leadcall doctor`): any tenant's account by its id."""
    account = await unscoped_get_account(session, account_id)
    if account is None:
        raise NotFound(f"no ElevenLabs account with id {account_id}", code="not_found", params={"what": "account"})
    return await inspect(session, manager, account, public_base_url=public_base_url, now=now)


async def inspect(session: AsyncSession, manager: VoiceManager, account: ElevenLabsAccount, *,
                  public_base_url: str, now: datetime) -> Report:
    """Every read-only check of one account (the settings page's check passes a tenant's own account).

    What leadcall knows of the account is read first and that transaction ended before ElevenLabs is asked:
    a slow or silent API never holds the database (on SQLite, the one write lock every placement and webhook
    waits for) while it answers. What ElevenLabs says of the webhook is stored afterwards, in a short one."""
    scope = Scope(account.tenant_id)
    refs = {r.agent_id: r for r in await AgentRepository(session, scope).for_accounts([account.id])}
    states = await statuses(session, scope, [r.id for r in refs.values()])
    language = await tenant_language(session, account.tenant_id)
    known = {agent_id: (r.is_enabled, [str(c) for c in r.allowed_call_types],
                        states[r.id].state.value if r.id in states else "not_set_up") for agent_id, r in refs.items()}
    await commit(session)
    provider = manager.provider(account)
    check = await manager.test_connection(provider)
    report = Report(account=f"{account.name} ({account.id}, {account.base_url})", connection_ok=check.ok,
                    connection_detail=check.detail, webhook_url=webhook_url(public_base_url, account.id),
                    has_webhook_secret=account.webhook_secret_encrypted is not None)
    if not check.ok:
        report.problems.append("the key cannot be used; nothing else was checked")
        return report
    report.webhook = await check_post_call_webhook(provider, report.webhook_url)
    await _read_agents(report, provider, language=language, refs=known)
    await store_check(session, account, report.webhook, now)
    return report


async def inspect_key(provider: VoiceProvider, *, label: str, language: str = "en") -> Report:
    """The same checks for a bare API key (`leadcall doctor --api-key-env`, `./dev test` against a real account):
    no leadcall account, so no URL its webhook should name (the check says where it points and whether enabled)."""
    check = await provider.test_connection()
    report = Report(account=label, connection_ok=check.ok, connection_detail=check.detail, webhook_url=None,
                    has_webhook_secret=None)
    if not check.ok:
        report.problems.append("the key cannot be used; nothing else was checked")
        return report
    report.webhook = await check_post_call_webhook(provider, None)
    await _read_agents(report, provider, language=language, refs={})
    return report


async def _read_agents(report: Report, provider: VoiceProvider, *, language: str,
                       refs: dict[str, tuple[bool, list[str], str]]) -> None:
    """Numbers and agents, with the analysis dry run; `refs`: agent id → (enabled, call types, analysis state)
    as leadcall knows the agent."""
    if report.webhook is not None and report.webhook.state is not WebhookState.ok:
        report.problems.append(f"post-call webhook: {report.webhook.detail}")
    try:
        report.live_at_provider = await provider.live_count()
    except ProviderError as exc:
        report.problems.append(f"ElevenLabs did not say how many calls are live: {exc.detail}")
    try:
        report.numbers = [f"{n.number} ({n.kind}{', agent ' + n.assigned_agent_id if n.assigned_agent_id else ''})"
                          for n in await provider.list_phone_numbers()]
        summaries = await provider.list_agents()
    except ProviderError as exc:
        report.problems.append(f"listing agents or numbers failed: {exc.detail}")
        return
    if not report.numbers:
        report.problems.append("the account has no phone number: no agent can call")
    for summary in summaries:
        enabled, call_types, state = refs.get(summary.agent_id, (None, [], "not_set_up"))
        item = AgentCheck(summary.agent_id, summary.name, enabled, state)
        try:
            current = await provider.get_analysis_setup(summary.agent_id)
        except ProviderError as exc:
            item.problem = exc.detail
        else:
            plan = analysis.plan(current, language=language, call_types=call_types, opted_out=state == "opted_out")
            item.would_add, item.keeps = list(plan.added), list(plan.kept)
            item.patch_body = analysis_patch_body(plan.target)
        report.agents.append(item)

def report_view(config_id: str, report: Report, checked_at: datetime) -> schemas.AccountCheck:
    w = report.webhook
    return schemas.AccountCheck(
        config_id=config_id, connection_ok=report.connection_ok, connection_detail=report.connection_detail,
        webhook_url=report.webhook_url or "", has_webhook_secret=bool(report.has_webhook_secret),
        workspace_webhook=None if w is None else schemas.WorkspaceWebhookView(
            state=w.state.value, detail=w.detail, url=w.seen_url, checked_at=checked_at, last_failure_code=w.failure_code,
            last_failure_at=w.failure_at),
        numbers=report.numbers, problems=report.problems, live_now_at_provider=report.live_at_provider,
        agents=[schemas.AgentCheckView(agent_id=a.agent_id, name=a.name, enabled=a.enabled,
                                       analysis_state=a.analysis_state, would_add=a.would_add, keeps=a.keeps,
                                       problem=a.problem) for a in report.agents])


async def health_lines(session: AsyncSession, manager: VoiceManager, account_id: str, now: datetime) -> list[str]:
    """The account's health as the settings page shows it (voice/health.py), in a few lines."""
    account = await unscoped_get_account(session, account_id)
    if account is None:
        return []
    h = (await accounts_health(session, Scope(account.tenant_id), manager, [account], now))[account.id]
    last = (f"{h.last_webhook_at.isoformat()} ({h.last_webhook_age_seconds} s ago)" if h.last_webhook_at
            else "none yet")
    out = [f"health: {h.status.upper() if h.status != 'ok' else 'ok'}"
           + (f" ({', '.join(w.code for w in h.warnings)})" if h.warnings else ""),
           f"  last webhook received: {last}; refused here: {h.webhooks_refused}; not applied: {h.unapplied_webhooks}",
           f"  last {h.window_hours} h: {h.calls_ended} calls ended, {h.polling_only_calls} followed by polling only",
           f"  concurrency: {h.remaining_concurrency} free ({h.live_calls} live of {h.concurrency_limit})"]
    if h.last_provider_error is not None:
        e = h.last_provider_error
        out.append(f"  last provider error ({e.where}, {e.at.isoformat()}): {e.code}: {e.detail}")
    return out
