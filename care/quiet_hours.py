"""Quiet hours: the nightly window in the patient's wall clock when nothing is sent.

Owns whether a local time is quiet and where a message due in quiet hours moves to. A message is moved, never
dropped: reminders move earlier (to shortly before quiet hours begin) so they still arrive before the
appointment; check-ins move later (to the end of quiet hours). Must not import anything outside the standard
library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from care.wall_clock import require_aware, resolve_wall

EARLIER_MARGIN = timedelta(minutes=15)  # a message moved earlier lands this long before quiet hours begin
MAX_QUIET = timedelta(hours=18)  # leaves at least 6 waking hours to move messages into
_STEP = timedelta(minutes=15)
_DAY = timedelta(days=1)
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class QuietMove(StrEnum):
    """Which way a message due in quiet hours moves."""

    EARLIER = "earlier"
    LATER = "later"


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) of local wall-clock time; it wraps midnight when end <= start."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is not None:
                raise ValueError(f"quiet hours {name} is a wall-clock time and takes no time zone")
        if self.length > MAX_QUIET:
            raise ValueError(f"quiet hours {self} last more than {MAX_QUIET.seconds // 3600} hours")

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Returns quiet hours from text like "21:00-08:00"; "00:00-00:00" means none."""
        match = _RANGE.match(text)
        start_h, start_m, end_h, end_m = (int(group) for group in match.groups()) if match else (99,) * 4
        if max(start_h, end_h) > 23 or max(start_m, end_m) > 59:
            raise ValueError(f"quiet hours must look like 21:00-08:00, got {text!r}")
        return cls(time(start_h, start_m), time(end_h, end_m))

    @property
    def length(self) -> timedelta:
        """Returns how long the window lasts on a day without a clock change."""
        span = datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)
        return span if span >= timedelta(0) else span + _DAY

    def contains(self, wall: time) -> bool:
        """Tells whether a local wall-clock time falls in quiet hours."""
        wall = wall.replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def is_quiet(self, instant: datetime, tz: ZoneInfo) -> bool:
        """Tells whether an instant falls in quiet hours in the wall clock of `tz`."""
        return self.contains(require_aware(instant, "instant").astimezone(tz).time())

    def move_out(self, instant: datetime, tz: ZoneInfo, move: QuietMove) -> datetime:
        """Returns `instant` if it is not quiet, else moved out of quiet hours in direction `move`."""
        if not self.is_quiet(instant, tz):
            return require_aware(instant, "instant")
        local = instant.astimezone(tz)
        wraps = self.end <= self.start
        if QuietMove(move) is QuietMove.LATER:
            end_day = local.date() + _DAY if wraps and local.time() >= self.start else local.date()
            moved, step = resolve_wall(end_day, self.end, tz), _STEP
        else:
            start_day = local.date() - _DAY if wraps and local.time() < self.end else local.date()
            landing = datetime.combine(start_day, self.start) - EARLIER_MARGIN
            moved, step = resolve_wall(landing.date(), landing.time(), tz), -_STEP
        # A clock change right at the landing time can push it back inside; walk out in small steps.
        for _ in range(int(_DAY / _STEP)):
            if not self.is_quiet(moved, tz):
                return moved
            moved += step
        raise AssertionError(f"no time outside quiet hours {self} near {instant.isoformat()}")  # unreachable

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


NO_QUIET_HOURS = QuietHours(time(0), time(0))
