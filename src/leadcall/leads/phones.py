"""Phone numbers are stored in E.164, validated with the `phonenumbers` library."""

from __future__ import annotations

import phonenumbers


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
