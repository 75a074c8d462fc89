"""Setting leadcall's analysis up on an agent again, and opting an agent out of it."""

from __future__ import annotations

from fastapi import APIRouter

from leadcall.core.deps import DbSession, Now
from leadcall.core.http_errors import error_responses
from leadcall.tenancy.deps import ApiRoute, CanManageAgents
from leadcall.voice import analysis_setup, schemas
from leadcall.voice.analysis_setup import AnalysisStatus
from leadcall.voice.deps import Voices

router = APIRouter(tags=["voice"], route_class=ApiRoute, responses=error_responses(424))


def analysis_view(status: AnalysisStatus) -> schemas.AgentAnalysis:
    return schemas.AgentAnalysis(state=status.state.value, detail=status.detail)


@router.post("/api/voice/agents/{agent_ref_id}/analysis", response_model=schemas.AgentAnalysis)
async def set_up_again(agent_ref_id: str, principal: CanManageAgents, session: DbSession, voices: Voices,
                       now: Now) -> schemas.AgentAnalysis:
    """Set leadcall's analysis up on the agent again (ElevenLabs' refusal is answered in `detail`, not as an error)."""
    ref, account = await analysis_setup.agent_and_account(session, principal.tenant_scope, agent_ref_id)
    language = await analysis_setup.tenant_language(session, principal.tenant_id)
    status = await analysis_setup.set_up(session, voices, account, ref, language=language, now=now)
    return analysis_view(status)


@router.put("/api/voice/agents/{agent_ref_id}/analysis", response_model=schemas.AgentAnalysis)
async def opt_out(agent_ref_id: str, body: schemas.AgentAnalysisOptOut, principal: CanManageAgents,
                  session: DbSession, voices: Voices, now: Now) -> schemas.AgentAnalysis:
    """Opt the agent out of leadcall's analysis (its items are taken off the agent), or back in."""
    ref, account = await analysis_setup.agent_and_account(session, principal.tenant_scope, agent_ref_id)
    language = await analysis_setup.tenant_language(session, principal.tenant_id)
    status = await analysis_setup.set_up(session, voices, account, ref, opted_out=body.opted_out, language=language,
                                         now=now)
    return analysis_view(status)
