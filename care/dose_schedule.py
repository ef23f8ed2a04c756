"""The dose schedule from the label: when each dose of a course is due, given what was actually given.

Owns `project_doses`, and re-exports the rest of the schedule's public face (formulations, dose kinds,
durations, appointment checks) so callers import one module. Fact numbers are those of
shared/clinical-facts.md. The clinic's appointment is the truth; these dates are only suggestions. Must not
import anything outside the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from care.appointment_check import (
    INFUSION_2_GAP_DAYS,
    MINIMUM_INTERVAL_MONTHS,
    ScheduleError,
    ScheduleIssue,
    ScheduleWarning,
    check_appointment,
    checked_given,
)
from care.dose_duration import DoseDuration, expected_duration, expected_end
from care.formulation import DoseKind, Formulation, dose_kind
from care.wall_clock import require_aware, shift_wall

__all__ = [
    "DoseDuration",
    "DoseKind",
    "Formulation",
    "ProjectedDose",
    "ScheduleError",
    "ScheduleIssue",
    "ScheduleWarning",
    "check_appointment",
    "dose_kind",
    "expected_duration",
    "expected_end",
    "project_doses",
]

INTERVAL_MONTHS = 6  # facts 2, 11, 16: 600 mg IV or 920 mg SC every 6 calendar months


@dataclass(frozen=True)
class ProjectedDose:
    """One dose of a course: given (with its actual date) or projected from the rules."""

    number: int  # 1-based
    kind: DoseKind
    amount_mg: int
    due_at: datetime  # aware UTC; for a given dose, when it was actually given
    given_at: datetime | None


def project_doses(
    formulation: Formulation,
    first_dose_at: datetime,
    given_at: Sequence[datetime],
    count: int,
    tz: ZoneInfo,
) -> list[ProjectedDose]:
    """Returns the first `count` doses: the given ones at their actual dates, the rest projected."""
    formulation = Formulation(formulation)
    first = require_aware(first_dose_at, "first_dose_at")  # used until dose 1 is given
    given = checked_given(given_at)
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    doses: list[ProjectedDose] = []
    anchor, steps = first, 0  # the dose that sets the 6-monthly rhythm, and 6-monthly doses projected since
    for number in range(1, count + 1):
        kind = dose_kind(formulation, number)
        actual = given[number - 1] if number <= len(given) else None
        pushed = False
        if actual is not None:
            due = actual
        elif number == 1:
            due = first
        elif kind is DoseKind.IV_INITIAL_2:
            due = shift_wall(doses[0].due_at, tz, days=INFUSION_2_GAP_DAYS)  # facts 1, 16: two weeks later
        else:
            # Facts 2, 3, 11, 24: 6 calendar months after the anchor, the dose last actually given (for IV
            # the first 600 mg counts from Infusion 1 as given). Whole multiples of 6 months from one anchor
            # keep the day of the month from drifting through short months.
            due = shift_wall(anchor, tz, months=INTERVAL_MONTHS * (steps + 1))
            # Fact 25: never under 5 months after the previous dose. This binds only when Infusion 2 was
            # late (fact 27: the label has no rule for that); we take the earliest date the label allows.
            earliest = shift_wall(doses[-1].due_at, tz, months=MINIMUM_INTERVAL_MONTHS)
            due, pushed = (earliest, True) if due < earliest else (due, False)
        if number == 1 or (kind.is_six_monthly and (actual is not None or pushed)):
            anchor, steps = due, 0
        elif kind.is_six_monthly:
            steps += 1
        doses.append(ProjectedDose(number, kind, kind.amount_mg, due, actual))
    return doses


def padded_given(formulation: Formulation, known: list[tuple[int, datetime]], tz: ZoneInfo) -> list[datetime]:
    """Returns the given instants of doses 1..n for `care`: the known ones after unknown earlier ones.

    Doses before the first known one are assumed on the label's schedule (Infusion 1 two weeks before
    Infusion 2, fact 1; 6 months between the others, facts 2-3), only so that `care` sees the right count,
    hence the right kind of the next dose.
    """
    if not known:
        return []
    number, at = known[0]
    earlier: list[datetime] = []
    while number > 1:
        two_weeks = dose_kind(formulation, number) is DoseKind.IV_INITIAL_2
        at = shift_wall(at, tz, days=-14) if two_weeks else shift_wall(at, tz, months=-6)
        earlier.insert(0, at)
        number -= 1
    return earlier + [instant for _, instant in known]
