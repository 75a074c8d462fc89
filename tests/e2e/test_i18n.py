"""The web app's catalog is complete: every key the pages use exists, in Spanish and in English.

No browser here; it lives beside the browser tests because it guards the same pages."""

from __future__ import annotations

import re
from pathlib import Path

from leadcall.calls.models import CallStatus, PhoneResult, SalesResult
from leadcall.leads.models import LeadStatus
from leadcall.tenancy.models import Role
from leadcall.voice.manager import Unavailability, VoiceManager
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.schemas import CALL_TYPES
from leadcall.voice.types import AgentInfo
from leadcall.web.i18n import LANGUAGES, MESSAGES, translate, translate_reason
from leadcall.web.rendering import WEB_DIR

# Keys written out in templates and Python: t("key"), translate(lang, "key"), ("login.failed", {...}), and any
# quoted "family.name" of a family the catalog has. Keys built from a domain value are checked by family.
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+|[a-z_]+)["']""")
FAMILY_NAMES = sorted({key.split(".")[0] for key in MESSAGES if "." in key})
QUOTED_KEY = re.compile(r"""["']((?:""" + "|".join(FAMILY_NAMES) + r""")\.(?!html\b)[a-z0-9_]+)["']""")
FAMILIES = {
    "status": [s.value for s in CallStatus],
    "outcome": [o.value for o in PhoneResult] + [o.value for o in SalesResult],
    "calltype": list(CALL_TYPES),
    "leadstatus": [s.value for s in LeadStatus],
    "role": [r.value for r in Role],
    "speaker": ["agent", "user"],
}


def test_every_message_exists_in_both_languages() -> None:
    for key, entry in MESSAGES.items():
        for lang in LANGUAGES:
            assert entry.get(lang, "").strip(), f"{key} has no {lang} text"
        placeholders = {lang: set(re.findall(r"{(\w+)}", entry[lang])) for lang in LANGUAGES}
        assert placeholders["es"] == placeholders["en"], f"{key}: the languages use different placeholders"


def test_every_key_the_pages_use_is_in_the_catalog() -> None:
    sources = [*(WEB_DIR / "templates").glob("*.html"), *(p for p in WEB_DIR.glob("*.py") if p.name != "i18n.py")]
    texts = [Path(path).read_text() for path in sources]
    used = {key for text in texts for pattern in (LITERAL_KEY, QUOTED_KEY) for key in pattern.findall(text)}
    assert used, "the scan found no keys: the pattern is wrong"
    missing = sorted(k for k in used if k not in MESSAGES)
    assert missing == [], f"keys used by the pages but missing from the catalog: {missing}"
    built = {f"{family}.{value}" for family, values in FAMILIES.items() for value in values}
    assert sorted(built - MESSAGES.keys()) == []
    # error.<status> and reason.<kind> are chosen in code (error_title, translate_reason).
    unused = sorted(k for k in MESSAGES if k not in used | built and not k.startswith(("error.", "reason.")))
    assert unused == [], f"catalog keys no page uses: {unused}"


def test_agent_reasons_are_translated_and_unknown_ones_kept() -> None:
    assert translate_reason("es", "agent_busy", "the agent is busy: 2 call(s) in progress, its limit is 2",
                            {"live": 2, "limit": 2}) == "ocupado: 2 llamada(s) en curso, su límite es 2"
    assert translate_reason("es", "team_not_allowed", "your team may not use this agent") == (
        "tu equipo no puede usar este agente")
    assert translate_reason("es", "something_new", "something new") == "something new"
    assert translate_reason("es", "agent_busy", "the agent is busy", {}) == "the agent is busy", "values missing"
    assert translate("es", "picker.unavailable", reason="x") == "No disponible: x"


def test_every_reason_the_voice_manager_gives_is_translated() -> None:
    """Ties the catalog to VoiceManager's own codes, so a new reason cannot fall back to English unnoticed."""
    ref = VoiceAgent(agent_id="a", is_enabled=True, allowed_organization_ids=["team-a"], allowed_call_types=["closing"],
                     max_concurrent_calls=1, tags=[])
    account = ElevenLabsAccount(name="Main", concurrency_limit=2)
    info = AgentInfo(agent_id="a", name="Ava", language="es", first_message="", prompt="", voice_id=None)
    found = [
        VoiceManager._rule_reason(VoiceAgent(agent_id="a", is_enabled=False, allowed_organization_ids=[],
                                             allowed_call_types=[]), "team-a", None),
        VoiceManager._rule_reason(ref, "team-b", None),
        VoiceManager._rule_reason(ref, "team-a", "follow_up"),
        VoiceManager._capacity_reason(ref, info, 1, account, 1),
        VoiceManager._capacity_reason(VoiceAgent(agent_id="a", max_concurrent_calls=None), info, 0, account, 2),
    ]
    reasons = [r for r in found if r is not None]
    assert len(reasons) == len(found)
    # The one reason given outside these helpers (an agent with no number to call from), by its documented code.
    assert "no_phone_number" in (Unavailability.__doc__ or "")
    reasons.append(Unavailability("no_phone_number", "no phone number is assigned to this agent or its account"))
    for reason in reasons:
        assert f"reason.{reason.code}" in MESSAGES, f"not in the catalog: {reason.code}"
        assert translate_reason("es", reason.code, reason.text, reason.values) != reason.text
    assert translate_reason("es", reasons[3].code, reasons[3].text, reasons[3].values) == (
        "ocupado: 1 llamada(s) en curso, su límite es 1")
    assert translate_reason("es", reasons[4].code, reasons[4].text, reasons[4].values) == (
        "la cuenta «Main» está en su límite de 2 llamadas simultáneas")
