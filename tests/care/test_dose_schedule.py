"""The dose schedule follows the label: Infusion 2 after 14 days, then 6 months from each dose given."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from care.dose_schedule import DoseKind, Formulation, ProjectedDose, dose_kind, project_doses
from care.wall_clock import add_months, shift_wall
from tests.care.strategies import aware, formulations, local_datetimes, wall, zones

NY = ZoneInfo("America/New_York")


def _local(dose: ProjectedDose, tz: ZoneInfo = NY) -> datetime:
    return dose.due_at.astimezone(tz).replace(tzinfo=None)


def test_iv_course_is_two_300mg_infusions_14_days_apart_then_600mg_every_6_months() -> None:
    doses = project_doses(Formulation.IV, aware(wall(2027, 1, 4, 9, 0), NY), [], 5, NY)
    assert [(d.number, d.kind, d.amount_mg) for d in doses] == [
        (1, DoseKind.IV_INITIAL_1, 300),
        (2, DoseKind.IV_INITIAL_2, 300),
        (3, DoseKind.IV_600, 600),
        (4, DoseKind.IV_600, 600),
        (5, DoseKind.IV_600, 600),
    ]
    assert [_local(d) for d in doses] == [
        wall(2027, 1, 4, 9, 0),
        wall(2027, 1, 18, 9, 0),
        wall(2027, 7, 4, 9, 0),  # 6 months after Infusion 1, not Infusion 2 (fact 3)
        wall(2028, 1, 4, 9, 0),
        wall(2028, 7, 4, 9, 0),
    ]
    assert all(d.given_at is None and d.due_at.tzinfo is UTC for d in doses)


def test_sc_course_is_920mg_every_6_months_with_no_split_first_dose() -> None:
    doses = project_doses(Formulation.SC, aware(wall(2027, 1, 4, 9, 0), NY), [], 3, NY)
    assert [(d.kind, d.amount_mg) for d in doses] == [(DoseKind.SC_920, 920)] * 3
    assert [_local(d) for d in doses] == [
        wall(2027, 1, 4, 9, 0),
        wall(2027, 7, 4, 9, 0),
        wall(2028, 1, 4, 9, 0),
    ]


def test_six_calendar_months_clamp_at_month_end_without_drifting_afterwards() -> None:
    doses = project_doses(Formulation.SC, aware(wall(2026, 8, 31, 14, 15), NY), [], 4, NY)
    assert [_local(d) for d in doses] == [
        wall(2026, 8, 31, 14, 15),
        wall(2027, 2, 28, 14, 15),
        wall(2027, 8, 31, 14, 15),
        wall(2028, 2, 29, 14, 15),
    ]


def test_given_doses_keep_their_actual_dates() -> None:
    first = aware(wall(2027, 1, 4, 9, 0), NY)
    actual = aware(wall(2027, 1, 6, 13, 30), NY)
    dose = project_doses(Formulation.SC, first, [actual], 1, NY)[0]
    assert dose.due_at == dose.given_at == actual


def test_a_late_sc_dose_moves_the_next_one_to_6_months_after_it_was_given() -> None:
    first = aware(wall(2027, 1, 4, 9, 0), NY)
    late = aware(wall(2027, 9, 20, 15, 0), NY)  # due 2027-07-04, given 11 weeks late (facts 23-24)
    doses = project_doses(Formulation.SC, first, [first, late], 4, NY)
    assert [_local(d) for d in doses[2:]] == [wall(2028, 3, 20, 15, 0), wall(2028, 9, 20, 15, 0)]


def test_the_first_600mg_counts_from_infusion_1_as_actually_given() -> None:
    planned = aware(wall(2027, 1, 4, 9, 0), NY)
    infusion_1 = aware(wall(2027, 1, 11, 10, 0), NY)  # a week late
    infusion_2 = shift_wall(infusion_1, NY, days=14)
    doses = project_doses(Formulation.IV, planned, [infusion_1, infusion_2], 3, NY)
    assert _local(doses[2]) == wall(2027, 7, 11, 10, 0)


def test_an_unbooked_infusion_2_is_projected_14_days_after_infusion_1_as_given() -> None:
    planned = aware(wall(2027, 1, 4, 9, 0), NY)
    infusion_1 = aware(wall(2027, 1, 5, 8, 30), NY)
    doses = project_doses(Formulation.IV, planned, [infusion_1], 3, NY)
    assert _local(doses[1]) == wall(2027, 1, 19, 8, 30)
    assert _local(doses[2]) == wall(2027, 7, 5, 8, 30)


def test_a_very_late_infusion_2_pushes_the_first_600mg_to_5_months_after_it() -> None:
    # Fact 27: the label has no rule for a late Infusion 2; fact 25 forbids doses under 5 months apart.
    infusion_1 = aware(wall(2027, 1, 4, 9, 0), NY)
    infusion_2 = aware(wall(2027, 3, 1, 9, 0), NY)  # 8 weeks late
    doses = project_doses(Formulation.IV, infusion_1, [infusion_1, infusion_2], 4, NY)
    assert [_local(d) for d in doses[2:]] == [wall(2027, 8, 1, 9, 0), wall(2028, 2, 1, 9, 0)]


def test_count_limits_the_list_even_when_more_doses_were_given() -> None:
    first = aware(wall(2027, 1, 4, 9, 0), NY)
    assert (
        project_doses(Formulation.SC, first, [first, first + timedelta(days=180)], 1, NY)[0].given_at == first
    )
    assert project_doses(Formulation.SC, first, [], 0, NY) == []


@pytest.mark.parametrize(
    ("given_at", "match"),
    [
        ([wall(2027, 1, 4, 9, 0)], "naive"),
        ([datetime(2027, 7, 4, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC)], "increasing"),
    ],
    ids=["naive_given_date", "given_dates_out_of_order"],
)
def test_bad_given_dates_are_refused(given_at: list[datetime], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        project_doses(Formulation.SC, datetime(2027, 1, 4, tzinfo=UTC), given_at, 3, NY)


def test_dose_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        dose_kind(Formulation.IV, 0)


def _given_with_delays(
    formulation: Formulation, first: datetime, delays_days: list[int], tz: ZoneInfo
) -> list[datetime]:
    """Gives each dose `delay` days after the date the schedule projected for it."""
    given: list[datetime] = []
    for delay in delays_days:
        due = project_doses(formulation, first, given, len(given) + 1, tz)[-1].due_at
        given.append(due + timedelta(days=delay, minutes=7 * delay))
    return given


@given(
    formulation=formulations,
    tz=zones,
    first_local=local_datetimes,
    delays=st.lists(st.integers(-10, 150), max_size=5),
    extra=st.integers(1, 6),
)
@settings(max_examples=150, deadline=None)
def test_projected_doses_are_never_closer_than_the_label_allows(
    formulation: Formulation, tz: ZoneInfo, first_local: datetime, delays: list[int], extra: int
) -> None:
    first = aware(first_local, tz)
    given_at = _given_with_delays(formulation, first, delays, tz)
    doses = project_doses(formulation, first, given_at, len(given_at) + extra, tz)
    for previous, dose in pairwise(doses):
        if dose.given_at is not None:
            continue
        before, after = previous.due_at.astimezone(tz).date(), dose.due_at.astimezone(tz).date()
        if dose.kind is DoseKind.IV_INITIAL_2:
            assert (after - before).days == 14  # fact 1
        else:
            assert after >= add_months(before, 5)  # fact 25
        assert dose.due_at > previous.due_at


@given(tz=zones, first_local=local_datetimes, late_days=st.integers(1, 200), formulation=formulations)
@settings(max_examples=150, deadline=None)
def test_the_dose_after_a_late_one_is_due_6_months_after_it_was_given(
    tz: ZoneInfo, first_local: datetime, late_days: int, formulation: Formulation
) -> None:
    first = aware(first_local, tz)
    on_time = 2 if formulation is Formulation.IV else 1  # IV: both initial infusions on time
    given_at = _given_with_delays(formulation, first, [0] * on_time + [late_days], tz)
    following = project_doses(formulation, first, given_at, len(given_at) + 2, tz)[len(given_at) :]
    assert following[0].due_at == shift_wall(given_at[-1], tz, months=6)  # fact 24
    assert following[1].due_at == shift_wall(given_at[-1], tz, months=12)
