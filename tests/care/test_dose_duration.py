"""Expected appointment lengths follow the label's minimums, premedication and observation included."""

from datetime import UTC, datetime, timedelta

import pytest

from care.dose_schedule import DoseDuration, Formulation, expected_duration, expected_end

H, M = timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(
    ("formulation", "dose_number", "premedication", "administration", "observation", "total"),
    [
        (Formulation.IV, 1, 60 * M, 2.5 * H, 1 * H, 4.5 * H),
        (Formulation.IV, 2, 60 * M, 2.5 * H, 1 * H, 4.5 * H),
        (Formulation.IV, 3, 60 * M, 3.5 * H, 1 * H, 5.5 * H),
        (Formulation.IV, 9, 60 * M, 3.5 * H, 1 * H, 5.5 * H),
        (Formulation.SC, 1, 30 * M, 10 * M, 1 * H, 100 * M),
        (Formulation.SC, 2, 30 * M, 10 * M, 15 * M, 55 * M),
    ],
    ids=["iv_infusion_1", "iv_infusion_2", "iv_first_600", "iv_later_600", "sc_first", "sc_later"],
)
def test_expected_duration_follows_the_label_minimums(
    formulation: Formulation,
    dose_number: int,
    premedication: timedelta,
    administration: timedelta,
    observation: timedelta,
    total: timedelta,
) -> None:
    duration = expected_duration(formulation, dose_number)
    assert duration == DoseDuration(premedication, administration, observation)
    assert duration.total == total


def test_the_600mg_infusion_is_never_assumed_to_be_the_shorter_option() -> None:
    assert expected_duration(Formulation.IV, 3).administration >= 3.5 * H  # fact 5, not fact 6


def test_expected_end_adds_the_whole_appointment_to_the_start() -> None:
    start = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)
    assert expected_end(start, expected_duration(Formulation.IV, 3)) == start + 5.5 * H
