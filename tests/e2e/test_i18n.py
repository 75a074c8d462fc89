"""The web app's gettext catalogs are complete: every key the pages use exists, in Spanish and in English.

No browser here; it lives beside the browser tests because it guards the same pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from leadcall.calls.models import CallStatus, PhoneResult, SalesResult
from leadcall.calls.service import CALL_DROPPED, OWN_REASON_CODES
from leadcall.campaigns.models import CampaignState
from leadcall.campaigns.schemas import ATTEMPT_STATES, Counts, StopOn
from leadcall.integrations.delivery import ATTEMPT_ERRORS
from leadcall.integrations.models import DeliveryState
from leadcall.leads.models import DncSource, LeadStatus
from leadcall.rules.hours import DAYS
from leadcall.rules.regions import REGION_RULES
from leadcall.scheduling.models import CallbackMode, CallbackStatus
from leadcall.tenancy.models import Role
from leadcall.voice.analysis_models import AnalysisState
from leadcall.voice.availability import account_reason, capacity_reason, rule_reason
from leadcall.voice.errors import ProviderMisconfigured, ProviderRetriable
from leadcall.voice.health import WebhookState
from leadcall.voice.listings import PROVIDER_MISCONFIGURED, PROVIDER_UNAVAILABLE, ListingProblem
from leadcall.voice.manager import Unavailability
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.providers.elevenlabs.adapter import connection_problem
from leadcall.voice.schemas import CALL_TYPES
from leadcall.voice.types import AgentInfo
from leadcall.web.catalogs import problems, used_keys
from leadcall.web.i18n import (
    accepted_language,
    explain_errors,
    explain_field,
    field_label,
    has_message,
    message_keys,
    money,
    number,
    percent,
    translate,
    translate_plural,
    translate_problem,
    translate_reason,
)
from leadcall.web.rendering import WEB_DIR
from leadcall.web.usage import PERIODS as USAGE_PERIODS
from leadcall.web.webhooks import PROBLEMS

# Keys written out in templates and Python: t("key"), translate(lang, "key"), ("login.failed", {...}), and any
# quoted "family.name" of a family the catalog has. Keys built from a domain value are checked by family.
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+|[a-z_]+)["']""")
MESSAGES = message_keys()
FAMILY_NAMES = sorted({key.split(".")[0] for key in MESSAGES if "." in key})
QUOTED_KEY = re.compile(r"""["']((?:""" + "|".join(FAMILY_NAMES) + r""")\.(?!html\b|css\b|js\b|svg\b)[a-z0-9_]+)["']""")
FAMILIES = {
    "status": [s.value for s in CallStatus],
    "outcome": [o.value for o in PhoneResult] + [o.value for o in SalesResult],
    "calltype": list(CALL_TYPES),
    "leadstatus": [s.value for s in LeadStatus],
    "role": [r.value for r in Role],
    "speaker": ["agent", "user"],
    "day": list(DAYS),
    "dncsource": [s.value for s in DncSource],
    "region": [r.id for r in REGION_RULES],
    "analysisstate": [s.value for s in AnalysisState],
    "analysisdone": [AnalysisState.ready.value, AnalysisState.opted_out.value],
    "callbackstatus": [s.value for s in CallbackStatus],
    "callbackmode": [m.value for m in CallbackMode],
    "webhookstate": [s.value for s in WebhookState],
    "campaignstate": [s.value for s in CampaignState],
    "attemptstate": [*ATTEMPT_STATES, "due"],
    "campaigncount": [f for f in Counts.model_fields if f != "total"],
    "campaignend": ["all_called", "end_reached", "spending_cap_reached", "canceled_by_user", "nobody_to_call",
                    "owner_unavailable"],
    # What the preview skips, and why an attempt ended or waits (the dispatcher's codes).
    "campaignskip": ["number_on_dnc", "lead_has_no_phone", "no_consent", "no_calling_window", "attempts_exhausted",
                     "lead_archived", "all_called", "end_reached", "spending_cap_reached", "canceled_by_user",
                     "opted_out", "outside_calling_hours", "outside_campaign_windows",
                     *(f"retry_{result}" for result in ("busy", "failed", "no_answer", "voicemail")),
                     *(f"stopped_{stop}" for stop in get_args(StopOn))],
    "campaignstop": list(get_args(StopOn)),
    "healthwarning": ["webhooks_stopped", "webhooks_refused",
                      *(f"webhook_{s.value}" for s in WebhookState if s not in (WebhookState.ok, WebhookState.unreadable))],
    "deliverystate": [s.value for s in DeliveryState],
    "webhookerror": list(ATTEMPT_ERRORS),
    "webhookproblem": list(PROBLEMS),
    "usageperiod": list(USAGE_PERIODS),
}


def test_every_message_exists_in_both_languages() -> None:
    """Every message of the .po files translated in es and en with the same placeholders, and every key the
    templates and Python write out (Babel's extraction) in both catalogs, plural where used as a plural."""
    assert len(used_keys()) > 200, "the extraction found the pages' keys"
    assert problems() == []


def test_counts_read_in_the_right_plural() -> None:
    assert translate_plural("es", "leads.count", 1) == "1 lead"
    assert translate_plural("es", "leads.count", 1500) == "1.500 leads"
    assert translate_plural("en", "leads.count", 1500) == "1,500 leads"
    assert translate_plural("en", "call.credits", 1) == "1 credit"
    assert translate_plural("es", "stats.opt_outs", 2) == "2 no quieren más llamadas"


def test_money_is_written_the_languages_way() -> None:
    assert money("es", 1500, "EUR") == "1.500,00\xa0€"
    assert money("en", 1500, "EUR") == "€1,500.00"
    assert money("es", 1500, "USD").endswith("US$")


def test_figures_and_shares_are_written_the_languages_way() -> None:
    assert (number("es", 1234.5), number("en", 1234.5)) == ("1.234,5", "1,234.5")
    assert number("es", 3.456, 2) == "3,46"
    assert (percent("es", 0.42), percent("en", 0.42), percent("en", None)) == ("42\xa0%", "42%", "—")


def test_the_browsers_accept_language_picks_among_the_apps_languages() -> None:
    assert accepted_language("en-US,en;q=0.9,es;q=0.8") == "en"
    assert accepted_language("fr-FR, es;q=0.5, en;q=0.4") == "es"
    assert accepted_language("de, fr") is None
    assert accepted_language("en;q=0, es") == "es"
    assert accepted_language(None) is None


def test_every_key_the_pages_use_is_in_the_catalog() -> None:
    own = ("i18n.py", "catalogs.py")
    sources = [*(WEB_DIR / "templates").glob("*.html"), *(p for p in WEB_DIR.glob("*.py") if p.name not in own)]
    texts = [Path(path).read_text() for path in sources]
    used = {key for text in texts for pattern in (LITERAL_KEY, QUOTED_KEY) for key in pattern.findall(text)}
    used |= set(used_keys())
    assert used, "the scan found no keys: the pattern is wrong"
    missing = sorted(k for k in used if k not in MESSAGES)
    assert missing == [], f"keys used by the pages but missing from the catalog: {missing}"
    built = {f"{family}.{value}" for family, values in FAMILIES.items() for value in values}
    assert sorted(built - MESSAGES) == []
    # error.<status>, reason.<kind>, field.<name>, invalid.<type> and problem.<code> are chosen in code
    # (error_title, translate_reason, explain_field, translate_problem); the tests below tie them down.
    unused = sorted(k for k in MESSAGES if k not in used | built
                    and not k.startswith(("error.", "reason.", "field.", "invalid.", "problem.", "thing.",
                                          "connection.")))
    assert unused == [], f"catalog keys no page uses: {unused}"


def test_every_connection_test_result_is_worded_in_both_languages() -> None:
    """Each result a connection test can give (every kind of failure the adapter tells apart, and success)
    has its own words in es and en; none falls back to the adapter's English."""
    failures = [ProviderMisconfigured("no scope", code="missing_permissions", missing_permission="convai_read"),
                ProviderRetriable("connect failed"),
                ProviderMisconfigured("bad key", status_code=401),
                ProviderMisconfigured("no money", status_code=402),
                ProviderRetriable("slow down", status_code=429),
                ProviderRetriable("oops", status_code=503),
                ProviderRetriable("html", code="unexpected_response", status_code=200),
                ProviderMisconfigured("forbidden", status_code=403)]
    results = [connection_problem(exc) for exc in failures]
    codes = [r.code for r in results] + ["connected"]
    assert len(set(codes)) == len(codes), f"each kind of failure has its own code: {codes}"
    for result in results:
        for language in ("es", "en"):
            worded = translate(language, f"connection.{result.code}", **result.params)
            assert worded != f"connection.{result.code}", f"connection.{result.code} has no {language} text"
        spanish = translate("es", f"connection.{result.code}", **result.params)
        english = translate("en", f"connection.{result.code}", **result.params)
        assert spanish not in (english, result.detail), f"connection.{result.code} shows English on a Spanish page"
    assert translate("es", "connection.connected") != translate("en", "connection.connected")


def test_agent_reasons_are_translated_and_unknown_ones_kept() -> None:
    assert translate_reason("es", "agent_busy", "the agent is busy: 2 call(s) in progress, its limit is 2",
                            {"live": 2, "limit": 2}) == "ocupado: llamadas en curso 2, límite 2"
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
        rule_reason(VoiceAgent(agent_id="a", is_enabled=False, allowed_organization_ids=[],
                                             allowed_call_types=[]), "team-a", None),
        rule_reason(ref, "team-b", None),
        rule_reason(ref, "team-a", "follow_up"),
        capacity_reason(ref, info, 1, account, 1),
        capacity_reason(VoiceAgent(agent_id="a", max_concurrent_calls=None), info, 0, account, 2),
        account_reason(account, ListingProblem(PROVIDER_UNAVAILABLE, "ElevenLabs timed out")),
        account_reason(account, ListingProblem(PROVIDER_MISCONFIGURED, "invalid API key")),
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
        "ocupado: llamadas en curso 1, límite 1")
    assert translate_reason("es", reasons[4].code, reasons[4].text, reasons[4].values) == (
        "la cuenta «Main» está en su límite de llamadas simultáneas (2)")


# Named form controls that are no field a person fills in.
NOT_FIELDS = {"alert_id", "csrf_token", "idempotency_key", "lang", "lead_id", "next", "stop_on_shown", "viewport"}
SRC = WEB_DIR.parent


def test_every_form_field_has_a_label_for_its_mistakes() -> None:
    named = {name for path in (WEB_DIR / "templates").glob("*.html")
             for name in re.findall(r'\bname="([a-z_]+)"', path.read_text())}
    assert {"name", "api_key", "monthly_limit", "thresholds", "file"} <= named, "the scan found the forms' fields"
    missing = sorted(f"field.{name}" for name in named - NOT_FIELDS if f"field.{name}" not in MESSAGES)
    assert missing == [], f"form fields whose mistakes would name them in English: {missing}"


def test_pydantic_errors_are_worded_from_their_type_and_field() -> None:
    assert explain_field("es", "name", "string_too_short", {"min_length": 1}) == "Nombre: este campo es obligatorio"
    assert explain_field("en", "name", "missing") == "Name: this field is required"
    assert explain_field("es", "apiKey", "string_too_short", {"min_length": 8}) == (
        "API key: necesita al menos 8 caracteres"), "the API's camelCase names the same field"
    assert explain_field("es", "usd_to_currency_rate", "greater_than", {"gt": 0.0}) == (
        "Cambio USD → moneda del tenant: debe ser mayor que 0")
    assert explain_field("en", "concurrency_limit", "int_type") == "Simultaneous calls: must be a whole number"
    # A type the catalog does not word, or one without the values its sentence needs: still no English of pydantic's.
    assert explain_field("es", "tags", "some_new_type") == "Etiquetas: no es un valor válido"
    assert explain_field("es", "tags", "too_long") == "Etiquetas: no es un valor válido"
    assert explain_field("es", None, "value_error") == "No es un valor válido"
    assert explain_field("es", "twilio_sid", "missing") == "twilio_sid: este campo es obligatorio"
    errors = [{"type": "missing", "loc": ("body", "monthly_limit"), "msg": "Field required"},
              {"type": "too_long", "loc": ("tags", 3), "msg": "List should have at most 30 items",
               "ctx": {"field_type": "List", "max_length": 30, "actual_length": 31}},
              {"type": "missing", "loc": ("body", "monthly_limit"), "msg": "Field required"}]
    assert explain_errors("es", errors) == ("Presupuesto mensual: este campo es obligatorio; "
                                            "Etiquetas: admite como mucho 30 elementos")


def test_every_problem_the_catalog_words_is_a_code_the_services_raise() -> None:
    """A renamed code would silently fall back to English: each `problem.<code>` must still be raised somewhere."""
    raised = {code for path in SRC.rglob("*.py") if "web" not in path.parts
              for found in re.findall(r'\bcode="([a-z0-9_]+)"(?: if [^"\n]+ else "([a-z0-9_]+)")?', path.read_text())
              for code in found if code}
    raised |= {code for name in ("router.py", "account.py")
               for code in re.findall(r'\bcode="([a-z0-9_]+)"', (WEB_DIR / name).read_text())}
    # How a call ended short: codes the call service names as constants (calls/service.py).
    raised |= set(OWN_REASON_CODES) | {CALL_DROPPED}
    # The placement rate limits name their code in a table, one row per limit.
    raised |= set(re.findall(r'"(placements_limited_[a-z]+)"', (SRC / "billing" / "service.py").read_text()))
    # The framework's own errors (no route, our fault), coded where the envelope is built.
    framework = (SRC / "core" / "http_errors.py").read_text()
    raised |= {code for pair in re.findall(r'\bcode="([a-z_]+)"|"code": "([a-z_]+)"', framework) for code in pair if code}
    worded = {key.removeprefix("problem.") for key in MESSAGES if key.startswith("problem.")}
    assert worded and sorted(worded - raised) == []
    assert translate_problem("es", "email_taken", "a user with the email a@b.c already exists", {"email": "a@b.c"}) == (
        "Ya hay un usuario con el email a@b.c.")
    assert translate_problem("es", "something_new", "something new") == "something new"
    assert translate_problem("es", "email_taken", "a user with this email already exists", {}) == (
        "a user with this email already exists"), "params missing: the English detail stays"
    assert field_label("es", "maxConcurrentCalls") == "Máx. llamadas a la vez"


# Codes a person meets on the pages: refusals of a call, a lead, a budget, a sign-in, a form.
PAGE_CODES = ["lead_already_on_call", "number_on_dnc", "lead_has_no_phone", "budget_spent", "team_budget_spent",
              "placements_limited_user", "placements_limited_tenant", "not_found", "call_already_ended",
              "call_being_placed", "call_being_confirmed", "call_still_live", "no_recording", "role_not_allowed",
              "team_name_taken",
              "too_many_sign_ins", "wrong_credentials", "session_ended", "form_expired", "account_has_history",
              "agent_unknown", "email_taken", "account_name_taken", "phone_invalid", "owner_not_in_team",
              "current_password_wrong", "password_mismatch", "password_too_short", "password_too_common",
              "password_unchanged", "reset_link_invalid", "too_many_password_attempts",
              "outside_calling_hours", "attempts_exhausted", "no_consent", "timezone_unknown", "csv_no_phone_column",
              "provider_unavailable", "provider_needs_attention"]


def test_refusals_a_person_meets_on_the_pages_are_worded_in_both_languages() -> None:
    missing = [code for code in PAGE_CODES if f"problem.{code}" not in MESSAGES]
    assert missing == [], f"refusals the pages would show in English: {missing}"
    spent = translate_problem("es", "budget_spent", "the monthly budget of 10.00 EUR is spent ...",
                              {"limit": 10.0, "currency": "EUR", "used": 10.2, "until": "2026-12-01"})
    assert spent.startswith("El presupuesto mensual de 10,00\xa0€ está gastado (10,20\xa0€ usados")
    assert "2026-12-01" in spent
    assert translate_problem("es", "placements_limited_user", "you placed 5 calls in the last minute ...",
                             {"limit": 5, "seconds": 12}) == (
        "Has llegado al máximo de llamadas por minuto (5); inténtalo de nuevo en 12 s.")


def test_not_found_names_the_thing_in_the_pages_language() -> None:
    """Every repository's label (what a 404 names) is worded, so "not found" never mixes languages."""
    labels = {label for path in SRC.rglob("repository.py") for label in re.findall(r'^\s+label = "([^"]+)"',
                                                                                      path.read_text(), re.M)}
    labels |= {label for label in re.findall(r'^\s+label = "([^"]+)"', (SRC / "billing" / "service.py").read_text(),
                                             re.M)}
    assert {"lead", "call", "ElevenLabs account", "budget"} <= labels, "the scan found the repositories' labels"
    for label in labels:
        thing = "thing." + re.sub(r"\W+", "_", label.lower())
        assert has_message(thing), f"a 404 would name {label!r} in English"
        assert translate_problem("es", "not_found", f"{label} not found", {"what": label}) == (
            f"No se encuentra: {translate('es', thing)}.")
    assert translate_problem("es", "not_found", "call not found", {"what": "call"}) == "No se encuentra: la llamada."
    assert translate_problem("en", "not_found", "ElevenLabs account not found", {"what": "ElevenLabs account"}) == (
        "Not found: the ElevenLabs account.")


def test_csv_row_problems_are_worded_from_their_codes() -> None:
    assert explain_field("es", "email", "value_error", {"reason": "An email address must have an @-sign."}) == (
        "Email: no es una dirección de email")
    assert explain_field("en", "owner_email", "owner_unknown", {"email": "x@y.z"}) == (
        "Owner: there is no user with the email x@y.z")
    assert explain_field("es", "phone", "phone_invalid", {"phone": "12"}).startswith("Teléfono: «12» no es un número")
