"""Planned messages: each at its wall-clock time, moved out of quiet hours, on the right side of its dose."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from care.dose_schedule import DoseKind, Formulation, expected_duration
from care.message_schedule import Appointment, PlannedMessage, dedupe_key, schedule_messages
from care.plan import TouchpointKind, load_plan
from care.quiet_hours import QuietHours
from tests.care.strategies import ZONE_NAMES, aware, local_datetimes, quiet_hours, wall, zones
from tests.care.strategies import appointments as appointment_lists

PLAN = load_plan()
NY = ZoneInfo("America/New_York")


def _appointment(
    local: datetime, tz: ZoneInfo, formulation: Formulation = Formulation.IV, number: int = 3
) -> Appointment:
    kind = {Formulation.IV: DoseKind.IV_600, Formulation.SC: DoseKind.SC_920}[formulation]
    return Appointment(number, kind, aware(local, tz), expected_duration(formulation, number))


def _walls(messages: list[PlannedMessage]) -> dict[str, datetime]:
    return {m.touchpoint_id: m.local_due_at.replace(tzinfo=None) for m in messages}


def test_an_iv_600mg_appointment_gets_every_touchpoint_at_its_wall_clock_time() -> None:
    messages = schedule_messages(PLAN, [_appointment(wall(2027, 7, 14, 9, 0), NY)], None, NY)
    assert _walls(messages) == {
        "reminder_7_days": wall(2027, 7, 7, 10, 0),
        "reminder_day_before": wall(2027, 7, 13, 18, 0),
        "reminder_morning_of": wall(2027, 7, 14, 8, 0),
        "check_in_evening": wall(2027, 7, 14, 19, 0),
        "check_in_24_hours": wall(2027, 7, 15, 14, 30),  # ends 14:30 (5.5 h), then 24 h
        "dose_confirm": wall(2027, 7, 16, 10, 0),
    }
    assert [m.dose_number for m in messages] == [3] * 6
    assert [m.due_at for m in messages] == sorted(m.due_at for m in messages)


def test_an_early_appointment_gets_its_morning_reminder_an_hour_before_the_start() -> None:
    early_riser = QuietHours(time(22, 0), time(6, 0))
    messages = schedule_messages(PLAN, [_appointment(wall(2027, 7, 14, 8, 30), NY)], None, NY, early_riser)
    assert _walls(messages)["reminder_morning_of"] == wall(2027, 7, 14, 7, 30)


def test_a_reminder_due_in_quiet_hours_moves_to_the_evening_before() -> None:
    messages = schedule_messages(PLAN, [_appointment(wall(2027, 7, 14, 7, 0), NY)], None, NY)
    assert _walls(messages)["reminder_morning_of"] == wall(2027, 7, 13, 20, 45)


def test_a_late_ending_appointment_moves_the_evening_check_in_to_the_next_morning() -> None:
    messages = schedule_messages(PLAN, [_appointment(wall(2027, 7, 14, 15, 30), NY)], None, NY)
    walls = _walls(messages)
    assert walls["check_in_evening"] == wall(2027, 7, 15, 8, 0)  # ends 21:00, +30 min is quiet
    assert walls["check_in_24_hours"] == wall(2027, 7, 16, 8, 0)


def test_an_appointment_that_ends_before_1830_gets_the_evening_check_in_at_1900() -> None:
    messages = schedule_messages(
        PLAN, [_appointment(wall(2027, 7, 14, 12, 0), NY, Formulation.SC, 2)], None, NY
    )
    assert _walls(messages)["check_in_evening"] == wall(2027, 7, 14, 19, 0)


def test_quiet_hours_given_per_call_override_the_plan() -> None:
    appointment = _appointment(wall(2027, 7, 14, 9, 0), NY)
    messages = schedule_messages(PLAN, [appointment], None, NY, QuietHours(time(17, 0), time(9, 30)))
    walls = _walls(messages)
    assert walls["reminder_day_before"] == wall(2027, 7, 13, 16, 45)
    assert walls["check_in_evening"] == wall(2027, 7, 15, 9, 30)


def test_the_booking_nudge_comes_5_months_after_the_last_dose_when_nothing_is_booked() -> None:
    last_dose = aware(wall(2027, 3, 31, 15, 0), NY)
    messages = schedule_messages(PLAN, [], last_dose, NY)
    assert [(m.touchpoint_id, m.kind, m.dose_number) for m in messages] == [
        ("booking_nudge", TouchpointKind.BOOKING_NUDGE, None)
    ]
    assert messages[0].local_due_at.replace(tzinfo=None) == wall(2027, 8, 31, 10, 0)
    assert messages[0].catch_up_until - messages[0].due_at == timedelta(days=28)


def test_no_booking_nudge_once_the_next_appointment_is_booked() -> None:
    last_dose = aware(wall(2027, 1, 4, 9, 0), NY)
    messages = schedule_messages(PLAN, [_appointment(wall(2027, 7, 4, 9, 0), NY)], last_dose, NY)
    assert TouchpointKind.BOOKING_NUDGE not in {m.kind for m in messages}


def test_catch_up_windows_follow_the_plan() -> None:
    appointment = _appointment(wall(2027, 7, 14, 9, 0), NY)
    until = {m.touchpoint_id: m.catch_up_until for m in schedule_messages(PLAN, [appointment], None, NY)}
    assert until["reminder_7_days"] == appointment.starts_at - timedelta(days=1)
    assert until["reminder_day_before"] == appointment.starts_at
    assert until["check_in_24_hours"] == appointment.ends_at + timedelta(hours=48)


def test_dedupe_keys_name_the_touchpoint_dose_and_anchor_instant_but_no_patient() -> None:
    assert dedupe_key("reminder_day_before", 3, datetime(2027, 7, 14, 13, 0, tzinfo=UTC)) == (
        "reminder_day_before:3:20270714T130000Z"
    )
    assert dedupe_key("reminder_day_before", 3, datetime(2027, 7, 14, 9, 0, tzinfo=NY)) == (
        "reminder_day_before:3:20270714T130000Z"
    )
    assert dedupe_key("booking_nudge", None, datetime(2027, 8, 31, 14, 0, tzinfo=UTC)) == (
        "booking_nudge:-:20270831T140000Z"
    )


def test_a_time_zone_move_keeps_every_key_and_a_new_appointment_gets_new_ones() -> None:
    appointment = _appointment(wall(2027, 7, 14, 9, 0), NY)
    keys = [m.dedupe_key for m in schedule_messages(PLAN, [appointment], None, NY)]
    moved = [m.dedupe_key for m in schedule_messages(PLAN, [appointment], None, ZoneInfo("Europe/London"))]
    assert sorted(moved) == sorted(keys)
    later = _appointment(wall(2027, 7, 15, 9, 0), NY)
    assert not {m.dedupe_key for m in schedule_messages(PLAN, [later], None, NY)} & set(keys)


def test_planning_twice_gives_the_same_messages_and_keys() -> None:
    appointments = [
        _appointment(wall(2027, 7, 14, 9, 0), NY),
        _appointment(wall(2028, 1, 14, 9, 0), NY, number=4),
    ]
    assert schedule_messages(PLAN, appointments, None, NY) == schedule_messages(
        PLAN, appointments[::-1], None, NY
    )


@given(
    moved_to=st.sampled_from(ZONE_NAMES).map(ZoneInfo),
    moved_from=zones,
    start=local_datetimes,
)
@settings(max_examples=100, deadline=None)
def test_after_a_time_zone_move_replanning_keeps_the_wall_clock_times_in_the_new_zone(
    moved_to: ZoneInfo, moved_from: ZoneInfo, start: datetime
) -> None:
    appointment = _appointment(start, moved_from)  # booked before the move; the instant does not change
    walls = _walls(schedule_messages(PLAN, [appointment], None, moved_to))
    local_day = appointment.starts_at.astimezone(moved_to).date()
    assert walls["reminder_7_days"] == datetime.combine(local_day - timedelta(days=7), time(10, 0))
    assert walls["reminder_day_before"] == datetime.combine(local_day - timedelta(days=1), time(18, 0))
    assert walls["dose_confirm"] == datetime.combine(local_day + timedelta(days=2), time(10, 0))


def test_a_patient_who_moves_from_new_york_to_london_gets_the_day_before_reminder_at_1800_london_time() -> (
    None
):
    appointment = _appointment(wall(2027, 9, 20, 9, 0), ZoneInfo("Europe/London"))
    before = _walls(schedule_messages(PLAN, [appointment], None, NY))["reminder_day_before"]
    after = _walls(schedule_messages(PLAN, [appointment], None, ZoneInfo("Europe/London")))[
        "reminder_day_before"
    ]
    assert (before, after) == (wall(2027, 9, 19, 18, 0), wall(2027, 9, 19, 18, 0))


@given(data=st.data(), tz=zones, quiet=quiet_hours(), last_dose=st.none() | local_datetimes)
@settings(max_examples=200, deadline=None)
def test_no_message_is_ever_due_in_quiet_hours_or_on_the_wrong_side_of_its_dose(
    data: st.DataObject, tz: ZoneInfo, quiet: QuietHours, last_dose: datetime | None
) -> None:
    appointments = data.draw(appointment_lists(tz))
    last_dose_at = None if last_dose is None else aware(last_dose, tz)
    messages = schedule_messages(PLAN, appointments, last_dose_at, tz, quiet)
    by_number = {a.dose_number: a for a in appointments}
    for message in messages:
        assert not quiet.is_quiet(message.due_at, tz), message
        assert message.catch_up_until >= message.due_at
        # Compare through UTC: Python never calls an instant in a repeated hour equal across zones (PEP 495).
        assert message.local_due_at.astimezone(UTC) == message.due_at and message.due_at.tzinfo is UTC
        assert message.local_due_at.tzinfo is tz
        if message.kind is TouchpointKind.REMINDER:
            assert message.due_at < by_number[message.dose_number].starts_at, message  # type: ignore[index]
        elif message.kind is not TouchpointKind.BOOKING_NUDGE:
            assert message.due_at >= by_number[message.dose_number].ends_at, message  # type: ignore[index]
    assert [m.due_at for m in messages] == sorted(m.due_at for m in messages)
    assert len({m.dedupe_key for m in messages}) == len(messages)
    nothing_booked = last_dose_at is not None and all(a.starts_at <= last_dose_at for a in appointments)
    assert len(messages) == 6 * len(appointments) + (1 if nothing_booked else 0)  # moved, never dropped
