from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from leadcall.calls.analysis import NOTHING, Stated, read
from leadcall.calls.insights import Insight, Turn, classify, extract_callback
from leadcall.calls.models import OutcomeSource, PhoneResult, SalesResult
from leadcall.voice.types import ConversationAnalysis, CriterionResult

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday
MADRID = ZoneInfo("Europe/Madrid")


def insight(turns: list[tuple[str, str]], *, ended_ok: bool = True, reason: str = "", failure: str | None = None,
            stated: Stated = NOTHING, language: str = "en") -> Insight:
    result = classify(ended_ok=ended_ok, failure_reason=failure, termination_reason=reason,
                      transcript=[Turn(r, m) for r, m in turns], stated=stated, language=language, now=NOW,
                      timezone="Europe/Madrid")
    assert result.next_action
    return result


def run(turns: list[tuple[str, str]], **kwargs: object) -> tuple[PhoneResult, SalesResult | None]:
    result = insight(turns, **kwargs)  # type: ignore[arg-type]
    return result.phone_result, result.sales_result


def test_phone_results() -> None:
    assert run([], ended_ok=False, failure="busy")[0] is PhoneResult.busy
    assert run([], ended_ok=False, reason="Line busy")[0] is PhoneResult.busy
    assert run([], ended_ok=False, reason="Call not answered (no-answer)")[0] is PhoneResult.no_answer
    assert run([], ended_ok=False, reason="Twilio error")[0] is PhoneResult.failed
    voicemail = run([("user", "Ha llamado al buzón de voz de Ana. Deje su mensaje después de la señal.")])
    assert voicemail == (PhoneResult.voicemail, None)  # voicemail never counts as answered


def test_sales_results_in_spanish_and_english() -> None:
    assert run([("user", "Sí, me interesa, envíeme la propuesta")])[1] is SalesResult.interested
    assert run([("user", "No, gracias, no me interesa")])[1] is SalesResult.not_interested
    assert run([("user", "Not interested, thanks")])[1] is SalesResult.not_interested
    assert run([("user", "Can you call me back on Friday at 3 pm?")])[1] is SalesResult.callback_requested


@pytest.mark.parametrize("words", ["I'm not sure I'm interested", "I don't think we're interested",
                                   "No estoy seguro de que me interese", "No sé si me interesa",
                                   "Not really interested, to be honest"])
def test_doubt_is_never_read_as_interest(words: str) -> None:
    result = insight([("user", words)])
    assert result.sales_result is SalesResult.not_interested, words
    assert result.outcome_source is OutcomeSource.rules and not result.opted_out


@pytest.mark.parametrize(("words", "weekday", "hour"), [
    ("Let's book a demo on Friday at 3pm", 4, 15),
    ("Reservemos una demo el viernes a las 3 de la tarde", 4, 15),
    ("Agendemos una reunión el lunes a las 10", 0, 10),
])
def test_a_meeting_at_a_named_time_is_a_callback_at_that_time(words: str, weekday: int, hour: int) -> None:
    result = insight([("user", words)])
    assert result.sales_result is SalesResult.callback_requested, words
    assert result.callback_at is not None and result.callback_at.weekday() == weekday
    assert result.callback_at.hour == hour and result.callback_at.utcoffset() is not None
    assert result.callback_text


@pytest.mark.parametrize("words", ["Please stop calling me.", "Stop calling me", "Don't call me again",
                                   "No me vuelvas a llamar", "No me vuelvan a llamar, por favor",
                                   "Bórrame de vuestra lista"])
def test_opt_out_in_spanish_and_english(words: str) -> None:
    for language in ("en", "es"):
        result = insight([("user", words)], language=language)
        assert result.opted_out and result.sales_result is SalesResult.not_interested, words
        assert result.outcome_source is OutcomeSource.rules and result.outcome_evidence
        assert "few months" not in result.next_action and "unos meses" not in result.next_action
    assert "No volver a llamar" in insight([("user", words)], language="es").next_action


def test_the_callback_time_is_read_from_what_the_lead_said() -> None:
    when, words = extract_callback("¿Me puede llamar el jueves a las 10?", now=NOW, timezone="Europe/Madrid")
    assert when is not None and when.weekday() == 3 and when.hour == 10 and words
    when, _ = extract_callback("call me back tomorrow at 4 pm", now=NOW, timezone="UTC")
    assert when is not None and when.day == 26 and when.hour == 16
    assert extract_callback("no thanks", now=NOW, timezone="UTC") == (None, None)


def _analysis(data: dict[str, object], rationales: dict[str, str] | None = None,
              criteria: dict[str, CriterionResult] | None = None) -> ConversationAnalysis:
    return ConversationAnalysis(call_successful="unknown", summary="", data=MappingProxyType(data),
                                rationales=MappingProxyType(rationales or {}),
                                criteria=MappingProxyType(criteria or {}))


def test_data_collection_wins_over_the_criterion_and_the_rules_with_its_rationale() -> None:
    analysis = _analysis({"leadcall_sales_outcome": "interested", "leadcall_next_step": "Enviar la demo"},
                         {"leadcall_sales_outcome": "The lead asked for a proposal."},
                         {"leadcall_goal_prospecting": CriterionResult("failure", "no next step")})
    stated = read(analysis, call_type="prospecting", zone=MADRID)
    result = insight([("user", "No thanks, not interested")], stated=stated, language="es")
    assert result.sales_result is SalesResult.interested
    assert result.outcome_source is OutcomeSource.data_collection
    assert result.outcome_evidence is not None
    assert result.outcome_evidence["items"][0]["rationale"] == "The lead asked for a proposal."  # type: ignore[index]
    assert result.next_action == "Enviar la demo"


def test_the_criterion_of_the_call_type_comes_next_then_the_rules() -> None:
    criteria = {"leadcall_goal_closing": CriterionResult("success", "agreed to sign"),
                "leadcall_goal_prospecting": CriterionResult("failure", "declined")}
    closing = read(_analysis({}, criteria=criteria), call_type="closing", zone=MADRID)
    result = insight([("user", "hmm")], stated=closing)
    assert (result.sales_result, result.outcome_source) == (SalesResult.interested, OutcomeSource.evaluation)
    assert result.outcome_evidence and "agreed to sign" in str(result.outcome_evidence)
    unknown = read(_analysis({}, criteria={"leadcall_goal_follow_up": CriterionResult("unknown")}),
                   call_type="follow_up", zone=MADRID)
    fallback = insight([("user", "Sounds great, send me the details")], stated=unknown)
    assert (fallback.sales_result, fallback.outcome_source) == (SalesResult.interested, OutcomeSource.rules)
    assert "fallback" in str(fallback.outcome_evidence)


def test_an_opt_out_and_a_callback_time_from_data_collection() -> None:
    opted = read(_analysis({"leadcall_opted_out": True, "leadcall_sales_outcome": "callback_requested"}),
                 call_type="prospecting", zone=MADRID)
    result = insight([("user", "whatever")], stated=opted)
    assert result.opted_out and result.sales_result is SalesResult.not_interested
    callback = read(_analysis({"leadcall_sales_outcome": "callback_requested",
                               "leadcall_callback_time": "2026-11-27T15:00:00"}), call_type="prospecting",
                    zone=MADRID)
    result = insight([("user", "later")], stated=callback)
    assert result.callback_at == datetime(2026, 11, 27, 15, 0, tzinfo=MADRID)  # no offset: the lead's zone
    assert result.outcome_source is OutcomeSource.data_collection


def test_a_voicemail_gets_no_sales_result_whatever_the_analysis_says() -> None:
    stated = read(_analysis({"leadcall_sales_outcome": "interested"}), call_type="prospecting", zone=MADRID)
    result = insight([("user", "You've reached the voicemail of Ana. Leave a message after the tone.")], stated=stated)
    assert (result.phone_result, result.sales_result, result.outcome_source) == (PhoneResult.voicemail, None, None)
