"""Quiet hours move a message out of the night, never drop it: reminders earlier, check-ins later."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from care.quiet_hours import NO_QUIET_HOURS, QuietHours, QuietMove
from tests.care.strategies import aware, local_datetimes, quiet_hours, wall, zones

NIGHT = QuietHours(time(21, 0), time(8, 0))
NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(3, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
    ],
    ids=["just_before_start", "at_start", "middle_of_night", "just_before_end", "at_end"],
)
def test_quiet_hours_run_from_start_up_to_but_not_including_end(wall: time, quiet: bool) -> None:
    assert NIGHT.contains(wall) is quiet


@pytest.mark.parametrize(
    ("local", "move", "expected"),
    [
        (wall(2027, 5, 3, 22, 30), QuietMove.LATER, wall(2027, 5, 4, 8, 0)),
        (wall(2027, 5, 3, 6, 30), QuietMove.LATER, wall(2027, 5, 3, 8, 0)),
        (wall(2027, 5, 3, 22, 30), QuietMove.EARLIER, wall(2027, 5, 3, 20, 45)),
        (wall(2027, 5, 3, 6, 30), QuietMove.EARLIER, wall(2027, 5, 2, 20, 45)),
        (wall(2027, 5, 3, 12, 0), QuietMove.EARLIER, wall(2027, 5, 3, 12, 0)),
    ],
    ids=[
        "late_evening_later",
        "early_morning_later",
        "late_evening_earlier",
        "early_morning_earlier",
        "daytime",
    ],
)
def test_a_quiet_time_moves_to_the_nearest_edge_in_its_direction(
    local: datetime, move: QuietMove, expected: datetime
) -> None:
    moved = NIGHT.move_out(aware(local, NY), NY, move)
    assert moved.astimezone(NY).replace(tzinfo=None) == expected


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    assert not any(NO_QUIET_HOURS.contains(time(hour, 30)) for hour in range(24))
    assert QuietHours.parse("00:00-00:00") == NO_QUIET_HOURS


@pytest.mark.parametrize("text", ["21:00", "21-08", "25:00-08:00", "12:00-08:00"], ids=str)
def test_unusable_quiet_hours_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quiet hours"):
        QuietHours.parse(text)


@given(tz=zones, local=local_datetimes, quiet=quiet_hours(), move=st.sampled_from(list(QuietMove)))
@settings(max_examples=300, deadline=None)
def test_a_moved_time_is_outside_quiet_hours_and_on_the_promised_side(
    tz: ZoneInfo, local: datetime, quiet: QuietHours, move: QuietMove
) -> None:
    instant = aware(local, tz)
    moved = quiet.move_out(instant, tz, move)
    assert not quiet.is_quiet(moved, tz)
    if quiet.is_quiet(instant, tz):
        assert (moved > instant) if move is QuietMove.LATER else (moved < instant)
        assert abs(moved - instant) <= quiet.length + timedelta(hours=2)
    else:
        assert moved == instant


def test_a_landing_time_swallowed_by_a_clock_change_still_ends_up_outside_quiet_hours() -> None:
    havana = ZoneInfo("America/Havana")  # clocks jump from 00:00 to 01:00 on 2027-03-14
    quiet = QuietHours(
        time(1, 0), time(8, 0)
    )  # moving earlier aims at 00:45, which does not exist that night
    moved = quiet.move_out(aware(wall(2027, 3, 14, 3, 0), havana), havana, QuietMove.EARLIER)
    assert moved.astimezone(havana).replace(tzinfo=None) == wall(2027, 3, 13, 23, 45)
