"""Reads a date and an optional time of day from what a patient types, in English or Spanish.

Owns the free-text forms we accept: "12 March 9:30", "March 12 at 10am", "next Tuesday 10am",
"2027-03-12 09:30", "12/03", "12 de marzo 9:30", "el martes que viene a las 10", "mañana a las 4 de la tarde".
Numeric day/month order follows the patient's locale (`reads_month_first`). Knows no clock: `today` is a
parameter. Imports nothing of ours.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Literal

from babel import Locale, UnknownLocaleError

Prefer = Literal["future", "past"]

MONTHS = {
    "january": 1, "jan": 1, "enero": 1, "ene": 1,
    "february": 2, "feb": 2, "febrero": 2,
    "march": 3, "mar": 3, "marzo": 3,
    "april": 4, "apr": 4, "abril": 4, "abr": 4,
    "may": 5, "mayo": 5,
    "june": 6, "jun": 6, "junio": 6,
    "july": 7, "jul": 7, "julio": 7,
    "august": 8, "aug": 8, "agosto": 8, "ago": 8,
    "september": 9, "sep": 9, "sept": 9, "septiembre": 9, "setiembre": 9,
    "october": 10, "oct": 10, "octubre": 10,
    "november": 11, "nov": 11, "noviembre": 11,
    "december": 12, "dec": 12, "diciembre": 12, "dic": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "mon": 0, "lunes": 0,
    "tuesday": 1, "tue": 1, "tues": 1, "martes": 1,
    "wednesday": 2, "wed": 2, "miercoles": 2,
    "thursday": 3, "thu": 3, "thurs": 3, "jueves": 3,
    "friday": 4, "fri": 4, "viernes": 4,
    "saturday": 5, "sat": 5, "sabado": 5,
    "sunday": 6, "sun": 6, "domingo": 6,
}  # fmt: skip
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|o|º)?"

_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}}){_ORD}\s+(?:of\s+|de\s+)?({_MONTH})\b\.?(?:\s+(?:de\s+|del\s+)?(\d{{4}}))?"
)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\b\.?\s+(\d{{1,2}}){_ORD}\b(?:\s+(\d{{4}}))?")
_WEEKDAY_RE = re.compile(
    rf"\b(?:(?P<before>next|this|coming|last|proximo|este|el)\s+)?(?P<day>{_WEEKDAY})\b"
    rf"(?:\s+(?P<after>que\s+viene|proximo|pasado))?"
)
_IN_DAYS = re.compile(r"\b(?:in|en|dentro\s+de)\s+(\d{1,3})\s+(days?|dias?|weeks?|semanas?)\b")
_RELATIVE = (
    (re.compile(r"\b(?:day\s+after\s+tomorrow|pasado\s+manana)\b"), 2),
    (re.compile(r"\b(?:tomorrow|manana)\b"), 1),
    (re.compile(r"\b(?:today|hoy)\b"), 0),
    (re.compile(r"\b(?:yesterday|ayer)\b"), -1),
)

_PERIOD = (
    r"(?P<period>a\.?\s?m\.?|p\.?\s?m\.?|de\s+la\s+manana|de\s+la\s+tarde|de\s+la\s+noche"
    r"|in\s+the\s+morning|in\s+the\s+afternoon|in\s+the\s+evening)(?=\s|$)"
)
_TIME_PATTERNS = (
    re.compile(r"\b(?P<noon>noon|midday|mediodia)\b"),
    re.compile(rf"\b(?P<h>\d{{1,2}})[:h](?P<m>\d{{2}})\s*(?:h\b|hrs\b)?\s*(?:{_PERIOD})?"),
    re.compile(rf"\b(?:at|a\s+las|a\s+la)\s+(?P<h>\d{{1,2}})(?:[.](?P<m>\d{{2}}))?\b\s*(?:{_PERIOD})?"),
    re.compile(rf"\b(?P<h>\d{{1,2}})(?:[.](?P<m>\d{{2}}))?\s*{_PERIOD}"),
    re.compile(r"\b(?P<h>\d{1,2})\s*h\b"),
)
_DOTTED_TIME = re.compile(r"\b(?P<h>\d{1,2})\.(?P<m>\d{2})\b")


class DateProblem(StrEnum):
    """Why a text gave no date."""

    UNREADABLE = "unreadable"  # no date we recognise
    IMPOSSIBLE = "impossible"  # a date or time that does not exist, like 31 February or 25:00
    NO_DATE = "no_date"  # a time of day, but no day


class DateParseError(ValueError):
    """A text that does not give a usable date."""

    def __init__(self, problem: DateProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class ParsedWhen:
    """A local calendar day and, if the text gave one, a local time of day."""

    day: date
    at: time | None


def normalize(text: str) -> str:
    """Returns `text` case-folded, without accents, with single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = re.sub(r"(\d)t(\d)", r"\1 \2", plain)  # 2027-03-12T09:30
    plain = plain.replace(",", " ").replace("¿", " ").replace("?", " ")
    return re.sub(r"\s+", " ", plain).strip()


def reads_month_first(language: str, country: str | None) -> bool:
    """Tells whether "03/12" means March 12 for this patient.

    We follow CLDR's short date pattern for the language and country: en-US (and en-PH) write M/d/yy, so
    they read month first; English elsewhere and Spanish everywhere (es-US included) write d/M/y. Without a
    country we read day first, as most of the world does.
    """
    if not country:
        return False
    try:
        locale = Locale.parse(f"{language}_{country.upper()}")
    except (UnknownLocaleError, ValueError):
        return False
    pattern = locale.date_formats["short"].pattern
    if pattern.startswith("y"):  # en-CA writes y-MM-dd: year first, so a bare "03/12" is read day first
        return False
    return "M" in pattern and "d" in pattern and pattern.index("M") < pattern.index("d")


def parse_time(text: str) -> time | None:
    """Returns the time of day in `text`, None if there is none; raises DateParseError for 25:00 and such."""
    found, _ = _take_time(normalize(text))
    return found


def parse_when(text: str, *, today: date, month_first: bool, prefer: Prefer = "future") -> ParsedWhen:
    """Returns the day (and time, if given) in `text`; raises DateParseError saying why not.

    A day without a year is the next one to come (`prefer="future"`) or the last one gone ("past").
    """
    plain = normalize(text)
    at, rest = _take_time(plain)
    day, numeric = _take_day(rest, today, month_first, prefer)
    if at is None and day is not None and not numeric and (match := _DOTTED_TIME.search(rest)):
        at = _clock(int(match["h"]), int(match["m"]), "")  # "12 March 10.30": with a named day, a time
    if day is None:
        raise DateParseError(DateProblem.NO_DATE if at is not None else DateProblem.UNREADABLE)
    return ParsedWhen(day, at)


def _take_time(plain: str) -> tuple[time | None, str]:
    for pattern in _TIME_PATTERNS:
        match = pattern.search(plain)
        if match is None:
            continue
        rest = (plain[: match.start()] + " " + plain[match.end() :]).strip()
        groups = match.groupdict()
        if groups.get("noon"):
            return time(12, 0), rest
        return _clock(int(groups["h"]), int(groups.get("m") or 0), groups.get("period") or ""), rest
    return None, plain


def _clock(hour: int, minute: int, period: str) -> time:
    period = re.sub(r"[\s.]", "", period)
    if period:
        if not 1 <= hour <= 12:
            raise DateParseError(DateProblem.IMPOSSIBLE)
        afternoon = period in ("pm", "delatarde", "delanoche", "intheafternoon", "intheevening")
        hour = hour % 12 + (12 if afternoon else 0)
    if hour > 23 or minute > 59:
        raise DateParseError(DateProblem.IMPOSSIBLE)
    return time(hour, minute)


def _take_day(plain: str, today: date, month_first: bool, prefer: Prefer) -> tuple[date | None, bool]:
    """Returns the day in `plain` (or None) and whether it was written as numbers only."""
    if match := _ISO.search(plain):
        return _make(int(match[1]), int(match[2]), int(match[3])), True
    if match := _DAY_MONTH.search(plain):
        return _dated(int(match[1]), MONTHS[match[2]], match[3], today, prefer), False
    if match := _MONTH_DAY.search(plain):
        return _dated(int(match[2]), MONTHS[match[1]], match[3], today, prefer), False
    if match := _NUMERIC.search(plain):
        first, second = int(match[1]), int(match[2])
        month, day = (first, second) if month_first else (second, first)
        return _dated(day, month, match[3], today, prefer), True
    if match := _IN_DAYS.search(plain):
        count = int(match[1])
        unit_days = 7 if match[2].startswith(("week", "semana")) else 1
        return today + timedelta(days=count * unit_days), False
    for pattern, offset in _RELATIVE:
        if pattern.search(plain):
            return today + timedelta(days=offset), False
    if match := _WEEKDAY_RE.search(plain):
        return _weekday(match, today, prefer), False
    return None, False


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateParseError(DateProblem.IMPOSSIBLE) from None


def _dated(day: int, month: int, year_text: str | None, today: date, prefer: Prefer) -> date:
    if year_text:
        year = int(year_text)
        return _make(year + 2000 if year < 100 else year, month, day)
    candidate = _make(today.year, month, day) if (month, day) != (2, 29) else _leap_day(today, prefer)
    if prefer == "future" and candidate < today:
        return _make(today.year + 1, month, day)
    if prefer == "past" and candidate > today:
        return _make(today.year - 1, month, day)
    return candidate


def _leap_day(today: date, prefer: Prefer) -> date:
    step = 1 if prefer == "future" else -1
    year = today.year
    while True:
        try:
            candidate = date(year, 2, 29)
        except ValueError:
            year += step
            continue
        if (prefer == "future" and candidate >= today) or (prefer == "past" and candidate <= today):
            return candidate
        year += step


def _weekday(match: re.Match[str], today: date, prefer: Prefer) -> date:
    target = WEEKDAYS[match["day"]]
    before, after = match["before"] or "", re.sub(r"\s+", " ", match["after"] or "")
    past = prefer == "past" or before == "last" or after == "pasado"
    explicit_next = before in ("next", "proximo", "coming") or after in ("que viene", "proximo")
    if past:
        back = (today.weekday() - target) % 7
        return today - timedelta(days=back or (7 if before == "last" or after == "pasado" else 0))
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and explicit_next:
        ahead = 7
    return today + timedelta(days=ahead)
