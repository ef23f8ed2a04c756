"""SMS segments: GSM-7 in 160 septets (153 a part), UCS-2 in 70 units (67 a part)."""

from __future__ import annotations

import pytest

from care.sms_segments import Encoding, encoding_of, segments, units


@pytest.mark.parametrize(
    ("text", "encoding", "length", "count"),
    [
        ("", Encoding.GSM7, 0, 0),
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("€" * 80, Encoding.GSM7, 160, 1),
        ("a" * 152 + "€" + "a" * 10, Encoding.GSM7, 164, 2),
        ("ñ¿¡ü" * 40, Encoding.GSM7, 160, 1),
        ("á" * 70, Encoding.UCS2, 70, 1),
        ("á" * 71, Encoding.UCS2, 71, 2),
        ("á" * 134, Encoding.UCS2, 134, 2),
        ("á" * 135, Encoding.UCS2, 135, 3),
        ("😀" * 35, Encoding.UCS2, 70, 1),
        ("a" * 66 + "😀" + "a" * 5, Encoding.UCS2, 73, 2),
        ("“quoted”", Encoding.UCS2, 8, 1),
    ],
    ids=["empty", "gsm_one_full", "gsm_two", "gsm_two_full", "gsm_three", "extension_counts_twice",
         "escape_pair_not_split", "spanish_gsm_letters", "ucs2_one_full", "ucs2_two", "ucs2_two_full",
         "ucs2_three", "emoji_two_units", "surrogate_pair_not_split", "curly_quotes_are_ucs2"],
)  # fmt: skip
def test_segments_are_counted_like_the_network_does(
    text: str, encoding: Encoding, length: int, count: int
) -> None:
    assert (encoding_of(text), units(text), segments(text)) == (encoding, length, count)
