"""Every sentence the dialog says, as data: one module per language with the same keys and placeholders.

Owns `say(language, key, **values)`. Patient text is written in our own words from the [V] facts of
shared/clinical-facts.md, gives no individual dosing advice, and always leaves decisions to the care team.
Imports nothing of ours but its language modules.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.dialog.texts import en, es, sms

LANGUAGES: dict[str, Mapping[str, str]] = {"en": en.TEXTS, "es": es.TEXTS}
DEFAULT = "en"


def say(language: str, key: str, *, for_sms: bool = False, **values: object) -> str:
    """Returns the sentence `key` in `language` (English if the language is unknown), filled with `values`;
    `for_sms` takes the shorter SMS sentence where there is one (`texts/sms.py`)."""
    code = language if language in LANGUAGES else DEFAULT
    if for_sms and key in sms.TEXTS[code]:
        return sms.TEXTS[code][key].format(**values)
    return LANGUAGES[code][key].format(**values)


def other_language(language: str) -> str:
    """Returns the language a one-tap switch offers: Spanish for English speakers, English otherwise."""
    return "es" if language == "en" else "en"
