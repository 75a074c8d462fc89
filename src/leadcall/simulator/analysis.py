"""What the simulated post-call analysis answers: a result for every data-collection item and evaluation
criterion configured on the agent when the call ends, filled from the call's scenario.

leadcall's own items (ids starting `leadcall_`) and the seeded agents' `sales_outcome` / `callback_time`
are filled from the scenario; any other item the analysis finds nothing for (value null). Summaries,
rationales and the next step come in the agent's `summary_language` (else the agent's language), as
ElevenLabs documents for that setting.
"""

from __future__ import annotations

from typing import Any

from leadcall.simulator.scenarios import Kind, analysis_for, callback_time, spanish
from leadcall.simulator.world import SimConversation

_SUMMARIES_ES = {
    Kind.INTERESTED: ("El lead está interesado y pidió una propuesta por email.", "Lead interesado"),
    Kind.NOT_INTERESTED: ("El lead dijo que no le interesa.", "Lead no interesado"),
    Kind.CALLBACK: ("El lead pidió que le llamen el jueves a las 10.", "Pide que le llamen"),
    Kind.OPT_OUT: ("El lead pidió que no le vuelvan a llamar.", "No llamar"),
    Kind.VOICEMAIL: ("La llamada llegó al buzón de voz; el agente dejó un mensaje breve.", "Buzón de voz"),
    Kind.DROPPED: ("La llamada se cortó poco después de que el lead contestara.", "Llamada cortada"),
    Kind.LONG: ("Una conversación larga sobre el plan anual; el lead parecía interesado.", "Plan anual"),
}
_ENDED_EARLY_ES = ("La llamada terminó antes de acabar la conversación.", "Llamada terminada antes")
_NEXT_STEPS = {
    Kind.INTERESTED: ("Send the proposal by email today", "Enviar hoy la propuesta por email"),
    Kind.CALLBACK: ("Call back on Thursday at 10", "Volver a llamar el jueves a las 10"),
    Kind.LONG: ("Send the annual plan details", "Enviar los detalles del plan anual"),
}
_OBJECTIONS = {
    Kind.NOT_INTERESTED: ("Not interested right now", "No le interesa ahora"),
    Kind.OPT_OUT: ("Does not want to be called", "No quiere que le llamen"),
    Kind.CALLBACK: ("Busy at the moment of the call", "Ocupado en el momento de la llamada"),
}
# A call type's goal reached (success), missed (failure) or not judged (unknown), by scenario.
_GOALS = {Kind.INTERESTED: "success", Kind.LONG: "success", Kind.CALLBACK: "success",
          Kind.NOT_INTERESTED: "failure", Kind.OPT_OUT: "failure"}


def _language(c: SimConversation) -> str:
    configured = c.agent.platform_settings.get("summary_language")
    return str(configured) if isinstance(configured, str) and configured else c.agent.language


def _pick(pair: tuple[str, str], es: bool) -> str:
    return pair[1] if es else pair[0]


def _value(item_id: str, c: SimConversation, kind: Kind, sales: str | None, es: bool) -> Any:
    """What the analysis extracts for one item; None when the call says nothing about it."""
    answered = sales is not None
    if item_id in ("leadcall_sales_outcome", "sales_outcome"):
        return sales
    if item_id in ("leadcall_callback_time", "callback_time"):
        return callback_time(c.agent.language, c.started_at) if kind is Kind.CALLBACK and answered else None
    if item_id == "leadcall_opted_out":
        return kind is Kind.OPT_OUT if answered else None
    if item_id == "leadcall_next_step":
        return _pick(_NEXT_STEPS[kind], es) if answered and kind in _NEXT_STEPS else None
    if item_id == "leadcall_objections":
        return _pick(_OBJECTIONS[kind], es) if answered and kind in _OBJECTIONS else None
    return None


def _rationale(value: Any, es: bool) -> str:
    if value is None:
        return "La conversación no dice nada sobre esto." if es else "The conversation says nothing about this."
    return "Lo que el lead dijo en la llamada." if es else "What the lead said in the call."


def analysis_json(c: SimConversation, now: float) -> dict[str, Any] | None:
    """ConversationHistoryAnalysisCommonModel, once a connected call is over (None before)."""
    if not c.connects or not c.is_over(now):
        return None
    kind = c.scenario.kind
    verdict = analysis_for(kind, ended_early=c.ended_early)
    es = spanish(_language(c))
    sales = verdict.sales_outcome
    items = c.agent.platform_settings.get("data_collection")
    results: dict[str, Any] = {}
    for item_id, schema in (items.items() if isinstance(items, dict) else ()):
        value = _value(item_id, c, kind, sales, es)
        results[item_id] = {"data_collection_id": item_id, "value": value,
                            "json_schema": schema if isinstance(schema, dict) else None,
                            "rationale": _rationale(value, es)}
    evaluation = c.agent.platform_settings.get("evaluation")
    criteria = evaluation.get("criteria") if isinstance(evaluation, dict) else None
    verdicts: dict[str, Any] = {}
    for criterion in (criteria if isinstance(criteria, list) else ()):
        if not isinstance(criterion, dict) or not isinstance(criterion.get("id"), str):
            continue
        result = _GOALS.get(kind, "unknown") if sales is not None and criterion["id"].startswith("leadcall_") \
            else "unknown"
        reason = {"success": ("The goal was reached.", "Se alcanzó el objetivo."),
                  "failure": ("The goal was not reached.", "No se alcanzó el objetivo."),
                  "unknown": ("The call does not say.", "La llamada no lo dice.")}[result]
        verdicts[criterion["id"]] = {"criteria_id": criterion["id"], "result": result,
                                     "rationale": _pick(reason, es)}
    summary, title = verdict.summary, verdict.title
    if es:
        summary, title = _ENDED_EARLY_ES if verdict.sales_outcome is None and c.ended_early else \
            _SUMMARIES_ES.get(kind, _ENDED_EARLY_ES)
    return {"evaluation_criteria_results": verdicts, "data_collection_results": results,
            "call_successful": verdict.call_successful, "transcript_summary": summary,
            "call_summary_title": title}
