"""Planned messages land on the right local wall time on daylight-saving days in three hemispheres' zones.

Each row: zone, touchpoint (from the night plan when named night_*), the appointment's local start and
dose, the expected local wall time, and the fold (0 = the first of a repeated hour). We compare wall time and
fold, not instants.
"""

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from care.dose_schedule import Formulation, dose_kind, expected_duration
from care.message_schedule import Appointment, schedule_messages
from care.plan import ReminderPlan, load_plan, parse_plan
from care.quiet_hours import NO_QUIET_HOURS, QuietHours
from tests.care.strategies import aware, wall

# Night-time touchpoints (no quiet hours) to land on clock changes, which fall between 01:00 and 03:00.
NIGHT_PLAN = parse_plan(
    """
version = 1
[quiet_hours]
start = "00:00"
end = "00:00"

[[touchpoint]]
id = "night_reminder_0130"
kind = "reminder"
anchor = "start"
at = "01:30"
not_after = "start-1h"
quiet_move = "earlier"
catch_up = "start"

[[touchpoint]]
id = "night_reminder_0230"
kind = "reminder"
anchor = "start"
at = "02:30"
not_after = "start-1h"
quiet_move = "earlier"
catch_up = "start"

[[touchpoint]]
id = "night_check_in_24_hours"
kind = "check_in"
anchor = "end"
offset = "24h"
quiet_move = "later"
catch_up = "end+48h"
""",
    "night plan",
)
DEFAULT_PLAN = load_plan()
NY, LONDON, SYDNEY = "America/New_York", "Europe/London", "Australia/Sydney"
IV = (Formulation.IV, 3)  # a 600 mg infusion: 5.5 h with premedication and observation
SC = (Formulation.SC, 2)  # a later injection: 55 min
EARLY_QUIET = QuietHours(time(0, 0), time(1, 30))


def row(
    case_id: str,
    zone: str,
    touchpoint_id: str,
    start: str,
    dose: tuple[Formulation, int],
    expected_wall: str,
    fold: int = 0,
    quiet: QuietHours | None = None,
) -> Any:
    """One row: the appointment's local start and dose, and where the touchpoint lands on the wall clock."""
    when = (datetime.fromisoformat(start), datetime.fromisoformat(expected_wall))
    return pytest.param(zone, touchpoint_id, when[0], dose, quiet, when[1], fold, id=case_id)


ROWS = [
    # America/New_York 2027: clocks go forward Sun 14 Mar 02:00 and back Sun 7 Nov 02:00.
    row("ny_spring_forward_eve_1800", NY, "reminder_day_before", "2027-03-14 10:00", IV, "2027-03-13 18:00"),
    row("ny_spring_forward_day_1800", NY, "reminder_day_before", "2027-03-15 09:00", IV, "2027-03-14 18:00"),
    row("ny_spring_forward_morning_of_0800", NY, "reminder_morning_of",
        "2027-03-14 10:00", IV, "2027-03-14 08:00"),
    row("ny_7_days_across_spring_forward_1000", NY, "reminder_7_days",
        "2027-03-19 09:00", IV, "2027-03-12 10:00"),
    row("ny_24h_across_spring_forward_1530", NY, "check_in_24_hours",
        "2027-03-13 09:00", IV, "2027-03-14 15:30"),
    row("ny_fall_back_day_1800", NY, "reminder_day_before", "2027-11-08 09:00", IV, "2027-11-07 18:00"),
    row("ny_fall_back_morning_of_0800", NY, "reminder_morning_of",
        "2027-11-07 11:00", IV, "2027-11-07 08:00"),
    row("ny_24h_across_fall_back_1330", NY, "check_in_24_hours", "2027-11-06 09:00", IV, "2027-11-07 13:30"),
    row("ny_spring_gap_0230_moves_to_0330", NY, "night_reminder_0230",
        "2027-03-14 10:00", IV, "2027-03-14 03:30"),
    row("ny_fall_back_fold_0130_first", NY, "night_reminder_0130",
        "2027-11-07 10:00", IV, "2027-11-07 01:30"),
    row("ny_24h_lands_in_repeated_hour_fold_1", NY, "night_check_in_24_hours", "2027-11-06 01:35", SC,
        "2027-11-07 01:30", fold=1),
    row("ny_quiet_end_0130_on_fall_back_first", NY, "night_check_in_24_hours", "2027-11-05 23:50", SC,
        "2027-11-07 01:30", quiet=EARLY_QUIET),
    # Europe/London 2027: forward Sun 28 Mar 01:00, back Sun 31 Oct 02:00.
    row("london_spring_forward_day_1800", LONDON, "reminder_day_before",
        "2027-03-29 09:00", IV, "2027-03-28 18:00"),
    row("london_7_days_across_spring_1000", LONDON, "reminder_7_days",
        "2027-04-01 09:00", IV, "2027-03-25 10:00"),
    row("london_fall_back_evening_1900", LONDON, "check_in_evening",
        "2027-10-31 09:00", SC, "2027-10-31 19:00"),
    row("london_spring_gap_0130_to_0230", LONDON, "night_reminder_0130",
        "2027-03-28 10:00", IV, "2027-03-28 02:30"),
    row("london_autumn_fold_0130_first", LONDON, "night_reminder_0130",
        "2027-10-31 10:00", IV, "2027-10-31 01:30"),
    # Australia/Sydney 2027: back Sun 4 Apr 03:00 (autumn), forward Sun 3 Oct 02:00 (spring).
    row("sydney_autumn_day_1800", SYDNEY, "reminder_day_before", "2027-04-05 09:00", IV, "2027-04-04 18:00"),
    row("sydney_24h_across_autumn_1330", SYDNEY, "check_in_24_hours",
        "2027-04-03 09:00", IV, "2027-04-04 13:30"),
    row("sydney_spring_forward_day_1800", SYDNEY, "reminder_day_before",
        "2027-10-04 09:00", IV, "2027-10-03 18:00"),
    row("sydney_spring_morning_of_0800", SYDNEY, "reminder_morning_of",
        "2027-10-03 10:00", IV, "2027-10-03 08:00"),
    row("sydney_autumn_fold", SYDNEY, "night_reminder_0230", "2027-04-04 10:00", IV, "2027-04-04 02:30"),
    row("sydney_spring_gap_0230_to_0330", SYDNEY, "night_reminder_0230",
        "2027-10-03 10:00", IV, "2027-10-03 03:30"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "touchpoint_id", "start", "dose", "quiet", "expected_wall", "expected_fold"), ROWS
)
def test_messages_land_on_the_right_local_wall_time_on_daylight_saving_days(
    zone: str,
    touchpoint_id: str,
    start: datetime,
    dose: tuple[Formulation, int],
    quiet: QuietHours | None,
    expected_wall: datetime,
    expected_fold: int,
) -> None:
    tz = ZoneInfo(zone)
    formulation, number = dose
    appointment = Appointment(
        number, dose_kind(formulation, number), aware(start, tz), expected_duration(*dose)
    )
    plan = NIGHT_PLAN if touchpoint_id.startswith("night_") else DEFAULT_PLAN
    messages = schedule_messages(plan, [appointment], None, tz, quiet)
    [message] = [m for m in messages if m.touchpoint_id == touchpoint_id]
    assert (message.local_due_at.replace(tzinfo=None), message.local_due_at.fold) == (
        expected_wall,
        expected_fold,
    )


def test_the_booking_nudge_keeps_its_wall_time_across_a_clock_change() -> None:
    london = ZoneInfo("Europe/London")
    last_dose = aware(wall(2027, 5, 31, 14, 0), london)  # BST; 5 months later is the fall-back day
    [nudge] = schedule_messages(DEFAULT_PLAN, [], last_dose, london)
    assert (nudge.local_due_at.replace(tzinfo=None), nudge.local_due_at.fold) == (
        wall(2027, 10, 31, 10, 0),
        0,
    )


def test_the_night_plan_really_has_no_quiet_hours() -> None:
    assert isinstance(NIGHT_PLAN, ReminderPlan) and NIGHT_PLAN.quiet_hours == NO_QUIET_HOURS
