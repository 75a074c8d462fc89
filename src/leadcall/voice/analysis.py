"""The post-call analysis leadcall sets up on every agent a tenant enables.

ElevenLabs analyses each finished conversation with the agent's data-collection items and evaluation
criteria. leadcall adds its own (ids start with `leadcall_`): the sales result, the callback time the
lead asked for, whether the lead asked never to be called again, the agreed next step, the lead's
objections, and one criterion per call type the agent is used for, judging that call type's goal.
Summaries, rationales and the next step come in the tenant's language.

`plan` merges them with what the agent already has: the tenant's own items and criteria are sent back
exactly as ElevenLabs gave them (never removed or renamed), leadcall's are replaced by their current
form, and nothing is sent when the agent already has it all (idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from leadcall.voice.types import AnalysisSetup

PREFIX = "leadcall_"
SALES_OUTCOME = "leadcall_sales_outcome"
CALLBACK_TIME = "leadcall_callback_time"
OPTED_OUT = "leadcall_opted_out"
NEXT_STEP = "leadcall_next_step"
OBJECTIONS = "leadcall_objections"
GOAL_PREFIX = "leadcall_goal_"
SALES_OUTCOMES = ("interested", "not_interested", "callback_requested")
CALL_TYPES = ("prospecting", "qualification", "follow_up", "closing")
LANGUAGE_NAMES = {"es": "Spanish", "en": "English"}

_GOALS = {
    "prospecting": "The agent introduced the offer and found out whether the lead is interested: the lead agreed "
                   "to a next step (a proposal, a demo, a meeting or a callback at a named time).",
    "qualification": "The agent found out whether the lead fits: their need, who decides, their budget and "
                     "their timing, and the lead agreed to a next step.",
    "follow_up": "The agent followed up on the earlier contact, answered the lead's open questions and agreed "
                 "a concrete next step with the lead.",
    "closing": "The lead agreed to buy or to sign, or agreed a concrete date to do so.",
}


def goal_id(call_type: str) -> str:
    return f"{GOAL_PREFIX}{call_type}"


def is_ours(item_id: str) -> bool:
    return item_id.startswith(PREFIX)


def language_of(tenant_language: str) -> str:
    return "es" if tenant_language.lower().startswith("es") else "en"


def data_collection(language: str) -> dict[str, dict[str, Any]]:
    """leadcall's data-collection items (`AnalysisProperty` objects), as sent to ElevenLabs."""
    written_in = LANGUAGE_NAMES[language_of(language)]
    return {
        SALES_OUTCOME: {
            "type": "string", "enum": list(SALES_OUTCOMES),
            "description": "The sales result of the call, only when the lead answered in person (not voicemail): "
                           "interested (the lead wants to go on: a proposal, a demo, a meeting), not_interested "
                           "(the lead declined, is unsure or asked not to be called again) or callback_requested "
                           "(the lead asked to be called at another time). Leave empty when nobody answered."},
        CALLBACK_TIME: {
            "type": "string",
            "description": "When the lead asked to be called back or agreed to meet, as an ISO 8601 date and time "
                           "with the UTC offset of the lead's time zone (e.g. 2026-12-04T15:00:00+01:00). The call "
                           "started at {{lead_local_time}}, the lead's local time, time zone {{lead_timezone}}: "
                           "resolve 'Friday at 3pm' or 'tomorrow morning' from there. Empty if no time was named."},
        OPTED_OUT: {
            "type": "boolean",
            "description": "True when the lead asked not to be called again or to be removed from the list, in any "
                           "language (e.g. 'stop calling me', 'no me vuelvas a llamar'); false otherwise."},
        NEXT_STEP: {
            "type": "string",
            "description": f"The next step agreed with the lead, one short sentence written in {written_in}. "
                           "Empty if none was agreed."},
        OBJECTIONS: {
            "type": "string",
            "description": f"The objections or concerns the lead raised, written in {written_in}, separated by "
                           "semicolons. Empty if none."},
    }


def criteria(call_types: Iterable[str]) -> list[dict[str, Any]]:
    """One `PromptEvaluationCriteria` per call type the agent is used for (all four when unrestricted)."""
    wanted = [c for c in CALL_TYPES if c in set(call_types)] or list(CALL_TYPES)
    return [{"id": goal_id(c), "name": f"leadcall: {c.replace('_', ' ')} goal", "type": "prompt",
             "conversation_goal_prompt": _GOALS[c]} for c in wanted]


@dataclass(frozen=True)
class Plan:
    """What the agent should have (`target`), and whether it already has it."""

    target: AnalysisSetup
    up_to_date: bool
    added: tuple[str, ...]  # leadcall's item and criterion ids the agent lacks or has in another form
    kept: tuple[str, ...]  # the tenant's own item and criterion ids, sent back unchanged


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal where leadcall set a field (ElevenLabs answers with its defaults filled in)."""
    return all(a.get(k) == v for k, v in b.items())


def plan(current: AnalysisSetup, *, language: str, call_types: Iterable[str], opted_out: bool) -> Plan:
    """`current` with leadcall's items in their present form (or without them, for an agent opted out)."""
    language = language_of(language)
    ours_items = {} if opted_out else data_collection(language)
    ours_criteria = [] if opted_out else criteria(call_types)
    theirs_items = {k: v for k, v in current.data_collection.items() if not is_ours(k)}
    theirs_criteria = [c for c in current.criteria if not is_ours(str(c.get("id", "")))]
    had_items = {k: v for k, v in current.data_collection.items() if is_ours(k)}
    had_criteria = {str(c.get("id")): c for c in current.criteria if is_ours(str(c.get("id", "")))}
    added = [k for k, v in ours_items.items() if k not in had_items or not _same(had_items[k], v)]
    added += [c["id"] for c in ours_criteria if c["id"] not in had_criteria or not _same(had_criteria[c["id"]], c)]
    stale = (set(had_items) - set(ours_items)) | (set(had_criteria) - {c["id"] for c in ours_criteria})
    summary_language = current.summary_language if opted_out else language
    target = AnalysisSetup(data_collection={**theirs_items, **ours_items},
                           criteria=(*theirs_criteria, *ours_criteria), summary_language=summary_language)
    up_to_date = not added and not stale and current.summary_language == summary_language
    kept = (*theirs_items, *(str(c.get("id")) for c in theirs_criteria))
    return Plan(target, up_to_date, tuple(added), tuple(kept))
