from __future__ import annotations

from datetime import UTC, datetime

from leadcall.calls.insights import Turn, classify, extract_callback
from leadcall.calls.models import OutcomeSource, PhoneResult, SalesResult

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday


def run(turns: list[tuple[str, str]], *, ended_ok: bool = True, reason: str = "", failure: str | None = None,
        data: dict[str, object] | None = None, language: str = "en") -> tuple[PhoneResult, SalesResult | None]:
    insight = classify(ended_ok=ended_ok, failure_reason=failure, termination_reason=reason,
                       transcript=[Turn(r, m) for r, m in turns], analysis_data=data or {}, call_successful=None,
                       language=language, now=NOW, timezone="Europe/Madrid")
    assert insight.next_action
    return insight.phone_result, insight.sales_result


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
    stated = run([("user", "hmm")], data={"sales_outcome": "interested"})
    assert stated == (PhoneResult.answered, SalesResult.interested)


def test_callback_time_is_read_from_what_the_lead_said() -> None:
    when, words = extract_callback("¿Me puede llamar el jueves a las 10?", now=NOW, timezone="Europe/Madrid")
    assert when is not None and when.weekday() == 3 and when.hour == 10 and words
    when, _ = extract_callback("call me back tomorrow at 4 pm", now=NOW, timezone="UTC")
    assert when is not None and when.day == 26 and when.hour == 16
    assert extract_callback("no thanks", now=NOW, timezone="UTC") == (None, None)


def test_opt_out_is_flagged_and_the_source_labelled() -> None:
    for words in ("Please stop calling me.", "No me vuelvas a llamar, por favor", "Don't call me again"):
        insight = classify(ended_ok=True, failure_reason=None, termination_reason="",
                           transcript=[Turn("user", words)], analysis_data={}, call_successful=None,
                           language="en", now=NOW, timezone="Europe/Madrid")
        assert insight.opted_out and insight.sales_result is SalesResult.not_interested, words
        assert insight.outcome_source is OutcomeSource.rules and insight.outcome_evidence
        assert "few months" not in insight.next_action
    stated = classify(ended_ok=True, failure_reason=None, termination_reason="", transcript=[Turn("user", "hmm")],
                      analysis_data={"sales_outcome": "interested"}, call_successful=None, language="en", now=NOW,
                      timezone=None)
    assert stated.outcome_source is OutcomeSource.data_collection and not stated.opted_out
