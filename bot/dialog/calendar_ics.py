"""The .ics file of a patient's coming appointments, with alarms, for any calendar app.

Owns the calendar's shape: one event per booked dose (start, expected end from the label's durations, the
place), each with two alarms (the day before and two hours before). Built with `icalendar`. Imports nothing
of ours but `care`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

ALARMS_BEFORE = (timedelta(days=1), timedelta(hours=2))
PRODID = "-//ocrebot//appointments//EN"


@dataclass(frozen=True)
class CalendarEntry:
    """One appointment to put in the calendar."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str | None


def build_calendar(entries: Sequence[CalendarEntry], alarm_text: str, now: datetime) -> bytes:
    """Returns an iCalendar file with one event per entry, each with its alarms."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", entry.starts_at.astimezone(UTC))
        event.add("dtend", entry.ends_at.astimezone(UTC))
        event.add("summary", entry.title)
        if entry.location:
            event.add("location", entry.location)
        for before in ALARMS_BEFORE:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", alarm_text)
            alarm.add("trigger", -before)
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
