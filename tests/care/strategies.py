"""Hypothesis strategies shared by the care tests: zones, local times, appointments, quiet hours."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from care.dose_schedule import Formulation, dose_kind, expected_duration
from care.message_schedule import Appointment
from care.quiet_hours import MAX_QUIET, QuietHours
from care.wall_clock import resolve_wall

# Zones with the usual 1-hour clock changes, half-hour and 45-minute offsets, a 30-minute DST change
# (Lord Howe), and changes at midnight (Havana, Santiago), where edge cases hide.
ZONE_NAMES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "America/Havana",
    "America/Santiago",
    "America/St_Johns",
    "UTC",
]
zones = st.sampled_from(ZONE_NAMES).map(ZoneInfo)
formulations = st.sampled_from(list(Formulation))


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Returns a naive local wall-clock reading (not an instant: pair it with a zone)."""
    return datetime.combine(date(year, month, day), time(hour, minute))


local_datetimes = st.datetimes(min_value=wall(2026, 1, 1), max_value=wall(2032, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)


def aware(local: datetime, tz: ZoneInfo) -> datetime:
    """Returns the UTC instant of a naive local wall time in `tz`."""
    return resolve_wall(local.date(), local.time(), tz)


@st.composite
def quiet_hours(draw: st.DrawFn) -> QuietHours:
    """Quiet hours on a 15-minute grid, wrapping midnight or not, at most MAX_QUIET long; or none."""
    start = draw(st.integers(0, 95)) * 15
    length = draw(st.integers(0, int(MAX_QUIET / timedelta(minutes=15)))) * 15
    end = (start + length) % (24 * 60)
    return QuietHours(time(start // 60, start % 60), time(end // 60, end % 60))


@st.composite
def appointments(draw: st.DrawFn, tz: ZoneInfo) -> list[Appointment]:
    """One to three appointments of one course, at any local minute of the day."""
    formulation = draw(formulations)
    numbers = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
    result = []
    for number in sorted(numbers):
        starts_at = aware(draw(local_datetimes), tz)
        duration = expected_duration(formulation, number)
        result.append(Appointment(number, dose_kind(formulation, number), starts_at, duration))
    return result
