"""Readers for the fields of a reminder plan file, each failing with a PlanError that names the field.

Owns the plan file's small value syntax: wall times ("18:00"), durations ("-1d", "1h30m") and instants
relative to an anchor ("start-1h", "end+30m", "due+28d"). Must not import anything outside the standard
library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum
from typing import Any, TypeVar

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_WALL_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_RELATIVE = re.compile(r"^([a-z_]+)(?:([+-])(.+))?$")

E = TypeVar("E", bound=StrEnum)


class PlanError(ValueError):
    """A reminder plan that cannot be used, naming the touchpoint (if any) and the field at fault."""

    def __init__(self, source: str, touchpoint: str | None, field: str, problem: str) -> None:
        where = f"touchpoint {touchpoint!r}, field {field!r}" if touchpoint else f"field {field!r}"
        super().__init__(f"reminder plan {source}: {where}: {problem}")
        self.source = source
        self.touchpoint = touchpoint
        self.field = field
        self.problem = problem


class Anchor(StrEnum):
    """An instant a touchpoint is timed from."""

    START = "start"  # the appointment starts (premedication included)
    END = "end"  # the appointment's expected end, observation included
    LAST_DOSE = "last_dose"  # the last dose actually given
    DUE = "due"  # the message's own due time, after any quiet-hours move (catch_up only)


@dataclass(frozen=True)
class Relative:
    """An instant given as an anchor plus a signed duration, like "end+30m"."""

    anchor: Anchor
    delta: timedelta

    def __str__(self) -> str:
        sign = "-" if self.delta < timedelta(0) else "+"
        return f"{self.anchor}{sign}{format_duration(abs(self.delta))}"


@dataclass(frozen=True)
class FieldReader:
    """Reads typed fields from one table of the plan file, raising PlanError for the first bad one."""

    table: Mapping[str, Any]
    source: str
    touchpoint: str | None
    prefix: str = ""

    def fail(self, key: str, problem: str) -> PlanError:
        """Returns the PlanError for field `key`."""
        return PlanError(self.source, self.touchpoint, self.prefix + key, problem)

    def raw(self, key: str, kind: type | tuple[type, ...], required: bool) -> Any:
        """Returns the field's value after checking its TOML type, or None if optional and absent."""
        if key not in self.table:
            if required:
                raise self.fail(key, "is required")
            return None
        value = self.table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(key, f"must be {expected}, got {value!r}")
        return value

    def text(self, key: str, required: bool = True) -> str | None:
        """Returns a string field."""
        value: str | None = self.raw(key, str, required)
        return value

    def integer(self, key: str, default: int = 0) -> int:
        """Returns an integer field, or `default` if it is absent."""
        value = self.raw(key, int, required=False)
        return default if value is None else value

    def choice(self, key: str, enum: type[E], allowed: tuple[E, ...] | None = None) -> E:
        """Returns a required field that must be one of the values of `enum` (or of `allowed`)."""
        value = self.raw(key, str, required=True)
        options = allowed or tuple(enum)
        if value not in options:
            raise self.fail(key, f"must be one of {', '.join(map(str, options))}; got {value!r}")
        return enum(value)

    def wall_time(self, key: str) -> time:
        """Returns a required "HH:MM" field as a wall-clock time."""
        value = self.optional_wall_time(key)
        if value is None:
            raise self.fail(key, "is required")
        return value

    def optional_wall_time(self, key: str) -> time | None:
        """Returns an optional "HH:MM" field as a wall-clock time."""
        value = self.text(key, required=False)
        if value is None:
            return None
        match = _WALL_TIME.match(value)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise self.fail(key, f"must be a 24-hour wall time like 18:00, got {value!r}")
        return time(int(match[1]), int(match[2]))

    def duration(self, key: str) -> timedelta | None:
        """Returns an optional signed duration field like "24h" or "-1d"."""
        value = self.text(key, required=False)
        return None if value is None else self._parse_duration(key, value)

    def relative(self, key: str, anchors: tuple[Anchor, ...]) -> Relative:
        """Returns a required instant field like "end+30m" whose anchor is one of `anchors`."""
        value = self.optional_relative(key, anchors)
        if value is None:
            raise self.fail(key, "is required")
        return value

    def optional_relative(self, key: str, anchors: tuple[Anchor, ...]) -> Relative | None:
        """Returns an optional instant field like "end+30m" whose anchor is one of `anchors`."""
        value = self.text(key, required=False)
        if value is None:
            return None
        match = _RELATIVE.match(value.replace(" ", ""))
        names = ", ".join(map(str, anchors))
        if match is None or match[1] not in anchors or (match[3] or "x")[0] in "+-":
            raise self.fail(key, f"must be an anchor ({names}) with an optional +/- duration, got {value!r}")
        delta = self._parse_duration(key, match[3]) if match[3] else timedelta(0)
        return Relative(Anchor(match[1]), -delta if match[2] == "-" else delta)

    def _parse_duration(self, key: str, value: str) -> timedelta:
        body = value.strip()
        sign = -1 if body.startswith("-") else 1
        match = _DURATION.match(body.lstrip("+-"))
        if not body.lstrip("+-") or match is None:
            raise self.fail(key, f"must be a duration like 30m, 24h, 1h30m or -1d, got {value!r}")
        days, hours, minutes = (int(group or 0) for group in match.groups())
        return sign * timedelta(days=days, hours=hours, minutes=minutes)


def format_duration(delta: timedelta) -> str:
    """Returns a non-negative duration in the plan file's syntax, like "1d2h30m"."""
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or "0m"
