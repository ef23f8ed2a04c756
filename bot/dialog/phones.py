"""Phone numbers a patient gives for SMS: read with `phonenumbers`, stored in E.164.

Owns the one rule: a number is read in the patient's country when it has no country code, and kept only if
`phonenumbers` says it is a valid number. Imports nothing of ours.
"""

from __future__ import annotations

import phonenumbers


def to_e164(text: str, country: str | None) -> str | None:
    """Returns `text` as an E.164 number ("+34600123456"), or None when it is not a valid phone number."""
    candidate = text.strip()
    if not candidate or len(candidate) > 40:
        return None
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    try:
        number = phonenumbers.parse(candidate, None if candidate.startswith("+") else (country or None))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
