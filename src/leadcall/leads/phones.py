"""Phone numbers are stored in E.164, validated with the `phonenumbers` library."""

from __future__ import annotations

import phonenumbers
from babel.languages import get_official_languages


class PhoneError(ValueError):
    pass


def to_e164(raw: str, default_country: str = "US") -> str:
    text = raw.strip()
    if not text:
        raise PhoneError("the phone number is empty")
    try:
        parsed = phonenumbers.parse(text, default_country.upper())
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError(
            f"'{raw}' is not a valid phone number; write it with its country code, e.g. +34 612 345 678")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def language_of(e164: str | None) -> str | None:
    """The language most people speak where a number is registered (`+34…` → "es", `+1…` → "en"), as the first
    de facto official language of its region; None for an unknown or missing number."""
    if not e164:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    languages = get_official_languages(region, de_facto=True) if region else ()
    return str(languages[0]) if languages else None
