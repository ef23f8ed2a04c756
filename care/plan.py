"""The reminder plan as data: which messages an appointment gets, when, and how quiet hours move them.

Owns the plan's model and `load_plan`, the one function in `care` that reads a file. Validation names the
touchpoint and the field at fault, and refuses plans that could send a reminder after the appointment began
or a check-in before it ended. Must not import anything outside the standard library.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from care.plan_fields import Anchor, FieldReader, PlanError, Relative
from care.quiet_hours import QuietHours, QuietMove
from care.tips import DEFAULT_SLOT, TipSlot

__all__ = [
    "Anchor",
    "ElapsedRule",
    "PlanError",
    "Relative",
    "ReminderPlan",
    "Touchpoint",
    "TouchpointKind",
    "WallClockRule",
    "load_plan",
    "parse_plan",
    "plan_from_mapping",
]

PLAN_VERSION = 1
DEFAULT_PLAN = "reminder_plan.toml"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_TOP_KEYS = {"version", "quiet_hours", "touchpoint", "weekly_tip"}
_TOUCHPOINT_KEYS = {
    "id", "kind", "description", "anchor", "at", "days", "months", "offset",
    "not_before", "not_after", "quiet_move", "catch_up",
}  # fmt: skip
_APPOINTMENT_ANCHORS = (Anchor.START, Anchor.END)


class TouchpointKind(StrEnum):
    """What a planned message is for."""

    REMINDER = "reminder"  # before an appointment
    CHECK_IN = "check_in"  # after a dose: how are you?
    DOSE_CONFIRM = "dose_confirm"  # after a dose: did you have it?
    BOOKING_NUDGE = "booking_nudge"  # no next appointment booked yet


@dataclass(frozen=True)
class WallClockRule:
    """At a local wall-clock time, calendar months then days after the anchor's local date."""

    at: time
    months: int = 0
    days: int = 0


@dataclass(frozen=True)
class ElapsedRule:
    """A fixed stretch of real time after the anchor instant, whatever the clocks do."""

    offset: timedelta


@dataclass(frozen=True)
class Touchpoint:
    """One message of the plan, timed from an anchor in the patient's wall clock or in elapsed time."""

    id: str
    kind: TouchpointKind
    anchor: Anchor
    rule: WallClockRule | ElapsedRule
    not_before: Relative | None
    not_after: Relative | None
    quiet_move: QuietMove
    catch_up: Relative  # still worth sending until this instant; the dispatcher skips it after that
    description: str = ""


@dataclass(frozen=True)
class ReminderPlan:
    """A validated reminder plan."""

    version: int
    quiet_hours: QuietHours
    touchpoints: tuple[Touchpoint, ...]
    tip_slot: TipSlot = DEFAULT_SLOT  # when in the week an opted-in patient's tip goes (`care.tips`)

    def touchpoint(self, touchpoint_id: str) -> Touchpoint:
        """Returns the touchpoint with this id, or raises KeyError."""
        for touchpoint in self.touchpoints:
            if touchpoint.id == touchpoint_id:
                return touchpoint
        raise KeyError(touchpoint_id)


def load_plan(path: str | Path | None = None) -> ReminderPlan:
    """Reads and validates a plan file; without a path, the default plan shipped with `care`."""
    source = DEFAULT_PLAN if path is None else str(path)
    try:
        if path is None:
            text = resources.files("care").joinpath(DEFAULT_PLAN).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(source, None, "file", f"cannot be read: {exc.strerror or exc}") from None
    return parse_plan(text, source)


def parse_plan(text: str, source: str = "<text>") -> ReminderPlan:
    """Validates the text of a plan file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(source, None, "file", f"is not valid TOML: {exc}") from None
    return plan_from_mapping(data, source)


def plan_from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> ReminderPlan:
    """Validates a plan already parsed from TOML."""
    top = FieldReader(data, source, None)
    _reject_unknown(top, _TOP_KEYS)
    if top.raw("version", int, required=True) != PLAN_VERSION:
        raise top.fail("version", f"must be {PLAN_VERSION}, got {data['version']!r}")
    quiet = FieldReader(top.raw("quiet_hours", dict, required=True), source, None, prefix="quiet_hours.")
    _reject_unknown(quiet, {"start", "end"})
    start, end = quiet.wall_time("start"), quiet.wall_time("end")
    try:
        quiet_hours = QuietHours(start, end)
    except ValueError as exc:
        raise quiet.fail("end", str(exc)) from None
    tables = top.raw("touchpoint", list, required=True)
    if not tables:
        raise top.fail("touchpoint", "must list at least one touchpoint")
    touchpoints: list[Touchpoint] = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict):
            raise top.fail(f"touchpoint[{index}]", "must be a table")
        touchpoint = _touchpoint(table, source, f"#{index + 1}")
        if any(seen.id == touchpoint.id for seen in touchpoints):
            raise PlanError(source, touchpoint.id, "id", "is used by more than one touchpoint")
        touchpoints.append(touchpoint)
    return ReminderPlan(PLAN_VERSION, quiet_hours, tuple(touchpoints), _tip_slot(top, data, source))


def _tip_slot(top: FieldReader, data: Mapping[str, Any], source: str) -> TipSlot:
    if "weekly_tip" not in data:
        return DEFAULT_SLOT
    read = FieldReader(top.raw("weekly_tip", dict, required=True), source, None, prefix="weekly_tip.")
    _reject_unknown(read, {"day", "at"})
    at = read.wall_time("at")
    try:
        return TipSlot.parse(f"{read.text('day')} {at:%H:%M}")
    except ValueError as exc:
        raise read.fail("day", str(exc)) from None


def _touchpoint(table: Mapping[str, Any], source: str, position: str) -> Touchpoint:
    raw_id = table.get("id")
    name = raw_id if isinstance(raw_id, str) and raw_id else position
    read = FieldReader(table, source, name)
    touchpoint_id = read.text("id") or ""
    if not _ID.match(touchpoint_id):
        raise read.fail("id", f"must be snake_case (a-z, 0-9, _), got {touchpoint_id!r}")
    _reject_unknown(read, _TOUCHPOINT_KEYS)
    kind = read.choice("kind", TouchpointKind)
    nudge = kind is TouchpointKind.BOOKING_NUDGE
    anchors = (Anchor.LAST_DOSE,) if nudge else _APPOINTMENT_ANCHORS
    anchor = read.choice("anchor", Anchor, anchors)
    touchpoint = Touchpoint(
        id=touchpoint_id,
        kind=kind,
        anchor=anchor,
        rule=_rule(read),
        not_before=read.optional_relative("not_before", anchors),
        not_after=read.optional_relative("not_after", anchors),
        quiet_move=read.choice("quiet_move", QuietMove),
        catch_up=read.relative("catch_up", (*anchors, Anchor.DUE)),
        description=read.text("description", required=False) or "",
    )
    _check_side_of_appointment(touchpoint, read)
    return touchpoint


def _rule(read: FieldReader) -> WallClockRule | ElapsedRule:
    at, offset = read.optional_wall_time("at"), read.duration("offset")
    if offset is not None and at is None:
        for key in ("days", "months"):
            if key in read.table:
                raise read.fail(key, "goes with at, not with offset")
        return ElapsedRule(offset)
    if at is None or offset is not None:
        raise read.fail("at", "give exactly one of at (a wall-clock time) or offset (elapsed time)")
    return WallClockRule(at, months=read.integer("months"), days=read.integer("days"))


def _check_side_of_appointment(touchpoint: Touchpoint, read: FieldReader) -> None:
    """Refuses reminders that could land after the start, and post-dose messages before the end."""
    if touchpoint.kind is TouchpointKind.REMINDER:
        if touchpoint.quiet_move is not QuietMove.EARLIER:
            raise read.fail("quiet_move", "a reminder must move earlier, or it could come after the start")
        if touchpoint.not_before is not None:
            raise read.fail("not_before", "a reminder takes not_after only, or it could come after the start")
        if not _lands_before_start(touchpoint):
            raise read.fail(
                "not_after", "a reminder needs days < 0 from start, or not_after = start-<duration>"
            )
    elif touchpoint.kind in (TouchpointKind.CHECK_IN, TouchpointKind.DOSE_CONFIRM):
        if touchpoint.quiet_move is not QuietMove.LATER:
            raise read.fail(
                "quiet_move", "a post-dose message must move later, or it could come before the end"
            )
        if touchpoint.not_after is not None:
            raise read.fail(
                "not_after", "a post-dose message takes not_before only, or it could come too early"
            )
        if not _lands_after_end(touchpoint):
            raise read.fail(
                "not_before", "a post-dose message needs offset >= 0 from end, or not_before = end+..."
            )


def _lands_before_start(touchpoint: Touchpoint) -> bool:
    cap = touchpoint.not_after
    if cap is not None and cap.anchor is Anchor.START and cap.delta <= timedelta(0):
        return True
    if touchpoint.anchor is not Anchor.START:
        return False
    rule = touchpoint.rule
    if isinstance(rule, ElapsedRule):
        return rule.offset < timedelta(0)
    return rule.months <= 0 and rule.days <= 0 and (rule.months, rule.days) != (0, 0)


def _lands_after_end(touchpoint: Touchpoint) -> bool:
    floor = touchpoint.not_before
    if floor is not None and floor.anchor is Anchor.END and floor.delta >= timedelta(0):
        return True
    return (
        touchpoint.anchor is Anchor.END
        and isinstance(touchpoint.rule, ElapsedRule)
        and touchpoint.rule.offset >= timedelta(0)
    )


def _reject_unknown(read: FieldReader, known: set[str]) -> None:
    for key in read.table:
        if key not in known:
            raise read.fail(key, f"is not a known field (known: {', '.join(sorted(known))})")
