"""The clock port: where "now" comes from, as an aware UTC datetime.

Owns `Clock`, the fake the tests move by hand, and the system clock the composition root hands out.
Must not import anything outside the standard library; `care` code never calls a clock itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant."""

    def now(self) -> datetime:
        """Returns the current instant as an aware UTC datetime."""
        ...


def _as_utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = _as_utc(start, "start")

    def now(self) -> datetime:
        """Returns the instant the clock was set or advanced to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Moves the clock forward by `delta` and returns the new instant."""
        if delta < timedelta(0):
            raise ValueError(f"advance() moves forward only, got {delta}; use set() to go back")
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Sets the clock to an aware instant (naive datetimes are rejected) and returns it in UTC."""
        self._now = _as_utc(instant, "instant")
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """Returns the machine's current instant in UTC."""
        return datetime.now(UTC)
