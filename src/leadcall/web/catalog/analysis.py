"""The words of leadcall's analysis on agents (settings page), merged into the catalog."""

from __future__ import annotations

ANALYSIS_MESSAGES: dict[str, dict[str, str]] = {
    "analysisstate.ready": {"es": "Análisis configurado", "en": "Analysis set up"},
    "analysisstate.not_set_up": {"es": "Análisis sin configurar", "en": "Analysis not set up"},
    "analysisstate.opted_out": {"es": "Sin análisis de leadcall (excluido)", "en": "leadcall analysis opted out"},
    "analysis.ready_hint": {"es": "ElevenLabs extrae el resultado, la hora de la rellamada, si pide no ser llamado, "
                                  "el siguiente paso y las objeciones.",
                            "en": "ElevenLabs extracts the result, the callback time, whether the lead asks not to "
                                  "be called, the next step and the objections."},
    "analysis.fallback_hint": {"es": "Sus llamadas se leen con las reglas de palabras clave.",
                               "en": "Its calls are read by the keyword rules."},
    "analysis.not_set_up": {"es": "Análisis sin configurar: {reason}", "en": "Analysis not set up: {reason}"},
    "analysis.set_up_again": {"es": "Configurar de nuevo", "en": "Set up again"},
    "analysis.opt_out": {"es": "Excluir del análisis", "en": "Opt out of the analysis"},
    "analysis.opt_in": {"es": "Volver a usar el análisis", "en": "Use the analysis again"},
    "field.opted_out": {"es": "Excluir del análisis", "en": "Opt out of the analysis"},
    "analysisdone.ready": {"es": "Análisis configurado en el agente.", "en": "Analysis set up on the agent."},
    "analysisdone.opted_out": {"es": "El agente queda excluido del análisis de leadcall.",
                                "en": "The agent is opted out of leadcall's analysis."},
    "stats.line": {"es": "Últimos 30 días: {calls} llamadas · {connect} % contestadas · {interested} % interesados",
                   "en": "Last 30 days: {calls} calls · {connect}% connected · {interested}% interested"},
    "stats.callbacks": {"es": "{n} rellamadas pedidas", "en": "{n} callbacks asked"},
    "stats.opt_outs": {"es": "{n} no quieren más llamadas", "en": "{n} opted out"},
    "stats.avg_duration": {"es": "duración media {duration}", "en": "average {duration}"},
    "stats.cost_per_call": {"es": "{cost} {currency} por llamada", "en": "{cost} {currency} per call"},
    "stats.cost_per_interested": {"es": "{cost} {currency} por lead interesado",
                                  "en": "{cost} {currency} per interested lead"},
    "stats.none": {"es": "Sin llamadas en los últimos 30 días", "en": "No calls in the last 30 days"},
}
