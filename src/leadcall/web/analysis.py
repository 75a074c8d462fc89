"""Settings page: setting leadcall's analysis up on an agent again, and opting an agent out of it."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from leadcall.core.deps import DbSession, Now
from leadcall.voice import analysis_setup
from leadcall.voice.analysis_models import AnalysisState
from leadcall.web.auth import AdminPage
from leadcall.web.forms import PageRoute
from leadcall.web.i18n import translate
from leadcall.web.rendering import language_of
from leadcall.web.router import voices_of
from leadcall.web.settings import section_body

analysis_pages = APIRouter(include_in_schema=False, route_class=PageRoute)


def _said(request: Request, principal: AdminPage, status: analysis_setup.AnalysisStatus) -> tuple[str, str]:
    lang = language_of(request, principal)
    if status.state is AnalysisState.not_set_up:
        return translate(lang, "analysis.not_set_up", reason=status.reason or ""), "error"
    return translate(lang, f"analysisdone.{status.state.value}"), "ok"


@analysis_pages.post("/settings/agents/{agent_ref_id}/analysis")
async def set_up_again(agent_ref_id: str, request: Request, principal: AdminPage, session: DbSession,
                       now: Now, opted_out: str = Form("")) -> Response:
    """The "set up again" button (`opted_out` absent) and the per-agent opt-out (`on`) / opt-in (`off`)."""
    ref, account = await analysis_setup.agent_and_account(session, principal.tenant_scope, agent_ref_id)
    choice = {"on": True, "off": False}.get(opted_out)
    status = await analysis_setup.set_up(session, voices_of(request), account, ref, opted_out=choice, now=now,
                                         language=await analysis_setup.tenant_language(session, principal.tenant_id))
    message, kind = _said(request, principal, status)
    return await section_body(request, principal, session, "agents", message, kind)
