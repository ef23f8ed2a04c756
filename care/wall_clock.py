"""Wall-clock arithmetic in a patient's time zone: calendar months and days, and wall times as instants.

Owns the daylight-saving policy of the whole service: a wall time that does not exist (a spring-forward gap)
moves forward by the length of the gap, and an ambiguous one (a fall-back fold) takes its first occurrence.
Must not import anything outside the standard library.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def require_aware(instant: datetime, name: str) -> datetime:
    """Returns `instant` in UTC, or raises ValueError naming it when it is naive."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """Returns `day` moved by calendar months, clamped to the month's end (Aug 31 + 6 months = Feb 28/29)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


def resolve_wall(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Returns the UTC instant of wall time `at` on `day` in `tz`."""
    # PEP 495: fold=0 takes the first of two ambiguous instants, and reads a time inside a gap with the
    # offset from before the transition, so 02:30 on a spring-forward night lands at 03:30.
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC)


def wall_exists(day: date, at: time, tz: ZoneInfo) -> bool:
    """Tells whether wall time `at` happens on `day` in `tz` (False inside a spring-forward gap)."""
    local = resolve_wall(day, at, tz).astimezone(tz)
    return (local.date(), local.time()) == (day, at.replace(tzinfo=None, fold=0))


def shift_wall(instant: datetime, tz: ZoneInfo, *, months: int = 0, days: int = 0) -> datetime:
    """Returns `instant` moved by calendar months then days in `tz`, keeping its local wall-clock time."""
    local = require_aware(instant, "instant").astimezone(tz)
    target = add_months(local.date(), months) + timedelta(days=days)
    return resolve_wall(target, local.time(), tz)


def at_wall_time(instant: datetime, tz: ZoneInfo, at: time, *, months: int = 0, days: int = 0) -> datetime:
    """Returns the instant at wall time `at`, months then days after the local date of `instant` in `tz`."""
    local = require_aware(instant, "instant").astimezone(tz)
    return resolve_wall(add_months(local.date(), months) + timedelta(days=days), at, tz)
