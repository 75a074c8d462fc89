"""`leadcall doctor`: read-only checks of one ElevenLabs account against what leadcall needs of it.

It changes nothing (no PATCH, no call): the connection, the account's agents with what leadcall's
analysis would add to each (a dry run of voice/analysis.py's plan), its phone numbers, and the
post-call webhook URL the workspace must call (leadcall cannot read the workspace's webhook settings
through the API it uses, so it says what to check there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import NotFound
from leadcall.core.scoping import Scope
from leadcall.voice import analysis
from leadcall.voice.analysis_setup import statuses, tenant_language
from leadcall.voice.errors import ProviderError
from leadcall.voice.manager import VoiceManager
from leadcall.voice.repository import AgentRepository, unscoped_get_account
from leadcall.voice.service import webhook_url


@dataclass
class AgentCheck:
    agent_id: str
    name: str
    enabled: bool | None  # None: leadcall has not listed it yet
    analysis_state: str
    would_add: list[str] = field(default_factory=list)
    keeps: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Report:
    account: str
    connection_ok: bool
    connection_detail: str
    webhook_url: str
    has_webhook_secret: bool
    agents: list[AgentCheck] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"account: {self.account}",
               f"connection: {'ok' if self.connection_ok else 'FAILED'} ({self.connection_detail})",
               f"post-call webhook: the workspace must send post_call_transcription (and call_initiation_failure) "
               f"to {self.webhook_url}, enabled, signed with the secret stored here"
               f" ({'stored' if self.has_webhook_secret else 'NOT STORED: webhooks will be refused'})",
               f"phone numbers: {', '.join(self.numbers) if self.numbers else 'none'}"]
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
        out += [f"problem: {p}" for p in self.problems]
        return out


async def check_account(session: AsyncSession, manager: VoiceManager, account_id: str, *,
                        public_base_url: str) -> Report:
    account = await unscoped_get_account(session, account_id)
    if account is None:
        raise NotFound(f"no ElevenLabs account with id {account_id}", code="not_found", params={"what": "account"})
    provider = manager.provider(account)
    check = await manager.test_connection(provider)
    report = Report(account=f"{account.name} ({account.id}, {account.base_url})", connection_ok=check.ok,
                    connection_detail=check.detail, webhook_url=webhook_url(public_base_url, account.id),
                    has_webhook_secret=account.webhook_secret_encrypted is not None)
    if not check.ok:
        report.problems.append("the key cannot be used; nothing else was checked")
        return report
    language = await tenant_language(session, account.tenant_id)
    scope = Scope(account.tenant_id)
    refs = {r.agent_id: r for r in await AgentRepository(session, scope).for_accounts([account.id])}
    states = await statuses(session, scope, [r.id for r in refs.values()])
    try:
        report.numbers = [f"{n.number} ({n.kind}{', agent ' + n.assigned_agent_id if n.assigned_agent_id else ''})"
                          for n in await provider.list_phone_numbers()]
        summaries = await provider.list_agents()
    except ProviderError as exc:
        report.problems.append(f"listing agents or numbers failed: {exc.detail}")
        return report
    if not report.numbers:
        report.problems.append("the account has no phone number: no agent can call")
    for summary in summaries:
        ref = refs.get(summary.agent_id)
        status = states.get(ref.id) if ref is not None else None
        item = AgentCheck(summary.agent_id, summary.name, ref.is_enabled if ref is not None else None,
                          status.state.value if status is not None else "not_set_up")
        try:
            current = await provider.get_analysis_setup(summary.agent_id)
        except ProviderError as exc:
            item.problem = exc.detail
        else:
            call_types = [str(c) for c in ref.allowed_call_types] if ref is not None else []
            plan = analysis.plan(current, language=language, call_types=call_types,
                                 opted_out=status is not None and status.state.value == "opted_out")
            item.would_add, item.keeps = list(plan.added), list(plan.kept)
        report.agents.append(item)
    return report
