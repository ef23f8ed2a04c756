"""Checking a proposed appointment: impossible dates are errors, label breaks are warnings to confirm."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.dose_schedule import Formulation, ScheduleError, ScheduleIssue, check_appointment
from tests.care.strategies import aware, wall

NY = ZoneInfo("America/New_York")
NOW = aware(wall(2027, 1, 10, 12, 0), NY)
INFUSION_1 = aware(wall(2027, 1, 4, 9, 0), NY)


def _at(*parts: int) -> datetime:
    return aware(wall(*parts), NY)


def _codes(
    formulation: Formulation, given: list[datetime], proposed: datetime, now: datetime = NOW
) -> list[str]:
    return [warning.code for warning in check_appointment(formulation, given, proposed, NY, now)]


def test_infusion_2_on_day_15_needs_no_confirmation() -> None:
    assert _codes(Formulation.IV, [INFUSION_1], _at(2027, 1, 18, 14, 0)) == []


@pytest.mark.parametrize(
    "proposed", [(2027, 1, 17, 9, 0), (2027, 1, 25, 9, 0)], ids=["day_14_is_a_day_early", "day_22_is_late"]
)
def test_infusion_2_not_14_days_after_infusion_1_is_a_warning(proposed: tuple[int, ...]) -> None:
    warnings = check_appointment(Formulation.IV, [INFUSION_1], _at(*proposed), NY, NOW)
    assert [w.code for w in warnings] == [ScheduleIssue.INFUSION_2_NOT_14_DAYS]
    assert "14 days" in warnings[0].message and "2027-01-04" in warnings[0].message


def test_a_six_monthly_dose_under_5_months_after_the_last_is_a_warning() -> None:
    given = [INFUSION_1, _at(2027, 1, 18, 9, 0)]
    warnings = check_appointment(Formulation.IV, given, _at(2027, 6, 17, 9, 0), NY, _at(2027, 5, 1, 9, 0))
    assert [w.code for w in warnings] == [ScheduleIssue.UNDER_MINIMUM_INTERVAL]
    assert "2027-06-18" in warnings[0].message  # the earliest date without a warning


@pytest.mark.parametrize(
    ("formulation", "given", "proposed"),
    [
        (Formulation.IV, [(2027, 1, 4, 9, 0), (2027, 1, 18, 9, 0)], (2027, 6, 18, 8, 0)),
        (Formulation.IV, [(2027, 1, 4, 9, 0), (2027, 1, 18, 9, 0)], (2027, 7, 4, 9, 0)),
        (Formulation.SC, [(2027, 1, 4, 9, 0)], (2027, 6, 4, 7, 0)),
        (Formulation.SC, [(2027, 1, 4, 9, 0)], (2027, 10, 1, 9, 0)),
        (Formulation.SC, [], (2027, 2, 1, 9, 0)),
    ],
    ids=["iv_exactly_5_months", "iv_on_time", "sc_exactly_5_months", "sc_late", "first_dose"],
)
def test_dates_within_the_label_need_no_confirmation(
    formulation: Formulation, given: list[tuple[int, ...]], proposed: tuple[int, ...]
) -> None:
    now = _at(2027, 1, 20, 9, 0)
    assert _codes(formulation, [_at(*g) for g in given], _at(*proposed), now) == []


def test_a_date_in_the_past_is_an_error() -> None:
    with pytest.raises(ScheduleError) as raised:
        check_appointment(Formulation.SC, [], NOW - timedelta(minutes=1), NY, NOW)
    assert raised.value.code is ScheduleIssue.IN_PAST
    assert "past" in raised.value.message


def test_a_date_more_than_12_months_ahead_is_an_error_that_says_so() -> None:
    with pytest.raises(ScheduleError) as raised:
        check_appointment(Formulation.SC, [INFUSION_1], _at(2028, 1, 11, 12, 0), NY, NOW)
    assert raised.value.code is ScheduleIssue.BEYOND_WINDOW
    assert "more than 12 months" in raised.value.message


def test_a_patient_back_after_a_long_pause_can_still_book_within_12_months_of_today() -> None:
    long_ago = _at(2024, 3, 1, 9, 0)
    assert _codes(Formulation.SC, [long_ago], _at(2027, 12, 1, 9, 0)) == []


def test_a_date_not_after_the_last_dose_is_an_error() -> None:
    last = _at(2027, 1, 12, 9, 0)  # recorded ahead of the clock: the date must still come after it
    with pytest.raises(ScheduleError) as raised:
        check_appointment(Formulation.SC, [last], _at(2027, 1, 11, 9, 0), NY, NOW)
    assert raised.value.code is ScheduleIssue.NOT_AFTER_LAST_DOSE


def test_naive_dates_are_a_programming_error_not_a_schedule_error() -> None:
    with pytest.raises(ValueError, match="naive") as raised:
        check_appointment(Formulation.SC, [], wall(2027, 2, 1, 9, 0), NY, NOW)
    assert not isinstance(raised.value, ScheduleError)
