"""Booking gaps: a patient whose next dose was never booked reaches a person, twice at most.

Owns when the clinic is told that nothing is booked after a patient's last dose: `FIRST_FLAG_MONTHS` (6)
calendar months after the dose the next one is counted from, and again `SECOND_FLAG_AFTER` (2 weeks) later
(facts 2, 11: every 6 months; fact 24: counted from the date a dose was actually given, so a dose reported
late moves both). After the second half of the IV starting dose the next is counted from its first half
(fact 3). The booking nudge to the patient comes earlier, at 5 months (the reminder plan). Pure: `now` is a
parameter; imports only the standard library and `care`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from care.formulation import DoseKind
from care.wall_clock import require_aware, shift_wall

FIRST_FLAG_MONTHS = 6  # facts 2, 11
SECOND_FLAG_AFTER = timedelta(days=14)
FLAGS = 2


@dataclass(frozen=True)
class GivenDose:
    """A dose given: its kind and when (the actual date, fact 24)."""

    kind: DoseKind
    given_at: datetime


def counted_from(given: list[GivenDose]) -> datetime | None:
    """Returns the instant the next dose is counted from, or None when no gap can be judged yet.

    None after only the first half of the IV starting dose: its second half is two weeks away (fact 1), not
    six months.
    """
    if not given:
        return None
    last = max(given, key=lambda dose: dose.given_at)
    if last.kind is DoseKind.IV_INITIAL_1:
        return None
    if last.kind is DoseKind.IV_INITIAL_2:
        firsts = [dose.given_at for dose in given if dose.kind is DoseKind.IV_INITIAL_1]
        if firsts:
            return require_aware(max(firsts), "given_at")  # fact 3: 6 months after Infusion 1
    return require_aware(last.given_at, "given_at")


def flag_times(anchor_at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Returns when the first and the second booking-gap flags are due after `anchor_at`."""
    first = shift_wall(require_aware(anchor_at, "anchor_at"), tz, months=FIRST_FLAG_MONTHS)
    return first, first + SECOND_FLAG_AFTER


def flag_due(anchor_at: datetime, tz: ZoneInfo, now: datetime, raised: int) -> int | None:
    """Returns which flag (1 or 2) is owed at `now` when `raised` were raised already, else None."""
    if raised >= FLAGS:
        return None
    due = flag_times(anchor_at, tz)[raised]
    return raised + 1 if require_aware(now, "now") >= due else None
