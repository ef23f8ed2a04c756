"""How many SMS segments a text takes: GSM-7 when every character is in its alphabet, else UCS-2.

Owns `encoding_of`, `units` and `segments` (3GPP TS 23.038 alphabet; TS 23.040 concatenation: one message
holds 160 septets or 70 UCS-2 units, a part of a longer one 153 or 67). GSM-7 extension characters take two
septets; UCS-2 counts UTF-16 code units, so an emoji takes two. Must not import anything outside the
standard library.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "MAX_SMS_SEGMENTS", "Encoding", "encoding_of", "segments", "units"]

MAX_SMS_SEGMENTS = 2  # the longest SMS we send, in segments: a person's text, an invite, a library answer

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")  # sent as escape + character: two septets each
_SINGLE = {"gsm7": 160, "ucs2": 70}
_PART = {"gsm7": 153, "ucs2": 67}  # the rest of each part carries the concatenation header


class Encoding(StrEnum):
    """The alphabet an SMS is sent in."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


def encoding_of(text: str) -> Encoding:
    """Returns GSM-7 when every character of `text` is in the GSM-7 alphabet, else UCS-2."""
    return Encoding.GSM7 if set(text) <= GSM7_BASIC | GSM7_EXTENSION else Encoding.UCS2


def units(text: str) -> int:
    """Returns the length of `text` in its encoding: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding_of(text) is Encoding.GSM7:
        return len(text) + sum(char in GSM7_EXTENSION for char in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    """Returns how many SMS segments `text` is sent in (0 for an empty text)."""
    encoding, length = encoding_of(text), units(text)
    if length == 0:
        return 0
    if length <= _SINGLE[encoding]:
        return 1
    # A GSM-7 escape pair and a UTF-16 surrogate pair are never split between parts.
    return _parts(text, encoding)


def _parts(text: str, encoding: Encoding) -> int:
    size, count, used = _PART[encoding], 1, 0
    for char in text:
        if encoding is Encoding.GSM7:
            width = 2 if char in GSM7_EXTENSION else 1
        else:
            width = 2 if ord(char) > 0xFFFF else 1
        if used + width > size:
            count, used = count + 1, 0
        used += width
    return count
