"""Test phone numbers → scripted calls (DESIGN.md §6), in the agent's language."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum


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


@dataclass(frozen=True)
class Scenario:
    kind: Kind
    ring_seconds: int = 6
    talk_seconds: int = 30
    processing_seconds: int = 4
    send_webhooks: bool = True
    duplicate_out_of_order: bool = False
    turns: tuple[tuple[str, str], ...] = field(default=())


_FIXED = {
    "+12025550100": Kind.INTERESTED,
    "+12025550101": Kind.NOT_INTERESTED,
    "+12025550102": Kind.CALLBACK,
    "+12025550103": Kind.NO_ANSWER,
    "+12025550104": Kind.BUSY,
    "+12025550105": Kind.VOICEMAIL,
    "+12025550106": Kind.REFUSED,
    "+12025550107": Kind.DROPPED,
    "+12025550108": Kind.LONG,
    "+12025550109": Kind.INTERESTED,
    "+12025550110": Kind.NOT_INTERESTED,
}
_OTHERS = (Kind.INTERESTED, Kind.NOT_INTERESTED, Kind.CALLBACK)

_SCRIPTS: dict[str, dict[Kind, list[tuple[str, str]]]] = {
    "en": {
        Kind.INTERESTED: [("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
                          ("user", "Sure, go ahead."),
                          ("agent", "We help companies like {company} reach more customers. Would that be useful?"),
                          ("user", "Yes, I'm interested. Please send me a proposal."),
                          ("agent", "Great, I'll email it today. Thank you!")],
        Kind.NOT_INTERESTED: [("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
                              ("user", "What is this about?"),
                              ("agent", "We help companies like {company} reach more customers."),
                              ("user", "No thanks, we're not interested."),
                              ("agent", "Understood, thank you for your time.")],
        Kind.CALLBACK: [("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
                        ("user", "I'm busy right now. Can you call me back on Thursday at 10 am?"),
                        ("agent", "Of course, I'll call you on Thursday at 10 am. Have a nice day!")],
        Kind.VOICEMAIL: [("user", "You've reached the voicemail of {name}. Please leave a message after the tone."),
                         ("agent", "Hi {name}, this is Alex from the sales team. I'll try again later.")],
        Kind.DROPPED: [("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
                       ("user", "Yes, but the line is very bad...")],
        Kind.LONG: [("agent", "Hi {name}, this is Alex from the sales team. Do you have a minute?"),
                    ("user", "I have plenty of time, tell me everything."),
                    ("agent", "Let me walk you through our plans in detail."),
                    ("user", "Go on, I'm listening."),
                    ("agent", "Here are the details of the annual plan."),
                    ("user", "That sounds interesting.")],
    },
    "es": {
        Kind.INTERESTED: [("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
                          ("user", "Sí, dígame."),
                          ("agent", "Ayudamos a empresas como {company} a conseguir más clientes. ¿Le sería útil?"),
                          ("user", "Sí, me interesa. Envíeme una propuesta, por favor."),
                          ("agent", "Perfecto, se la envío hoy por email. ¡Gracias!")],
        Kind.NOT_INTERESTED: [("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
                              ("user", "¿De qué se trata?"),
                              ("agent", "Ayudamos a empresas como {company} a conseguir más clientes."),
                              ("user", "No, gracias, no me interesa."),
                              ("agent", "Entendido, gracias por su tiempo.")],
        Kind.CALLBACK: [("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
                        ("user", "Ahora estoy ocupado. ¿Me puede llamar el jueves a las 10?"),
                        ("agent", "Claro, le llamo el jueves a las 10. ¡Que tenga buen día!")],
        Kind.VOICEMAIL: [("user", "Ha llamado al buzón de voz de {name}. Deje su mensaje después de la señal."),
                         ("agent", "Hola {name}, soy Alex del equipo comercial. Volveré a llamar más tarde.")],
        Kind.DROPPED: [("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
                       ("user", "Sí, pero se oye muy mal...")],
        Kind.LONG: [("agent", "Hola {name}, soy Alex del equipo comercial. ¿Tiene un minuto?"),
                    ("user", "Tengo todo el tiempo del mundo, cuénteme."),
                    ("agent", "Le explico nuestros planes con detalle."),
                    ("user", "Adelante, le escucho."),
                    ("agent", "Estos son los detalles del plan anual."),
                    ("user", "Suena interesante.")],
    },
}

SUMMARIES = {
    Kind.INTERESTED: "The lead is interested and asked for a proposal by email.",
    Kind.NOT_INTERESTED: "The lead said they are not interested.",
    Kind.CALLBACK: "The lead asked to be called back on Thursday at 10 am.",
    Kind.VOICEMAIL: "The call reached voicemail; the agent left a short message.",
    Kind.DROPPED: "The call dropped shortly after the lead answered.",
    Kind.LONG: "A long conversation about the annual plan.",
}


def kind_for(number: str) -> Kind:
    if number in _FIXED:
        return _FIXED[number]
    digest = hashlib.sha256(number.encode()).digest()
    return _OTHERS[digest[0] % len(_OTHERS)]


def scenario_for(number: str, language: str) -> Scenario:
    kind = kind_for(number)
    script = _SCRIPTS["es" if language.startswith("es") else "en"].get(kind, [])
    turns = tuple(script)
    if kind in (Kind.NO_ANSWER, Kind.BUSY):
        return Scenario(kind, ring_seconds=20 if kind is Kind.NO_ANSWER else 3, talk_seconds=0, processing_seconds=0)
    if kind is Kind.VOICEMAIL:
        return Scenario(kind, talk_seconds=15, turns=turns)
    if kind is Kind.DROPPED:
        return Scenario(kind, talk_seconds=9, processing_seconds=2, turns=turns)
    if kind is Kind.LONG:
        return Scenario(kind, talk_seconds=600, turns=turns)
    return Scenario(kind, talk_seconds=30 if kind is not Kind.CALLBACK else 18, turns=turns,
                    send_webhooks=number != "+12025550109", duplicate_out_of_order=number == "+12025550110")
