"""The web app's words, in Spanish and English, from the gettext catalogs in `leadcall/locales`.

Messages are keyed (key-based msgids): `locales/<lang>/LC_MESSAGES/messages.po` maps each dotted key to its
text, with `{name}` placeholders (str.format) and plural forms for counts (`translate_plural`). The .po files
are the only source: they are compiled in memory the first time a process needs a language (no .mo to build
or to go stale). README ("Texts and translations") says how to add one.

Families whose last part is a value of the domain (`status.<call status>`, `outcome.<outcome>`,
`calltype.<type>`, `leadstatus.<lead status>`, `role.<role>`) cover every value the domain defines. Form
mistakes are worded from stable codes, never from the English text of pydantic or a service: `field.<form
field>` labels, `invalid.<pydantic error type>` problems, `problem.<error code>` refusals.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
FALLBACK_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language)


@cache
def _translations(language: str) -> Translations:
    """The language's catalog compiled in memory (untranslated entries left out), falling back to English."""
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(language))
    compiled.seek(0)
    translations = Translations(compiled)
    if language != FALLBACK_LANGUAGE:
        translations.add_fallback(_translations(FALLBACK_LANGUAGE))
    return translations


@cache
def message_keys() -> frozenset[str]:
    """Every key the catalogs hold (in any language)."""
    keys: set[str] = set()
    for language in LANGUAGES:
        for message in read_catalog(language):
            if message.id:
                keys.add(str(message.id if isinstance(message.id, str) else message.id[0]))
    return frozenset(keys)


def has_message(key: str) -> bool:
    return key in message_keys()


def _formatted(language: str, values: Mapping[str, object]) -> dict[str, object]:
    """Counts and amounts in the language's way of writing numbers (1.500 / 1,500; 2,5 / 2.5)."""
    return {k: format_decimal(v, locale=language) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in values.items()}


def translate(language: str, key: str, **values: object) -> str:
    """The message in `language` (English if that language lacks it); an unknown key shows as itself."""
    text = _translations(language).gettext(key)
    return text.format(**_formatted(language, values)) if values else text


def translate_plural(language: str, key: str, n: int, **values: object) -> str:
    """The plural message `key` for the count `n` (its `{n}`), in `language`'s plural forms."""
    text = _translations(language).ngettext(key, key, n)
    return text.format(**_formatted(language, {"n": n, **values}))


def _fill(language: str, key: str, values: Mapping[str, object] | None, fallback: str) -> str:
    if not has_message(key):
        return fallback
    try:
        return _translations(language).gettext(key).format(**_formatted(language, values or {}))
    except (KeyError, IndexError):  # a code without the values its sentence names
        return fallback


def translate_reason(language: str, code: str, text: str, values: Mapping[str, object] | None = None) -> str:
    """Why an agent cannot take a call, in `language`, from the stable code VoiceManager gives with it
    (`reason.<code>`, filled with its values); a code this catalog does not know keeps the given text."""
    return _fill(language, f"reason.{code}", values, text)


def translate_problem(language: str, code: str, text: str, params: Mapping[str, object] | None = None) -> str:
    """What a service refused, in `language`, from the stable code of its error (`problem.<code>`, filled
    with its params); a code this catalog does not know keeps the given (English) text."""
    values = dict(params or {})
    if isinstance(values.get("what"), str):  # the thing a "not found" names, by its repository label
        thing = "thing." + re.sub(r"\W+", "_", str(values["what"]).lower())
        values["what"] = translate(language, thing) if has_message(thing) else values["what"]
    if isinstance(values.get("role"), str) and has_message(f"role.{values['role']}"):
        values["role"] = translate(language, f"role.{values['role']}")
    currency = values.get("currency")
    if isinstance(currency, str) and currency:  # a budget's amounts, written as money of its currency
        for name in ("limit", "used", "spent"):
            amount = values.get(name)
            if isinstance(amount, int | float):
                values[name] = money(language, float(amount), currency)
    return _fill(language, f"problem.{code}", values, text)


# pydantic error types that tell a person the same as one the catalog words (`invalid.<type>`).
_SAME_PROBLEM = {"int_type": "int_parsing", "int_from_float": "int_parsing", "float_type": "float_parsing",
                 "bool_type": "bool_parsing", "literal_error": "enum", "url_type": "url_parsing",
                 "url_scheme": "url_parsing", "url_syntax_violation": "url_parsing", "url_too_long": "url_parsing"}
# Where FastAPI found a request value; not part of the field's name.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form"}


def field_label(language: str, field: str) -> str:
    """A form field's label, by its name (snake_case or the API's camelCase); an unknown field shows its name."""
    key = "field." + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", field).lower()
    return translate(language, key) if has_message(key) else field


def _plain(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def explain_field(language: str, field: str | None, code: str, values: Mapping[str, object] | None = None) -> str:
    """What is wrong with one field, in `language`, from a stable code: pydantic's error `type` with its `ctx`,
    or one of the page's own (`invalid.<code>`). Never pydantic's English: a type the catalog does not word
    says the value is not valid. Reads "<label>: <problem>"."""
    filled = {k: _plain(v) for k, v in (values or {}).items() if isinstance(v, str | int | float)}
    code = _SAME_PROBLEM.get(code, code)
    if code == "value_error" and field == "email":
        code = "email"  # pydantic's email check words its finding as a plain value error
    if code == "string_too_short" and filled.get("min_length", 1) in (0, 1):
        code = "missing"  # a text field left empty
    generic = translate(language, "invalid.value_error")
    problem = _fill(language, f"invalid.{code}", filled, generic)
    if not field:
        return problem[:1].upper() + problem[1:]
    return translate(language, "invalid.field", field=field_label(language, field), problem=problem)


def explain_errors(language: str, errors: Iterable[Mapping[str, Any]]) -> str:
    """pydantic's (or FastAPI's) validation errors in `language`, each by its field and type."""
    lines: list[str] = []
    for error in errors:
        names = [p for p in error.get("loc", ()) if isinstance(p, str) and p not in _LOCATIONS]
        ctx = error.get("ctx")
        line = explain_field(language, names[-1] if names else None, str(error.get("type", "")),
                             ctx if isinstance(ctx, Mapping) else None)
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)


def error_title(language: str, status_code: int) -> str:
    key = f"error.{status_code}"
    return translate(language, key) if has_message(key) else translate(language, "error.title")


def pick_language(*candidates: object) -> str:
    """The first candidate that is a language of the app, else the default."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def money(language: str, value: float | None, currency: str | None = None) -> str:
    """An amount as the language writes it: with its currency ("1.500,00 €", "€1,500.00"), else two decimals."""
    if value is None:
        return ""
    if currency:
        return format_currency(value, currency, locale=language)
    return format_decimal(value, format="#,##0.00", locale=language)


def number(language: str, value: float | None, places: int = 1) -> str:
    """A figure as the language writes it, with `places` decimals ("1.234,5" / "1,234.5")."""
    return "" if value is None else format_decimal(value, format="#,##0." + "0" * places if places else "#,##0",
                                                   locale=language)


def percent(language: str, share: float | None) -> str:
    """A share (0.42) as the language writes a percentage ("42 %" / "42%"); a dash when there is none."""
    return "—" if share is None else format_percent(share, locale=language)


def when(language: str, value: datetime, zone: str | tzinfo | None = None) -> str:
    """A moment as the language writes it, in `zone` (UTC if none or unknown), naming the zone."""
    place = zone if isinstance(zone, tzinfo) else _zone(zone)
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    text = format_datetime(moment, "medium", tzinfo=place, locale=language)
    text = re.sub(r"(\d{1,2}:\d{2}):\d{2}", r"\1", text)  # to the minute
    name = getattr(place, "key", None) or "UTC"
    return f"{text} ({'UTC' if name == 'UTC' else name.replace('_', ' ')})"


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def accepted_language(header: str | None) -> str | None:
    """The app's language a browser's Accept-Language prefers most (by q, then order), if it names one."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
        if base in LANGUAGES and quality > 0 and (best is None or (-quality, index) < (-best[0], best[1])):
            best = (quality, index, base)
    return best[2] if best else None
