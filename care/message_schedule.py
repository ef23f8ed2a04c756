"""Turns a reminder plan and a patient's appointments into dated messages, in the patient's wall clock.

Owns `schedule_messages`: wall-clock rules resolved in the patient's zone (so daylight-saving changes and
time-zone moves come out right), clamps, quiet-hours moves, catch-up limits and dedupe keys. Knows no
patient and no clock: past messages are left for the caller to skip by `catch_up_until`. Must not import
anything outside the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from care.dose_duration import DoseDuration, expected_end
from care.formulation import DoseKind
from care.plan import Anchor, ElapsedRule, Relative, ReminderPlan, Touchpoint, TouchpointKind
from care.quiet_hours import QuietHours
from care.wall_clock import at_wall_time, require_aware


@dataclass(frozen=True)
class Appointment:
    """A booked dose appointment."""

    dose_number: int  # 1-based, within the course
    kind: DoseKind
    starts_at: datetime  # aware; when the patient arrives, premedication included
    duration: DoseDuration

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", require_aware(self.starts_at, "starts_at"))
        if self.dose_number < 1:
            raise ValueError(f"dose_number starts at 1, got {self.dose_number}")

    @property
    def ends_at(self) -> datetime:
        """Returns the expected end, observation included."""
        return expected_end(self.starts_at, self.duration)


@dataclass(frozen=True)
class PlannedMessage:
    """One message the service will send, not yet tied to a patient."""

    touchpoint_id: str
    kind: TouchpointKind
    dose_number: int | None  # None for the booking nudge, which belongs to no booked dose
    due_at: datetime  # aware UTC
    local_due_at: datetime  # the same instant in the patient's zone (fold set on repeated hours)
    catch_up_until: datetime  # aware UTC; not worth sending after this
    dedupe_key: str  # touchpoint id, dose number and anchor instant; the caller adds the patient


def schedule_messages(
    plan: ReminderPlan,
    appointments: Sequence[Appointment],
    last_dose_at: datetime | None,
    tz: ZoneInfo,
    quiet_hours: QuietHours | None = None,
) -> list[PlannedMessage]:
    """Returns the plan's messages for these appointments, plus the booking nudge if none is next."""
    quiet = plan.quiet_hours if quiet_hours is None else quiet_hours
    last_dose = None if last_dose_at is None else require_aware(last_dose_at, "last_dose_at")
    messages: list[PlannedMessage] = []
    for appointment in appointments:
        anchors = {Anchor.START: appointment.starts_at, Anchor.END: appointment.ends_at}
        for touchpoint in plan.touchpoints:
            if touchpoint.kind is not TouchpointKind.BOOKING_NUDGE:
                messages.append(_plan_one(touchpoint, anchors, appointment.dose_number, tz, quiet))
    if last_dose is not None and not any(a.starts_at > last_dose for a in appointments):
        for touchpoint in plan.touchpoints:
            if touchpoint.kind is TouchpointKind.BOOKING_NUDGE:
                messages.append(_plan_one(touchpoint, {Anchor.LAST_DOSE: last_dose}, None, tz, quiet))
    return sorted(messages, key=lambda m: (m.due_at, m.touchpoint_id, m.dose_number or 0))


def dedupe_key(touchpoint_id: str, dose_number: int | None, anchor_at: datetime) -> str:
    """Returns the patient-independent key of a message, like "reminder_day_before:3:20270614T130000Z".

    The instant is the appointment's start (or, for the booking nudge, the last dose), not the due time:
    a time-zone move or a plan tweak moves a message without giving it a new identity, so one already
    sent is never sent again, while a rescheduled appointment gets messages of its own.
    """
    instant = require_aware(anchor_at, "anchor_at").astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{touchpoint_id}:{'-' if dose_number is None else dose_number}:{instant}"


def _plan_one(
    touchpoint: Touchpoint,
    anchors: Mapping[Anchor, datetime],
    dose_number: int | None,
    tz: ZoneInfo,
    quiet: QuietHours,
) -> PlannedMessage:
    base = anchors[touchpoint.anchor]
    rule = touchpoint.rule
    if isinstance(rule, ElapsedRule):
        due = base + rule.offset
    else:
        due = at_wall_time(base, tz, rule.at, months=rule.months, days=rule.days)
    if touchpoint.not_before is not None:
        due = max(due, _resolve(touchpoint.not_before, anchors))
    if touchpoint.not_after is not None:
        due = min(due, _resolve(touchpoint.not_after, anchors))
    due = quiet.move_out(due, tz, touchpoint.quiet_move).astimezone(UTC)
    catch_up_until = max(due, _resolve(touchpoint.catch_up, {**anchors, Anchor.DUE: due}))
    return PlannedMessage(
        touchpoint_id=touchpoint.id,
        kind=touchpoint.kind,
        dose_number=dose_number,
        due_at=due,
        local_due_at=due.astimezone(tz),
        catch_up_until=catch_up_until,
        dedupe_key=dedupe_key(touchpoint.id, dose_number, anchors.get(Anchor.START, base)),
    )


def _resolve(relative: Relative, anchors: Mapping[Anchor, datetime]) -> datetime:
    return anchors[relative.anchor] + relative.delta
