"""Checks a proposed appointment date against the label's dosing rules before it is stored.

Owns the hard errors (a date in the past, before the last dose, or absurdly far ahead) and the warnings a
caller must show and have confirmed (facts 1, 23-25, 27 of shared/clinical-facts.md). The clinic's date is the
truth: warnings never block. Must not import anything outside the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from care.formulation import DoseKind, Formulation, dose_kind
from care.wall_clock import add_months, require_aware, shift_wall

INFUSION_2_GAP_DAYS = 14  # fact 1: Infusion 2 is given two weeks after Infusion 1 (trials: Day 1, Day 15)
MINIMUM_INTERVAL_MONTHS = 5  # fact 25: doses must be separated by at least 5 months
WINDOW_MONTHS = 12  # not a label rule: a sanity limit that catches mistyped years


class ScheduleIssue(StrEnum):
    """Machine codes for what is wrong with a proposed appointment."""

    IN_PAST = "in_past"
    NOT_AFTER_LAST_DOSE = "not_after_last_dose"
    BEYOND_WINDOW = "beyond_window"
    UNDER_MINIMUM_INTERVAL = "under_minimum_interval"
    INFUSION_2_NOT_14_DAYS = "infusion_2_not_14_days"


@dataclass(frozen=True)
class ScheduleWarning:
    """A rule the proposed date breaks; accept the date only after the person confirms it."""

    code: ScheduleIssue
    message: str  # English, for operators and logs; patient wording is chosen from `code`


class ScheduleError(ValueError):
    """A proposed date that cannot be accepted at all."""

    def __init__(self, code: ScheduleIssue, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def checked_given(given_at: Sequence[datetime]) -> list[datetime]:
    """Returns the given-dose instants in UTC, or raises ValueError if one is naive or out of order."""
    given = [require_aware(at, f"given_at[{index}]") for index, at in enumerate(given_at)]
    for index, (earlier, later) in enumerate(zip(given, given[1:], strict=False)):
        if later <= earlier:
            raise ValueError(
                f"given_at must be in increasing order: given_at[{index + 1}] is not after the dose before it"
            )
    return given


def check_appointment(
    formulation: Formulation,
    given_at: Sequence[datetime],
    proposed_at: datetime,
    tz: ZoneInfo,
    now: datetime,
) -> list[ScheduleWarning]:
    """Returns the warnings for booking the next dose at `proposed_at`; raises ScheduleError if impossible."""
    given = checked_given(given_at)
    proposed = require_aware(proposed_at, "proposed_at")
    now = require_aware(now, "now")
    proposed_day = proposed.astimezone(tz).date()
    if proposed < now:
        raise ScheduleError(ScheduleIssue.IN_PAST, f"{_day(proposed, tz)} is in the past")
    if given and proposed <= given[-1]:
        raise ScheduleError(
            ScheduleIssue.NOT_AFTER_LAST_DOSE,
            f"{_day(proposed, tz)} is not after the last dose ({_day(given[-1], tz)})",
        )
    reference, reference_name = (given[-1], "the last dose") if given and given[-1] > now else (now, "today")
    if proposed > shift_wall(reference, tz, months=WINDOW_MONTHS):
        raise ScheduleError(
            ScheduleIssue.BEYOND_WINDOW,
            f"{_day(proposed, tz)} is more than {WINDOW_MONTHS} months after {reference_name} "
            f"({_day(reference, tz)}); check the year",
        )
    warnings: list[ScheduleWarning] = []
    kind = dose_kind(formulation, len(given) + 1)
    if kind is DoseKind.IV_INITIAL_2:
        gap_days = (proposed_day - given[0].astimezone(tz).date()).days
        if gap_days != INFUSION_2_GAP_DAYS:  # fact 1; fact 27: the label has no rule for a late Infusion 2
            warnings.append(
                ScheduleWarning(
                    ScheduleIssue.INFUSION_2_NOT_14_DAYS,
                    f"Infusion 2 is due {INFUSION_2_GAP_DAYS} days after Infusion 1 ({_day(given[0], tz)}); "
                    f"{_day(proposed, tz)} is {gap_days} days after it",
                )
            )
    if kind.is_six_monthly and given:
        earliest: date = add_months(given[-1].astimezone(tz).date(), MINIMUM_INTERVAL_MONTHS)
        if proposed_day < earliest:  # fact 25 (one source says 20 weeks; we use the stricter 5 months)
            warnings.append(
                ScheduleWarning(
                    ScheduleIssue.UNDER_MINIMUM_INTERVAL,
                    f"doses must be at least {MINIMUM_INTERVAL_MONTHS} months apart; {_day(proposed, tz)} is "
                    f"before {earliest.isoformat()}, {MINIMUM_INTERVAL_MONTHS} months after the last dose "
                    f"({_day(given[-1], tz)})",
                )
            )
    return warnings


def _day(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).date().isoformat()
