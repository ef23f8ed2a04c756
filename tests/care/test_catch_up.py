"""Catch-up decisions, kind by kind: a late message is sent while it still makes sense, else expired."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.catch_up import NUDGE_CATCH_UP, Fate, Quiet, decide, decide_unplanned
from care.dose_schedule import DoseKind, Formulation, expected_duration
from care.message_schedule import Appointment, PlannedMessage, schedule_messages
from care.plan import TouchpointKind, load_plan

PLAN = load_plan()
MADRID = ZoneInfo("Europe/Madrid")
# Dose 3, IV 600 mg, Thursday 10 December 2026 at 09:30 in Madrid: ends about 15:00 (observation included).
APPOINTMENT = Appointment(
    3, DoseKind.IV_600, datetime(2026, 12, 10, 9, 30, tzinfo=MADRID), expected_duration(Formulation.IV, 3)
)
LAST_DOSE = datetime(2026, 6, 10, 9, 30, tzinfo=MADRID)  # for the booking nudge: nothing booked after it
SCHEDULE = schedule_messages(PLAN, [APPOINTMENT], None, MADRID)
NUDGE_SCHEDULE = schedule_messages(PLAN, [], LAST_DOSE, MADRID)


def _message(touchpoint_id: str) -> tuple[PlannedMessage, list[PlannedMessage]]:
    for schedule in (SCHEDULE, NUDGE_SCHEDULE):
        for message in schedule:
            if message.touchpoint_id == touchpoint_id:
                return message, schedule
    raise LookupError(touchpoint_id)


def _at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def test_the_table_covers_every_kind_of_the_plan() -> None:
    kinds = {_message(row[0])[0].kind for row in ROWS}
    assert kinds == set(TouchpointKind)
    assert {row[0] for row in ROWS} == {touchpoint.id for touchpoint in PLAN.touchpoints}


# (touchpoint, now in Madrid, fate); due times in Madrid: 7 days 3 Dec 10:00, day before 9 Dec 18:00, morning
# of 10 Dec 08:00, evening check-in 10 Dec 19:00, 24-hour check-in 11 Dec 15:00, dose confirmation 12 Dec
# 10:00, booking nudge 10 Nov 10:00.
ROWS = [
    ("reminder_7_days", _at(12, 3, 10), Fate.SEND),
    ("reminder_7_days", _at(12, 6, 10), Fate.SEND),
    ("reminder_7_days", _at(12, 9, 9, 29), Fate.SEND),
    ("reminder_7_days", _at(12, 9, 9, 31), Fate.EXPIRE),
    ("reminder_day_before", _at(12, 9, 18), Fate.SEND),
    ("reminder_day_before", _at(12, 10, 7, 59), Fate.SEND),
    ("reminder_day_before", _at(12, 10, 8, 1), Fate.SUPERSEDE),
    ("reminder_day_before", _at(12, 10, 9, 31), Fate.EXPIRE),
    ("reminder_morning_of", _at(12, 10, 8), Fate.SEND),
    ("reminder_morning_of", _at(12, 10, 9, 29), Fate.SEND),
    ("reminder_morning_of", _at(12, 10, 9, 31), Fate.EXPIRE),
    ("check_in_evening", _at(12, 10, 19), Fate.SEND),
    ("check_in_evening", _at(12, 11, 14, 59), Fate.SEND),
    ("check_in_evening", _at(12, 11, 15, 1), Fate.EXPIRE),
    ("check_in_24_hours", _at(12, 11, 15), Fate.SEND),
    ("check_in_24_hours", _at(12, 12, 14, 59), Fate.SEND),
    ("check_in_24_hours", _at(12, 12, 15, 1), Fate.EXPIRE),
    ("dose_confirm", _at(12, 12, 10), Fate.SEND),
    ("dose_confirm", _at(12, 19, 9, 59), Fate.SEND),
    ("dose_confirm", _at(12, 19, 10, 1), Fate.EXPIRE),
    ("booking_nudge", _at(11, 10, 10), Fate.SEND),
    ("booking_nudge", _at(12, 8, 9, 59), Fate.SEND),
    ("booking_nudge", _at(12, 8, 10, 1), Fate.EXPIRE),
]
IDS = [
    "7_days_on_time",
    "7_days_3_days_late",
    "7_days_just_before_the_eve",
    "7_days_on_the_eve_expires",
    "day_before_on_time",
    "day_before_caught_up_the_morning_itself",
    "day_before_superseded_by_the_morning_reminder",
    "day_before_after_the_start_expires",
    "morning_of_on_time",
    "morning_of_a_minute_before_the_start",
    "morning_of_after_the_start_expires",
    "evening_check_in_on_time",
    "evening_check_in_next_afternoon",
    "evening_check_in_once_the_24_hour_one_is_due_expires",
    "check_in_24_hours_on_time",
    "check_in_24_hours_at_47_hours",
    "check_in_24_hours_after_48_hours_expires",
    "dose_confirm_on_time",
    "dose_confirm_a_week_late",
    "dose_confirm_past_a_week_expires",
    "booking_nudge_on_time",
    "booking_nudge_four_weeks_late",
    "booking_nudge_past_four_weeks_expires",
]


@pytest.mark.parametrize(("touchpoint_id", "now", "fate"), ROWS, ids=IDS)
def test_a_late_message_is_sent_only_inside_its_catch_up_window(
    touchpoint_id: str, now: datetime, fate: Fate
) -> None:
    message, schedule = _message(touchpoint_id)
    assert message.due_at <= now

    decision = decide(message, now, schedule)

    assert decision.fate is fate
    assert (decision.reason is None) is (fate is Fate.SEND)


def test_windows_are_those_of_the_plan_file() -> None:
    start, end = APPOINTMENT.starts_at, APPOINTMENT.ends_at
    windows = {m.touchpoint_id: m.catch_up_until for m in (*SCHEDULE, *NUDGE_SCHEDULE)}
    nudge = _message("booking_nudge")[0]
    confirm = _message("dose_confirm")[0]
    assert windows == {
        "reminder_7_days": start - timedelta(days=1),
        "reminder_day_before": start,
        "reminder_morning_of": start,
        "check_in_evening": end + timedelta(hours=24),
        "check_in_24_hours": end + timedelta(hours=48),
        "dose_confirm": confirm.due_at + timedelta(days=7),
        "booking_nudge": nudge.due_at + timedelta(days=28),
    }


def test_a_superseded_message_names_the_one_that_replaces_it() -> None:
    message, schedule = _message("reminder_day_before")
    decision = decide(message, _at(12, 10, 8, 30), schedule)
    assert decision.reason == "superseded by reminder_morning_of, also due"


def test_without_the_schedule_only_the_window_decides() -> None:
    message, _ = _message("reminder_day_before")
    assert decide(message, _at(12, 10, 8, 30)).fate is Fate.SEND


@pytest.mark.parametrize(
    ("late", "fate"),
    [
        (timedelta(0), Fate.SEND),
        (NUDGE_CATCH_UP, Fate.SEND),
        (NUDGE_CATCH_UP + timedelta(seconds=1), Fate.EXPIRE),
    ],
    ids=["on_time", "at_the_end_of_its_window", "past_its_window"],
)
def test_a_check_in_nudge_is_worth_sending_until_the_silence_would_be_flagged(
    late: timedelta, fate: Fate
) -> None:
    due = _at(12, 11, 8)
    assert decide_unplanned(due, due + late).fate is fate


QUIET = Quiet(PLAN.quiet_hours, MADRID)  # 21:00-08:00


@pytest.mark.parametrize(
    ("now", "fate", "resume_local"),
    [
        (_at(12, 10, 2, 0), Fate.DEFER, _at(12, 10, 8, 0)),  # back at 02:00: held until quiet hours end
        (_at(12, 9, 22, 30), Fate.DEFER, _at(12, 10, 8, 0)),
        (_at(12, 9, 20, 59), Fate.SEND, None),
    ],
    ids=["restart_at_2am_waits_for_8am", "restart_at_22_30_waits_for_8am", "just_before_quiet_hours"],
)
def test_a_late_reminder_due_in_quiet_hours_waits_for_the_morning(
    now: datetime, fate: Fate, resume_local: datetime | None
) -> None:
    message, schedule = _message("reminder_day_before")
    decision = decide(message, now, schedule, QUIET)
    assert decision.fate is fate
    assert decision.resume_at == resume_local


@pytest.mark.parametrize(
    ("due", "now", "fate"),
    [
        (_at(12, 11, 20, 0), _at(12, 11, 23, 0), Fate.DEFER),  # until 08:00: its window ends just then
        (_at(12, 11, 19, 0), _at(12, 11, 22, 0), Fate.EXPIRE),  # window ends at 07:00, inside quiet hours
    ],
    ids=["window_reaches_the_morning", "window_ends_in_the_night"],
)
def test_a_nudge_due_in_quiet_hours_waits_only_if_its_window_reaches_the_morning(
    due: datetime, now: datetime, fate: Fate
) -> None:
    decision = decide_unplanned(due, now, quiet=QUIET)
    assert decision.fate is fate
    if fate is Fate.EXPIRE:
        assert decision.reason is not None and decision.reason.endswith("in quiet hours")
