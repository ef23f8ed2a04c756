"""The text budget of an SMS: the GSM-7 alphabet, folding text to it, and segments as Twilio counts them.

Owns `fold_to_gsm7` (what we send: letters GSM-7 lacks become their plain form, "á" -> "a", curly quotes ->
straight, so Spanish stays in 160-character segments instead of UCS-2's 70), `count_segments` (GSM-7: 160
septets alone, 153 a part when concatenated, extension characters such as € [ ] { } count two and are
never split; UCS-2: 70 UTF-16 units alone, 67 a part, surrogate pairs never split; 3GPP TS 23.038 and
Twilio's "What the heck is a segment?") and `list_options` ("Reply 1 for ..., 2 for ..." in the patient's
language). The alphabet and the counting are `care.sms_segments`'s, shared with the education library.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.options import Option
from care.sms_segments import GSM7_BASIC, GSM7_EXTENSION, Encoding, encoding_of, segments, units

MAX_SEGMENTS = 2  # our budget for every message we send

_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "-",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\t": " ",
    "ç": "c",  # GSM-7 has only the capital
}  # fmt: skip

_OPTION_WORDS = {
    "en": ("Reply {items}.", "{n} for {label}", ", ", " or ", "Text {items}.", "{keyword} for {label}"),
    "es": ("Responde {items}.", "{n} para {label}", ", ", " o ", "Envía {items}.", "{keyword} para {label}"),
}


@dataclass(frozen=True)
class Segments:
    """How a text goes over SMS: its encoding ("GSM-7" or "UCS-2"), its parts, and its length in units."""

    encoding: str
    count: int
    units: int


def is_gsm7(text: str) -> bool:
    """Tells whether every character of `text` is in the GSM-7 alphabet (basic or extension table)."""
    return encoding_of(text) is Encoding.GSM7


def fold_to_gsm7(text: str) -> str:
    """Returns `text` with characters GSM-7 lacks replaced by close GSM-7 ones where there is one.

    Letters with accents GSM-7 lacks lose the accent ("á" -> "a"; "é", "ñ", "ü", "¿", "¡" are GSM-7 and
    stay); characters with no plain form (emoji, other scripts) stay, and the message goes as UCS-2.
    """
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char in GSM7_BASIC or char in GSM7_EXTENSION:
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        else:
            plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(plain if plain and is_gsm7(plain) else char)
    return "".join(out)


def count_segments(text: str) -> Segments:
    """Returns the SMS segments `text` takes as it is (fold it first to get GSM-7 where possible)."""
    label = "GSM-7" if is_gsm7(text) else "UCS-2"
    return Segments(label, max(segments(text), 1), units(text))  # even an empty message is one


def list_options(options: Sequence[Option], language: str, keywords: Sequence[str | None] = ()) -> str:
    """Returns the options as a reply line: numbered ("Reply 1 for Yes or 2 for No."), and keyword ones apart.

    keywords: for each option, the word to text instead of a number (None: numbered). Labels are used as
    they are.
    """
    reply, item, separator, last, text_words, keyword_item = _OPTION_WORDS.get(language, _OPTION_WORDS["en"])
    words = list(keywords) + [None] * (len(options) - len(keywords))
    numbered = [option for option, word in zip(options, words, strict=True) if word is None]
    keyed = [(option, word) for option, word in zip(options, words, strict=True) if word is not None]
    lines = []
    if numbered:
        items = [item.format(n=n, label=option.label) for n, option in enumerate(numbered, start=1)]
        lines.append(reply.format(items=_join(items, separator, last)))
    if keyed:
        items = [keyword_item.format(keyword=word, label=option.label) for option, word in keyed]
        lines.append(text_words.format(items=_join(items, separator, last)))
    return " ".join(lines)


def numbered_options(options: Sequence[Option], keywords: Sequence[str | None] = ()) -> list[Option]:
    """Returns the options that `list_options` numbers, in their numbered order (1 is the first)."""
    words = list(keywords) + [None] * (len(options) - len(keywords))
    return [option for option, word in zip(options, words, strict=True) if word is None]


def _join(items: list[str], separator: str, last: str) -> str:
    return items[0] if len(items) == 1 else separator.join(items[:-1]) + last + items[-1]
