"""Whether leadcall's analysis is set up on each agent, and setting it up (voice/analysis.py says what).

It is set up when an account is connected and whenever an agent is enabled or changed, and again on
request ("set up again"). An agent may be opted out: leadcall then takes its own items off the agent
and its calls are read by the keyword rules. A refusal by ElevenLabs (a key that may not write agents,
a 422) leaves the agent usable: it shows "analysis not set up: <reason>" and its calls fall back to
the keyword rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.scoping import Scope
from leadcall.tenancy.repository import unscoped_get_tenant
from leadcall.voice import analysis
from leadcall.voice.analysis_models import AgentAnalysisSetup, AnalysisState
from leadcall.voice.errors import ProviderError
from leadcall.voice.manager import VoiceManager
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.repository import AgentRepository

log = logging.getLogger("leadcall.voice.analysis")


NOT_SET_UP = "analysis not set up: "


@dataclass(frozen=True)
class AnalysisStatus:
    state: AnalysisState
    detail: str | None = None

    @property
    def reason(self) -> str | None:
        """Why it is not set up (ElevenLabs' words), without the sentence around them."""
        if self.detail and self.detail.startswith(NOT_SET_UP):
            return self.detail[len(NOT_SET_UP):]
        return None


NOT_YET = AnalysisStatus(AnalysisState.not_set_up, f"{NOT_SET_UP}not yet (set it up again)")


def status_of(row: AgentAnalysisSetup | None) -> AnalysisStatus:
    if row is None:
        return NOT_YET
    return AnalysisStatus(AnalysisState(row.state), row.detail)


async def statuses(session: AsyncSession, scope: Scope, ref_ids: list[str]) -> dict[str, AnalysisStatus]:
    """Agent reference id → its analysis status (agents never set up are `not_set_up`)."""
    if not ref_ids:
        return {}
    rows = (await session.execute(select(AgentAnalysisSetup).where(
        AgentAnalysisSetup.tenant_id == scope.tenant_id, AgentAnalysisSetup.agent_ref_id.in_(ref_ids)))).scalars()
    found = {r.agent_ref_id: r for r in rows}
    return {ref_id: status_of(found.get(ref_id)) for ref_id in ref_ids}


async def _row(session: AsyncSession, ref: VoiceAgent, now: datetime) -> AgentAnalysisSetup:
    row = (await session.execute(select(AgentAnalysisSetup).where(
        AgentAnalysisSetup.agent_ref_id == ref.id))).scalar_one_or_none()
    if row is None:
        row = AgentAnalysisSetup(tenant_id=ref.tenant_id, agent_ref_id=ref.id, state=AnalysisState.not_set_up.value,
                                 opted_out=False, updated_at=now)
        session.add(row)
    return row


def _call_types(ref: VoiceAgent) -> list[str]:
    return [str(c) for c in ref.allowed_call_types] or list(analysis.CALL_TYPES)


async def set_up(session: AsyncSession, manager: VoiceManager, account: ElevenLabsAccount, ref: VoiceAgent, *,
                 language: str, now: datetime, opted_out: bool | None = None) -> AnalysisStatus:
    """Bring the agent's analysis to what leadcall wants (or take leadcall's items off when opted out).

    Two requests at most (read the agent, PATCH it when something differs); ElevenLabs' refusal is
    recorded on the agent, never raised.
    """
    row = await _row(session, ref, now)
    if opted_out is not None:
        row.opted_out = opted_out
    language = analysis.language_of(language)
    call_types = _call_types(ref)
    provider = manager.provider(account)
    try:
        current = await provider.get_analysis_setup(ref.agent_id)
        wanted = analysis.plan(current, language=language, call_types=call_types, opted_out=row.opted_out)
        if not wanted.up_to_date:
            await provider.set_analysis_setup(ref.agent_id, wanted.target)
    except ProviderError as exc:
        log.info("analysis of agent %s not set up: %s", ref.agent_id, exc.detail)
        row.state = AnalysisState.opted_out.value if row.opted_out else AnalysisState.not_set_up.value
        row.detail = f"{NOT_SET_UP}{exc.detail}"[:500]
    else:
        row.state = AnalysisState.opted_out.value if row.opted_out else AnalysisState.ready.value
        row.detail = None if row.opted_out else (
            f"{len(wanted.target.data_collection)} data-collection items and {len(wanted.target.criteria)} "
            f"criteria ({len(wanted.kept)} of them the agent's own, kept)")
        row.language, row.call_types = language, ",".join(call_types)
    row.updated_at = now
    await session.flush()
    return status_of(row)


async def needs_setting_up(session: AsyncSession, ref: VoiceAgent, language: str) -> bool:
    """Whether the agent's analysis was set up for other call types or another language than now."""
    row = (await session.execute(select(AgentAnalysisSetup).where(
        AgentAnalysisSetup.agent_ref_id == ref.id))).scalar_one_or_none()
    if row is None or row.state == AnalysisState.not_set_up.value:
        return True
    return row.language != analysis.language_of(language) or row.call_types != ",".join(_call_types(ref))


async def tenant_language(session: AsyncSession, tenant_id: str) -> str:
    tenant = await unscoped_get_tenant(session, tenant_id)
    return tenant.default_language if tenant else "en"


async def follow_agent_change(session: AsyncSession, manager: VoiceManager, scope: Scope, ref_id: str,
                              now: datetime) -> AnalysisStatus:
    """After an agent's local rules changed: enabled, or used for other call types (or the tenant's language
    changed) since it was set up, leadcall's analysis follows."""
    ref, account = await agent_and_account(session, scope, ref_id)
    language = await tenant_language(session, scope.tenant_id)
    if ref.is_enabled and await needs_setting_up(session, ref, language):
        return await set_up(session, manager, account, ref, language=language, now=now)
    return (await statuses(session, scope, [ref.id]))[ref.id]


async def set_up_account(session: AsyncSession, manager: VoiceManager, account: ElevenLabsAccount, *,
                         language: str, now: datetime) -> dict[str, AnalysisStatus]:
    """Every enabled agent of a (newly connected) account; an account that cannot list its agents is left
    as it is (its agents show "not set up" once they are listed)."""
    listing = await manager.account_listing(session, account)
    if listing.problem is not None:
        log.info("analysis of account %s not set up: %s", account.id, listing.problem.detail)
        return {}
    refs = await manager.sync_agent_refs(session, Scope(account.tenant_id), account, listing.infos, now.timestamp())
    return {ref.id: await set_up(session, manager, account, ref, language=language, now=now)
            for ref in refs.values() if ref.is_enabled}


async def agent_and_account(session: AsyncSession, scope: Scope,
                            ref_id: str) -> tuple[VoiceAgent, ElevenLabsAccount]:
    ref = await AgentRepository(session, scope).get(ref_id)
    account = await session.get(ElevenLabsAccount, ref.account_id)
    assert account is not None  # the reference cascades with its account
    return ref, account
