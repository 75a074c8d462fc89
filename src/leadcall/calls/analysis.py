"""What ElevenLabs' own analysis says a call achieved, read from leadcall's items on the agent
(voice/analysis.py sets them up), strongest evidence first:

1. data collection (`leadcall_sales_outcome`, `leadcall_opted_out`, `leadcall_callback_time`,
   `leadcall_next_step`, `leadcall_objections`), each value with the analysis' rationale;
2. the evaluation criterion of the call's type (`leadcall_goal_<call type>`): success reads as
   interested, failure as not interested, with its rationale;
3. nothing: the keyword rules on the transcript decide (calls/insights.py), labelled as the fallback.

Also the lead's clock, which the agent gets as dynamic variables (`lead_local_time`, `lead_timezone`)
so the analysis can resolve "Friday at 3pm" into a date in the lead's time zone; the zone is the
calling rules' reading of the lead (`leadcall.rules.service.zones_for`, given through
`PlacementHooks.lead_zone`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadcall.calls.models import OutcomeSource, SalesResult
from leadcall.leads.models import Lead
from leadcall.voice import analysis as items
from leadcall.voice.types import ConversationAnalysis


@dataclass(frozen=True)
class Stated:
    """What the provider's analysis concluded about the sales result (None where it said nothing)."""

    sales_result: SalesResult | None
    source: OutcomeSource | None
    evidence: dict[str, Any] | None
    opted_out: bool = False
    callback_at: datetime | None = None
    callback_text: str | None = None
    next_step: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


NOTHING = Stated(None, None, None)


def own_zone(lead: Lead) -> ZoneInfo:
    """The lead's own time zone, else UTC (when the calling rules' reading is not at hand)."""
    try:
        return ZoneInfo(lead.timezone) if lead.timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def lead_clock_variables(lead: Lead, zone: ZoneInfo, now: datetime) -> dict[str, str]:
    return {"lead_local_time": now.astimezone(zone).replace(microsecond=0).isoformat(), "lead_timezone": zone.key}


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def _time(value: object, zone: ZoneInfo) -> datetime | None:
    """An ISO 8601 time; one without an offset is read in the lead's time zone."""
    text = _text(value, 64)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes", "1"))


def read(analysis: ConversationAnalysis | None, *, call_type: str, zone: ZoneInfo) -> Stated:
    """The strongest conclusion of the provider's analysis about the sales result."""
    if analysis is None:
        return NOTHING
    data, why = analysis.data, analysis.rationales
    opted_out = _truthy(data.get(items.OPTED_OUT))
    stated = data.get(items.SALES_OUTCOME)
    sales = SalesResult(stated) if isinstance(stated, str) and stated in SalesResult.__members__ else None
    if opted_out:
        sales = SalesResult.not_interested
    callback_at = _time(data.get(items.CALLBACK_TIME), zone)
    next_step = _text(data.get(items.NEXT_STEP), 500)
    objections = _text(data.get(items.OBJECTIONS), 500)
    if sales is not None:
        used = [i for i in (items.SALES_OUTCOME, items.OPTED_OUT, items.CALLBACK_TIME, items.NEXT_STEP,
                            items.OBJECTIONS) if data.get(i) not in (None, "")]
        evidence = {"detail": f"ElevenLabs data collection: {items.SALES_OUTCOME} = {sales.value}"
                              + (" (the lead asked not to be called again)" if opted_out else ""),
                    "items": [{"id": i, "value": data.get(i), "rationale": why.get(i) or None} for i in used]}
        return Stated(sales, OutcomeSource.data_collection, evidence, opted_out,
                      callback_at if sales is SalesResult.callback_requested else None,
                      _text(data.get(items.CALLBACK_TIME), 200), next_step,
                      {"objections": objections} if objections else {})
    verdict = analysis.criteria.get(items.goal_id(call_type))
    if verdict is not None and verdict.result in ("success", "failure"):
        sales = SalesResult.interested if verdict.result == "success" else SalesResult.not_interested
        evidence = {"detail": f"ElevenLabs evaluation: {items.goal_id(call_type)} = {verdict.result}",
                    "items": [{"id": items.goal_id(call_type), "value": verdict.result,
                               "rationale": verdict.rationale or None}]}
        return Stated(sales, OutcomeSource.evaluation, evidence, next_step=next_step)
    return Stated(None, None, None, next_step=next_step)
