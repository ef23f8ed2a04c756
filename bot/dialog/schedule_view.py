"""How dates and the reminders ahead read to a patient, in their language, locale and local time.

Owns date formatting (babel, with the patient's country: "Fri, Mar 12, 2027, 9:30 AM" in the US, "vie, 12
mar 2027, 9:30" in Spain), the labels of planned messages, and the preview of the reminders a booking will
get (computed by `care.message_schedule`, the same rules `storage.plans` writes to the outbox).
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

from bot.dialog.turn import Turn
from care.dose_duration import expected_duration
from care.formulation import Formulation, dose_kind
from care.message_schedule import Appointment, schedule_messages
from care.quiet_hours import QuietHours
from storage.models import ScheduledMessage

PREVIEW_COUNT = 5


def format_when(turn: Turn, instant: datetime) -> str:
    """Returns an instant as the patient's local date and time, like "Fri, 12 Mar 2027, 09:30"."""
    return f"{format_day(turn, instant.astimezone(turn.tz).date())}, {format_clock(turn, instant)}"


def format_day(turn: Turn, day: date) -> str:
    """Returns a local date like "Fri, 12 Mar 2027"."""
    return _plain_spaces(format_skeleton("yMMMEd", day, locale=turn.locale))


def format_clock(turn: Turn, instant: datetime, zone: str | None = None) -> str:
    """Returns the local time of day at `instant`, in `zone` (default: the patient's)."""
    local = instant.astimezone(ZoneInfo(zone) if zone else turn.tz)
    return _plain_spaces(format_time(local, "short", locale=turn.locale))


def _plain_spaces(text: str) -> str:
    # CLDR puts narrow no-break spaces in "9:30 AM": outside the GSM-7 alphabet, one would make an SMS UCS-2.
    return text.replace("\u202f", " ").replace("\xa0", " ")


def message_label(turn: Turn, touchpoint_id: str | None, kind: str) -> str:
    """Returns what a planned message is about, from its touchpoint (or its kind for plans of other ids)."""
    key = f"touch_{touchpoint_id}"
    try:
        return turn.t(key)
    except KeyError:
        try:
            return turn.t(f"kind_{kind}")
        except KeyError:
            return kind.replace("_", " ")


def preview_lines(
    turn: Turn,
    formulation: Formulation,
    appointment: tuple[int, datetime] | None,
    last_dose_at: datetime | None,
) -> list[str]:
    """Returns the next dated messages a booking (dose number, start) would get, as lines to show."""
    appointments: Sequence[Appointment] = ()
    if appointment is not None:
        number, starts_at = appointment
        appointments = (
            Appointment(
                number, dose_kind(formulation, number), starts_at, expected_duration(formulation, number)
            ),
        )
    patient = turn.patient
    quiet = (
        QuietHours(patient.quiet_hours_start, patient.quiet_hours_end)
        if patient.quiet_hours_start is not None and patient.quiet_hours_end is not None
        else None
    )
    messages = schedule_messages(turn.plan, appointments, last_dose_at, turn.tz, quiet)
    ahead = [message for message in messages if message.due_at > turn.now][:PREVIEW_COUNT]
    return [
        turn.t(
            "reminder_line",
            when=format_when(turn, message.due_at),
            label=message_label(turn, message.touchpoint_id, str(message.kind)),
        )
        for message in ahead
    ]


def outbox_lines(turn: Turn, rows: Sequence[ScheduledMessage]) -> list[str]:
    """Returns pending outbox rows as lines to show."""
    return [
        turn.t(
            "reminder_line",
            when=format_when(turn, row.due_at),
            label=message_label(turn, row.touchpoint_id, row.kind),
        )
        for row in rows
    ]
