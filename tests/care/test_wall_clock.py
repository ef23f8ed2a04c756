"""Wall-clock arithmetic: calendar months clamp, gaps move forward, folds take the first occurrence."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from care.wall_clock import add_months, resolve_wall, shift_wall, wall_exists
from tests.care.strategies import wall


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2027, 7, 4), 6, date(2028, 1, 4)),
        (date(2027, 12, 15), 1, date(2028, 1, 15)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2027, 5, 31), 0, date(2027, 5, 31)),
    ],
    ids=[
        "aug31_plus_6_leap",
        "aug31_plus_6_common",
        "jan31_plus_1",
        "mar31_minus_1",
        "plain_6_months",
        "year_rollover",
        "leap_day_plus_year",
        "zero_months",
    ],
)
def test_calendar_months_clamp_to_the_last_day_of_the_month(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(-36, 36))
@settings(max_examples=200, deadline=None)
def test_adding_months_moves_the_month_exactly_and_never_raises_the_day(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
    assert moved.day == day.day or (moved + timedelta(days=1)).month != moved.month


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_wall", "expected_fold", "exists"),
    [
        ("America/New_York", date(2027, 3, 14), time(2, 30), wall(2027, 3, 14, 3, 30), 0, False),
        ("America/New_York", date(2027, 11, 7), time(1, 30), wall(2027, 11, 7, 1, 30), 0, True),
        ("Europe/London", date(2027, 3, 28), time(1, 30), wall(2027, 3, 28, 2, 30), 0, False),
        ("Europe/London", date(2027, 10, 31), time(1, 30), wall(2027, 10, 31, 1, 30), 0, True),
        ("Australia/Sydney", date(2027, 10, 3), time(2, 30), wall(2027, 10, 3, 3, 30), 0, False),
        ("Australia/Sydney", date(2027, 4, 4), time(2, 30), wall(2027, 4, 4, 2, 30), 0, True),
        ("Australia/Lord_Howe", date(2027, 10, 3), time(2, 15), wall(2027, 10, 3, 2, 45), 0, False),
    ],
    ids=[
        "ny_spring_forward_gap_0230",
        "ny_fall_back_fold_0130",
        "london_spring_forward_gap_0130",
        "london_fall_back_fold_0130",
        "sydney_spring_forward_gap_0230",
        "sydney_autumn_fold_0230",
        "lord_howe_half_hour_gap_0215",
    ],
)
def test_wall_times_in_gaps_move_forward_and_ambiguous_ones_take_the_first_occurrence(
    zone: str, day: date, at: time, expected_wall: datetime, expected_fold: int, exists: bool
) -> None:
    tz = ZoneInfo(zone)
    local = resolve_wall(day, at, tz).astimezone(tz)
    assert (local.replace(tzinfo=None), local.fold) == (expected_wall, expected_fold)
    assert wall_exists(day, at, tz) is exists


def test_the_first_occurrence_of_a_repeated_hour_is_the_earlier_instant() -> None:
    tz = ZoneInfo("America/New_York")
    first = resolve_wall(date(2027, 11, 7), time(1, 30), tz)
    assert first == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST (06:30Z)


def test_shifting_by_calendar_days_keeps_the_wall_time_across_a_clock_change() -> None:
    tz = ZoneInfo("Europe/London")
    before = resolve_wall(date(2027, 3, 21), time(9, 0), tz)
    after = shift_wall(before, tz, days=14)
    assert after.astimezone(tz).replace(tzinfo=None) == wall(2027, 4, 4, 9, 0)
    assert after - before == timedelta(days=14, hours=-1)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        shift_wall(wall(2027, 1, 1), ZoneInfo("UTC"), days=1)
