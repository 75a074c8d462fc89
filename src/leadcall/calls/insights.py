"""What a finished call means: the phone result, the sales result, a callback time and
the next action.

Two layers: the phone result (answered / no_answer / voicemail / busy / failed) and,
only for answered calls, the sales result (interested / not_interested /
callback_requested). ElevenLabs' analysis of leadcall's items is used first
(calls/analysis.py: data collection, then the call type's evaluation criterion); when it
says nothing, keyword rules read what the lead said, in Spanish and English, and the
outcome is labelled as theirs (`rules`). The rules look for, in this order: a request
never to be called again (opt-out), a callback or a meeting at a named time, a refusal
or doubt ("not sure I'm interested", "no sé si me interesa"), then interest. Voicemail
never counts as answered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadcall.calls.analysis import NOTHING, Stated
from leadcall.calls.models import OutcomeSource, PhoneResult, SalesResult


@dataclass(frozen=True)
class Turn:
    role: str
    message: str


@dataclass(frozen=True)
class Insight:
    phone_result: PhoneResult
    sales_result: SalesResult | None
    callback_at: datetime | None
    callback_text: str | None
    next_action: str
    # Where the sales result came from and what it rests on (None when there is no sales result).
    outcome_source: OutcomeSource | None = None
    outcome_evidence: dict[str, object] | None = None
    opted_out: bool = False


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


_VOICEMAIL = ("voicemail", "voice mail", "leave a message", "leave your message", "after the tone", "after the beep",
              "buzon de voz", "deje su mensaje", "deja tu mensaje", "despues de la senal", "despues del tono",
              "contestador")
# "Do not call me again", in either language: checked before anything else the lead said.
_OPT_OUT = ("stop calling", "don't call me", "dont call me", "do not call me", "don't call again", "do not call again",
            "never call", "remove me from", "take me off", "put me on your do not call", "no me vuelvas a llamar",
            "no me vuelva a llamar", "no me vuelvan a llamar", "no vuelvan a llamar", "no vuelvas a llamar",
            "no vuelva a llamar", "no me llame mas", "no me llames mas", "no me llamen mas", "dejen de llamar",
            "deje de llamar", "deja de llamar", "dejad de llamar", "borrame de", "borreme de", "quitame de",
            "quiteme de", "no quiero que me llamen")
_CALLBACK = ("call me back", "call back", "callback", "call me later", "call me on", "call me next",
             "another time", "llamame", "llameme", "vuelva a llamar", "vuelve a llamar", "me llamas",
             "me llama el", "me puede llamar", "me puedes llamar", "llamar mas tarde", "otro momento", "otro dia")
# A meeting the lead agrees to: a callback when it has a day or time, interest otherwise.
_MEETING = ("book a", "schedule a", "set up a", "let's meet", "lets meet", "meet on", "demo on", "meeting on",
            "agendar", "agendemos", "reservar una", "quedamos", "reunion el", "demo el", "una demo", "una reunion")
# Doubt is not interest: read as not interested (the lead may be asked again later).
_UNSURE = ("not sure", "i'm unsure", "im unsure", "not certain", "don't know if", "dont know if", "i doubt",
           "don't think", "dont think", "not really", "maybe not", "probably not", "no estoy segur", "no se si",
           "no lo se", "no creo", "lo dudo", "tal vez no", "quizas no", "no lo tengo claro", "no tengo claro")
_NOT_INTERESTED = ("not interested", "no interest", "uninterested", "don't call", "do not call", "no thanks",
                   "no, thanks", "no thank you", "not for us", "don't need", "dont need", "we're fine", "we are fine",
                   "no me interesa", "no nos interesa", "no estoy interesad", "no estamos interesad", "no gracias",
                   "no, gracias", "no llamen", "no me llame", "no me llamen", "ya tenemos", "no necesitamos",
                   "no lo necesitamos")
_INTERESTED = ("interested", "sounds good", "sounds great", "send me", "let's do", "schedule", "sign me up",
               "i'd like", "i would like", "tell me more", "me interesa", "interesad", "envieme", "enviame",
               "mandeme", "mandame", "me gustaria", "suena bien", "adelante", "agendar", "quiero saber mas")

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
}
_RELATIVE = {"tomorrow": 1, "manana": 1, "pasado manana": 2, "day after tomorrow": 2}
_TIME = re.compile(r"(?:at|a las|a la)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|de la manana|de la tarde"
                   r"|de la noche)?")


def _has(text: str, needles: tuple[str, ...]) -> bool:
    return any(n in text for n in needles)


def _first(text: str, needles: tuple[str, ...]) -> str | None:
    return next((n for n in needles if n in text), None)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def extract_callback(text: str, *, now: datetime, timezone: str | None) -> tuple[datetime | None, str | None]:
    """Finds a day and time such as "el jueves a las 10" or "Thursday at 3 pm" in what the lead said.

    Returns the next such moment after `now` in the lead's timezone (UTC if unknown),
    and the words it was read from.
    """
    plain = _plain(text)
    day_offset: int | None = None
    day_words = None
    for words, offset in sorted(_RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{words}\b(?!\s+por la)", plain) and not (words == "manana" and "de la manana" in plain
                                                                   and plain.count("manana") == 1):
            day_offset, day_words = offset, words
            break
    local_now = now.astimezone(_zone(timezone))
    if day_offset is None:
        for name, weekday in _WEEKDAYS.items():
            if re.search(rf"\b{name}\b", plain):
                day_offset = (weekday - local_now.weekday()) % 7 or 7
                day_words = name
                break
    match = _TIME.search(plain)
    if day_offset is None and match is None:
        return None, None
    hour, minute = 10, 0
    if match:
        hour = int(match.group(1)) % 24
        minute = int(match.group(2) or 0)
        suffix = match.group(3) or ""
        if suffix.startswith("p") or "tarde" in suffix or "noche" in suffix:
            hour = hour + 12 if hour < 12 else hour
        elif (suffix.startswith("a") or "manana" in suffix) and hour == 12:
            hour = 0
        elif not suffix and 1 <= hour <= 7:
            hour += 12  # "a las 5" in a sales call means the afternoon
    day = local_now + timedelta(days=day_offset or 0)
    when = day.replace(hour=hour, minute=minute % 60, second=0, microsecond=0)
    if when <= local_now:
        when += timedelta(days=1)
    words = " ".join(w for w in (day_words, match.group(0) if match else None) if w)
    return when, words


NEXT_ACTIONS: dict[str, dict[PhoneResult | SalesResult | str, str]] = {
    "es": {
        SalesResult.interested: "Enviar propuesta y agendar una reunión",
        SalesResult.not_interested: "Marcar como no interesado; volver a intentar en unos meses",
        "opted_out": "No volver a llamar: pidió que no le llamen más",
        SalesResult.callback_requested: "Volver a llamar {when}",
        PhoneResult.answered: "Revisar la transcripción y decidir el siguiente paso",
        PhoneResult.no_answer: "Reintentar la llamada en unas horas",
        PhoneResult.busy: "Reintentar la llamada en 30 minutos",
        PhoneResult.voicemail: "Se dejó en buzón de voz: reintentar mañana o enviar un email",
        PhoneResult.failed: "Revisar el número y reintentar",
    },
    "en": {
        SalesResult.interested: "Send a proposal and book a meeting",
        SalesResult.not_interested: "Mark as not interested; try again in a few months",
        "opted_out": "Do not call again: the lead asked not to be called",
        SalesResult.callback_requested: "Call back {when}",
        PhoneResult.answered: "Read the transcript and decide the next step",
        PhoneResult.no_answer: "Retry the call in a few hours",
        PhoneResult.busy: "Retry the call in 30 minutes",
        PhoneResult.voicemail: "Reached voicemail: retry tomorrow or send an email",
        PhoneResult.failed: "Check the number and retry",
    },
}


def next_action(language: str, phone: PhoneResult, sales: SalesResult | None, callback_at: datetime | None,
                callback_text: str | None, *, opted_out: bool = False) -> str:
    table = NEXT_ACTIONS["es" if language.startswith("es") else "en"]
    key: PhoneResult | SalesResult | str = "opted_out" if opted_out else (sales or phone)
    text = table[key]
    if "{when}" in text:
        when = callback_at.strftime("%Y-%m-%d %H:%M") if callback_at else (callback_text or "")
        text = text.format(when=when).strip()
    return text


def _rules(plain_user: str, user_text: str, *, now: datetime,
           timezone: str | None) -> tuple[SalesResult | None, str | None, bool, datetime | None, str | None]:
    """The keyword fallback: (sales result, the words it rests on, opted out, callback time, its words)."""
    if matched := _first(plain_user, _OPT_OUT):
        return SalesResult.not_interested, matched, True, None, None
    found_at, found_words = extract_callback(user_text, now=now, timezone=timezone)
    if matched := _first(plain_user, _CALLBACK):
        return SalesResult.callback_requested, matched, False, found_at, found_words
    meeting = _first(plain_user, _MEETING)
    if meeting and found_at is not None:
        return SalesResult.callback_requested, meeting, False, found_at, found_words
    if matched := _first(plain_user, _UNSURE) or _first(plain_user, _NOT_INTERESTED):
        return SalesResult.not_interested, matched, False, None, None
    if matched := meeting or _first(plain_user, _INTERESTED):
        return SalesResult.interested, matched, False, None, None
    return None, None, False, None, None


def classify(*, ended_ok: bool, failure_reason: str | None, termination_reason: str | None,
             transcript: list[Turn], language: str, now: datetime, timezone: str | None,
             stated: Stated = NOTHING, picked_up: bool = False) -> Insight:
    """`ended_ok`: the provider finished the conversation (done) rather than failing it; `stated`: what
    the provider's analysis concluded (calls/analysis.py), which wins over the keyword rules; `picked_up`:
    the lead is known to have answered (the seller hung up a call in progress), whatever the transcript holds."""
    reason = _plain(termination_reason or "")
    user_text = " ".join(t.message for t in transcript if t.role == "user")
    agent_text = " ".join(t.message for t in transcript if t.role == "agent")
    plain_user = _plain(user_text)
    if failure_reason in ("busy",):
        phone = PhoneResult.busy
    elif failure_reason in ("no-answer", "no_answer"):
        phone = PhoneResult.no_answer
    elif "voicemail" in reason or "buzon" in reason or _has(_plain(user_text + " " + agent_text), _VOICEMAIL):
        phone = PhoneResult.voicemail
    elif picked_up:
        phone = PhoneResult.answered
    elif not ended_ok and "busy" in reason:
        phone = PhoneResult.busy
    elif not ended_ok and not plain_user:
        unanswered = ("no answer" in reason or "no-answer" in reason or "not answered" in reason)
        phone = PhoneResult.no_answer if unanswered else PhoneResult.failed
    elif plain_user:
        phone = PhoneResult.answered
    else:
        phone = PhoneResult.no_answer if ended_ok else PhoneResult.failed

    sales: SalesResult | None = None
    callback_at: datetime | None = None
    callback_text: str | None = None
    source: OutcomeSource | None = None
    evidence: dict[str, object] | None = None
    opted_out = False
    if phone is PhoneResult.answered:
        if stated.sales_result is not None:
            sales, source, evidence, opted_out = stated.sales_result, stated.source, stated.evidence, stated.opted_out
            callback_at, callback_text = stated.callback_at, stated.callback_text
            if sales is SalesResult.callback_requested and callback_at is None:
                callback_at, callback_text = extract_callback(user_text, now=now, timezone=timezone)
        else:
            sales, matched, opted_out, callback_at, callback_text = _rules(plain_user, user_text, now=now,
                                                                           timezone=timezone)
            if sales is not None:
                source = OutcomeSource.rules
                evidence = {"detail": f"keyword rules (fallback): the lead said “{matched}”", "matched": [matched]}
    action = next_action(language, phone, sales, callback_at, callback_text, opted_out=opted_out)
    if stated.next_step and sales is not None and not opted_out and sales is not SalesResult.callback_requested:
        action = stated.next_step  # the step agreed in the call, in the tenant's language (summary_language)
    return Insight(phone, sales, callback_at, callback_text, action, source, evidence, opted_out)
