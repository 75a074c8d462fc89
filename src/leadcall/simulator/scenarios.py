"""Test phone numbers → scripted calls (DESIGN.md §6), in the agent's language.

Like a payment provider's test cards, the number dialled chooses what happens:
`scenario_for(number)` gives the timing and kind of the call, `script_for` its
dialog and `analysis_for` what ElevenLabs' post-call analysis would conclude.
Durations are simulated seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Kind(Enum):
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    CALLBACK = "callback_requested"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    REFUSED = "refused"
    DROPPED = "dropped"
    LONG = "long"
    OPT_OUT = "opt_out"


@dataclass(frozen=True)
class Scenario:
    """How one call unfolds: ringing, talking and post-call processing, in simulated seconds."""

    kind: Kind
    ring_seconds: int = 5
    talk_seconds: int = 30
    processing_seconds: int = 4
    send_webhooks: bool = True
    duplicate_out_of_order: bool = False

    @property
    def connects(self) -> bool:
        """False when nobody ever picks up (no answer, busy): the conversation fails while ringing."""
        return self.kind not in (Kind.NO_ANSWER, Kind.BUSY)


@dataclass(frozen=True)
class Turn:
    role: str  # "agent" | "user"
    text: str  # may hold {name} and {company}


@dataclass(frozen=True)
class Analysis:
    call_successful: str  # success | failure | unknown
    summary: str
    title: str
    sales_outcome: str | None


INTERESTED = "+12025550100"
NOT_INTERESTED = "+12025550101"
CALLBACK = "+12025550102"
NO_ANSWER = "+12025550103"
BUSY = "+12025550104"
VOICEMAIL = "+12025550105"
REFUSED = "+12025550106"
DROPPED = "+12025550107"
LONG_CALL = "+12025550108"
NO_WEBHOOKS = "+12025550109"
DUPLICATE_WEBHOOKS = "+12025550110"
OPT_OUT = "+12025550111"

TEST_NUMBERS: dict[str, Scenario] = {
    INTERESTED: Scenario(Kind.INTERESTED, talk_seconds=32),
    NOT_INTERESTED: Scenario(Kind.NOT_INTERESTED, talk_seconds=24),
    CALLBACK: Scenario(Kind.CALLBACK, talk_seconds=20),
    NO_ANSWER: Scenario(Kind.NO_ANSWER, ring_seconds=30, talk_seconds=0, processing_seconds=0),
    BUSY: Scenario(Kind.BUSY, ring_seconds=3, talk_seconds=0, processing_seconds=0),
    VOICEMAIL: Scenario(Kind.VOICEMAIL, ring_seconds=12, talk_seconds=15),
    REFUSED: Scenario(Kind.REFUSED, ring_seconds=0, talk_seconds=0, processing_seconds=0),
    DROPPED: Scenario(Kind.DROPPED, talk_seconds=9, processing_seconds=2),
    LONG_CALL: Scenario(Kind.LONG, talk_seconds=600),
    NO_WEBHOOKS: Scenario(Kind.INTERESTED, talk_seconds=28, send_webhooks=False),
    DUPLICATE_WEBHOOKS: Scenario(Kind.NOT_INTERESTED, talk_seconds=24, duplicate_out_of_order=True),
    OPT_OUT: Scenario(Kind.OPT_OUT, talk_seconds=18),
}
_ANSWERED = (Kind.INTERESTED, Kind.NOT_INTERESTED, Kind.CALLBACK)


def scenario_for(number: str) -> Scenario:
    """The test number's scenario; any other number is answered with an outcome fixed by its digits."""
    if number in TEST_NUMBERS:
        return TEST_NUMBERS[number]
    digest = hashlib.sha256(number.encode()).digest()
    kind = _ANSWERED[digest[0] % len(_ANSWERED)]
    return Scenario(kind, ring_seconds=4 + digest[1] % 5, talk_seconds=20 + digest[2] % 21)


_PLAYS = {Kind.INTERESTED: "answers; interested", Kind.NOT_INTERESTED: "answers; not interested",
          Kind.CALLBACK: "answers; asks to be called back (names a day and time)", Kind.NO_ANSWER: "no answer",
          Kind.BUSY: "busy", Kind.VOICEMAIL: "voicemail", Kind.REFUSED: "ElevenLabs refuses to place the call",
          Kind.DROPPED: "answers, then the call drops (failed)", Kind.LONG: "a long call (minutes; try hanging up)",
          Kind.OPT_OUT: "answers; asks never to be called again"}


def describe(number: str) -> str:
    """What a call to `number` does in the simulator, in a few words (the demo prints it beside each lead)."""
    scenario = scenario_for(number)
    words = _PLAYS[scenario.kind]
    if not scenario.send_webhooks:
        words += "; no webhook is sent (only polling finds out)"
    if scenario.duplicate_out_of_order:
        words += "; webhooks arrive twice and out of order"
    return words


_SCRIPTS: dict[str, dict[Kind, tuple[Turn, ...]]] = {
    "en": {
        Kind.INTERESTED: (
            Turn("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
            Turn("user", "Sure, go ahead."),
            Turn("agent", "We help teams like {company} reach more customers by phone. Would that be useful?"),
            Turn("user", "Yes, I'm interested. Please send me a proposal."),
            Turn("agent", "Great, I'll email it today. Thank you!")),
        Kind.NOT_INTERESTED: (
            Turn("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
            Turn("user", "What is this about?"),
            Turn("agent", "We help teams like {company} reach more customers by phone."),
            Turn("user", "No thanks, we're not interested."),
            Turn("agent", "Understood, thank you for your time.")),
        Kind.CALLBACK: (
            Turn("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
            Turn("user", "I'm busy right now. Can you call me back on Thursday at 10 am?"),
            Turn("agent", "Of course, I'll call you on Thursday at 10 am. Have a nice day!")),
        Kind.OPT_OUT: (
            Turn("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
            Turn("user", "No. Please stop calling me and take me off your list."),
            Turn("agent", "Understood, we won't call you again. Sorry for the trouble.")),
        Kind.VOICEMAIL: (
            Turn("user", "You've reached the voicemail of {name}. Please leave a message after the tone."),
            Turn("agent", "Hi {name}, this is Alex from the sales team. I'll try again later.")),
        Kind.DROPPED: (
            Turn("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
            Turn("user", "Yes, but the line is very bad...")),
        Kind.LONG: (
            Turn("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
            Turn("user", "I have plenty of time, tell me everything."),
            Turn("agent", "Let me walk you through our plans for {company} in detail."),
            Turn("user", "Go on, I'm listening."),
            Turn("agent", "Here are the details of the annual plan."),
            Turn("user", "That sounds interesting.")),
    },
    "es": {
        Kind.INTERESTED: (
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
            Turn("user", "Sí, dígame."),
            Turn("agent", "Ayudamos a empresas como {company} a conseguir más clientes por teléfono. ¿Le sería útil?"),
            Turn("user", "Sí, me interesa. Envíeme una propuesta, por favor."),
            Turn("agent", "Perfecto, se la envío hoy por email. ¡Gracias!")),
        Kind.NOT_INTERESTED: (
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
            Turn("user", "¿De qué se trata?"),
            Turn("agent", "Ayudamos a empresas como {company} a conseguir más clientes por teléfono."),
            Turn("user", "No, gracias, no me interesa."),
            Turn("agent", "Entendido, gracias por su tiempo.")),
        Kind.CALLBACK: (
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
            Turn("user", "Ahora estoy ocupado. ¿Me puede llamar el jueves a las 10?"),
            Turn("agent", "Claro, le llamo el jueves a las 10. ¡Que tenga buen día!")),
        Kind.OPT_OUT: (
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
            Turn("user", "No. No me vuelvas a llamar, y bórrame de vuestra lista."),
            Turn("agent", "Entendido, no le volveremos a llamar. Disculpe las molestias.")),
        Kind.VOICEMAIL: (
            Turn("user", "Ha llamado al buzón de voz de {name}. Deje su mensaje después de la señal."),
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. Volveré a llamar más tarde.")),
        Kind.DROPPED: (
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
            Turn("user", "Sí, pero se oye muy mal...")),
        Kind.LONG: (
            Turn("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
            Turn("user", "Tengo todo el tiempo del mundo, cuénteme."),
            Turn("agent", "Le explico con detalle nuestros planes para {company}."),
            Turn("user", "Adelante, le escucho."),
            Turn("agent", "Estos son los detalles del plan anual."),
            Turn("user", "Suena interesante.")),
    },
}

_ANALYSES: dict[Kind, Analysis] = {
    Kind.INTERESTED: Analysis("success", "The lead is interested and asked for a proposal by email.",
                              "Lead interested", "interested"),
    Kind.NOT_INTERESTED: Analysis("failure", "The lead said they are not interested.", "Lead not interested",
                                  "not_interested"),
    Kind.CALLBACK: Analysis("success", "The lead asked to be called back on Thursday at 10 am.", "Callback requested",
                            "callback_requested"),
    Kind.OPT_OUT: Analysis("failure", "The lead asked not to be called again.", "Do not call", "not_interested"),
    Kind.VOICEMAIL: Analysis("failure", "The call reached voicemail; the agent left a short message.",
                             "Voicemail", None),
    Kind.DROPPED: Analysis("unknown", "The call dropped shortly after the lead answered.", "Call dropped", None),
    Kind.LONG: Analysis("success", "A long conversation about the annual plan; the lead sounded interested.",
                        "Annual plan walkthrough", "interested"),
}
_ENDED_EARLY = Analysis("unknown", "The call was ended before the conversation finished.", "Call ended early", None)


def spanish(language: str) -> bool:
    return language.lower().startswith("es")


def script_for(kind: Kind, language: str) -> tuple[Turn, ...]:
    return _SCRIPTS["es" if spanish(language) else "en"].get(kind, ())


def analysis_for(kind: Kind, *, ended_early: bool) -> Analysis:
    """What the post-call analysis concludes; a call hung up halfway (long call) concludes nothing."""
    if ended_early and kind is not Kind.DROPPED:
        return _ENDED_EARLY
    return _ANALYSES.get(kind, _ENDED_EARLY)


def _zone(language: str) -> tzinfo:
    try:
        return ZoneInfo("Europe/Madrid" if spanish(language) else "America/New_York")
    except ZoneInfoNotFoundError:
        return UTC


def callback_time(language: str, after_unix: float) -> str:
    """ISO-8601 text of the next Thursday at 10:00 (the time the callback script names), with its offset."""
    local = datetime.fromtimestamp(after_unix, tz=_zone(language))
    days = (3 - local.weekday()) % 7 or 7
    when = (local + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
    return when.isoformat()
