"""The commands about doses: /next, /done (I had my dose), /reschedule and /calendar.

Owns reporting a dose (its date, then the next one re-counted from it: fact 24 of shared/clinical-facts.md,
only as a suggestion, the clinic gives the date), moving the next appointment (with the same checks as at
sign-up) and the calendar file. Every change replans the patient's reminders in the same transaction.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.dialog import course, records
from bot.dialog.appointment_entry import (
    Booking,
    appointment_steps,
    date_problem_text,
    local_today,
    month_first,
)
from bot.dialog.calendar_ics import CalendarEntry, build_calendar
from bot.dialog.dates import DateParseError, parse_when
from bot.dialog.events import Attachment, Reply
from bot.dialog.schedule_view import format_day, format_when, outbox_lines
from bot.dialog.turn import Answer, Step, Turn
from bot.options import Option
from care.dose_duration import expected_duration, expected_end
from care.dose_schedule import padded_given
from care.formulation import Formulation
from care.wall_clock import resolve_wall
from storage.models import PatientStatus

RESCHEDULE, DONE = "reschedule", "done"
DONE_DATE = "date"
TODAY, YESTERDAY = "today", "yesterday"
DONE_LOOKBACK = timedelta(days=366)
REMINDERS_SHOWN = 5
DEFAULT_DOSE_TIME = time(12, 0)
CALENDAR_FILE = "ocrevus-appointments.ics"


async def show_next(turn: Turn) -> None:
    """Tells the next appointment and the reminders ahead."""
    _, doses = await course.load(turn)
    planned = [dose for dose in records.planned_doses(doses) if dose.planned_at >= turn.now]
    lines: list[str] = []
    if planned:
        when = format_when(turn, planned[0].planned_at)
        if planned[0].location:
            when = turn.t("summary_at_place", when=when, place=planned[0].location)
        lines.append(turn.t("next_appointment", when=when))
    else:
        lines.append(turn.t("next_none"))
    if turn.patient.status is PatientStatus.PAUSED:
        lines.append(turn.t("paused_note"))
    else:
        rows = await records.pending_messages(turn.session, turn.patient.id, turn.now, REMINDERS_SHOWN)
        shown = outbox_lines(turn, rows)
        lines.append(
            turn.t("next_reminders", lines="\n".join(shown)) if shown else turn.t("next_no_reminders")
        )
    turn.send("\n\n".join(lines))


async def start_done(turn: Turn) -> None:
    """Asks when the dose was given."""
    turn.interrupt(DONE, DONE_DATE)
    await turn.ask()


async def _ask_done_date(turn: Turn) -> Reply:
    return Reply(turn.t("ask_done_date"), (turn.option(TODAY, "today"), turn.option(YESTERDAY, "yesterday")))


async def _handle_done_date(turn: Turn, answer: Answer) -> None:
    today = local_today(turn)
    if answer.option in (TODAY, YESTERDAY):
        day, at = (today if answer.option == TODAY else today - timedelta(days=1)), None
    else:
        try:
            parsed = parse_when(answer.text or "", today=today, month_first=month_first(turn), prefer="past")
        except DateParseError as exc:
            turn.notes.append(date_problem_text(turn, exc.problem))
            await turn.ask()
            return
        day, at = parsed.day, parsed.at
    active, doses = await course.load(turn)
    if active is None:
        turn.say("no_treatment")
        turn.resume()
        return
    given = course.known_given(doses)
    last_day = given[-1][1].astimezone(turn.tz).date() if given else None
    if day > today:
        turn.note("last_dose_future")
    elif day < today - DONE_LOOKBACK:
        turn.note("done_too_old")
    elif last_day is not None and day <= last_day:
        turn.note("done_not_after_last", last=format_day(turn, last_day))
    else:
        planned = records.planned_doses(doses)
        wall = at or (planned[0].planned_at.astimezone(turn.tz).time() if planned else DEFAULT_DOSE_TIME)
        given_at = min(resolve_wall(day, wall, turn.tz), turn.now)
        dose = course.record_given(turn, active, doses, given_at)
        formulation = Formulation(active.formulation)
        padded = padded_given(formulation, [*given, (dose.number, given_at)], turn.tz)
        suggestion = course.suggested_next(formulation, padded, turn.tz)
        turn.resume()
        turn.note("done_recorded", day=format_day(turn, day))
        turn.send(
            turn.t("done_next", when=format_day(turn, suggestion.astimezone(turn.tz).date())),
            (Option("cmd:reschedule", turn.t("enter_next_appointment")),),
        )
        return
    await turn.ask()


async def start_reschedule(turn: Turn) -> None:
    """Asks for the new date of the next appointment."""
    turn.interrupt(RESCHEDULE, "appointment")
    await turn.ask()


async def _reschedule_context(turn: Turn) -> tuple[Formulation, list[datetime]]:
    active, doses = await course.load(turn)
    formulation = Formulation(active.formulation if active else turn.patient.formulation or Formulation.IV)
    return formulation, padded_given(formulation, course.known_given(doses), turn.tz)


async def _accept_reschedule(turn: Turn, starts_at: datetime | None) -> None:
    active, doses = await course.load(turn)
    if active is None or starts_at is None:
        turn.say("no_treatment")
        turn.resume()
        return
    course.book(turn, active, doses, starts_at)
    turn.resume()
    turn.say("rescheduled", when=format_when(turn, starts_at))


async def _ask_reschedule(turn: Turn) -> Reply:
    return Reply(turn.t("ask_reschedule", example=turn.t("date_example")))


async def send_calendar(turn: Turn) -> None:
    """Sends the coming appointments as an .ics file with alarms."""
    active, doses = await course.load(turn)
    planned = [dose for dose in records.planned_doses(doses) if dose.planned_at >= turn.now]
    if active is None or not planned:
        turn.say("calendar_none")
        return
    formulation = Formulation(active.formulation)
    entries = [
        CalendarEntry(
            uid=f"dose-{dose.id}@ocrebot",
            title=turn.t(f"calendar_event_{formulation.value}"),
            starts_at=dose.planned_at,
            ends_at=expected_end(dose.planned_at, expected_duration(formulation, dose.number)),
            location=dose.location,
        )
        for dose in planned
    ]
    content = build_calendar(entries, turn.t("calendar_alarm"), turn.now)
    turn.send(turn.t("calendar"), attachment=Attachment(CALENDAR_FILE, "text/calendar", content))


DONE_STEPS: dict[str, Step] = {DONE_DATE: Step(_ask_done_date, _handle_done_date, numbered=False)}
RESCHEDULE_STEPS: dict[str, Step] = appointment_steps(
    Booking(_reschedule_context, _accept_reschedule, _ask_reschedule)
)
