"""Booking-gap flags: due 6 calendar months after the dose the next is counted from, then 2 weeks later."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.booking_gap import GivenDose, counted_from, flag_due, flag_times
from care.formulation import DoseKind

MADRID = ZoneInfo("Europe/Madrid")
LAST = datetime(2026, 6, 10, 10, 0, tzinfo=MADRID)
SIX_MONTHS = datetime(2026, 12, 10, 10, 0, tzinfo=MADRID)  # the same wall time, across the October change


@pytest.mark.parametrize(
    ("now", "raised", "expected"),
    [
        (SIX_MONTHS - timedelta(minutes=1), 0, None),
        (SIX_MONTHS, 0, 1),
        (SIX_MONTHS + timedelta(days=13), 1, None),
        (SIX_MONTHS + timedelta(days=14), 1, 2),
        (SIX_MONTHS + timedelta(days=14), 0, 1),  # down for weeks: the first one first
        (SIX_MONTHS + timedelta(days=400), 2, None),  # twice is all
    ],
    ids=[
        "before_6_months",
        "at_6_months",
        "13_days_later",
        "2_weeks_later",
        "both_due_first_first",
        "after_two",
    ],
)
def test_which_booking_gap_flag_is_owed(now: datetime, raised: int, expected: int | None) -> None:
    assert flag_due(LAST, MADRID, now, raised) == expected


def test_flag_times_keep_the_local_wall_time_across_a_clock_change() -> None:
    first, second = flag_times(LAST, MADRID)
    assert first.astimezone(MADRID).timetuple()[:5] == (2026, 12, 10, 10, 0)
    assert second - first == timedelta(days=14)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], None),
        ([(DoseKind.IV_INITIAL_1, LAST)], None),  # the second half is two weeks away, not six months
        ([(DoseKind.IV_INITIAL_1, LAST), (DoseKind.IV_INITIAL_2, LAST + timedelta(days=14))], LAST),  # fact 3
        ([(DoseKind.IV_600, LAST - timedelta(days=182)), (DoseKind.IV_600, LAST)], LAST),
        (
            [(DoseKind.SC_920, LAST + timedelta(days=20))],
            LAST + timedelta(days=20),
        ),  # given late: re-anchored
    ],
    ids=[
        "nothing_given",
        "only_infusion_1",
        "initial_pair_counts_from_infusion_1",
        "last_600mg",
        "sc_given_late",
    ],
)
def test_the_next_dose_is_counted_from_the_right_dose(
    given: list[tuple[DoseKind, datetime]], expected: datetime | None
) -> None:
    assert counted_from([GivenDose(kind, at) for kind, at in given]) == expected
