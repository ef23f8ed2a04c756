"""What sign-up has gathered so far, read as a course: dose numbers, the summary, and storing it all.

Owns how sign-up answers (kept in the dialog state until the patient confirms) become the patient's course,
given dose and booked appointment, and the summary with the reminders ahead that the patient confirms.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from bot.dialog import course, records, texts
from bot.dialog.course import Stage
from bot.dialog.events import Reply
from bot.dialog.schedule_view import format_clock, format_day, format_when, preview_lines
from bot.dialog.timezones import zone_label
from bot.dialog.turn import Turn
from care.dose_schedule import padded_given
from care.formulation import Formulation
from storage.models import PatientStatus

CONFIRM, RESTART = "confirm", "restart"


def stage_of(turn: Turn) -> Stage | None:
    """Returns the stage the patient chose, if any."""
    return Stage(turn.patient.stage) if turn.patient.stage else None


def formulation_of(turn: Turn) -> Formulation:
    """Returns the formulation the patient chose (IV until they choose)."""
    return Formulation(turn.patient.formulation or Formulation.IV)


async def known_given(turn: Turn) -> list[tuple[int, datetime]]:
    """Returns (number, given_at) of the doses known given: the course's, then the last dose just told."""
    _, doses = await course.load(turn)
    known = course.known_given(doses)
    if "last_dose" in turn.data and stage_of(turn) is not None:
        number = course.last_dose_number(formulation_of(turn), stage_of(turn) or Stage.NOT_STARTED)
        if doses:
            number = max(dose.number for dose in doses) + 1
        known.append((number or 1, datetime.fromisoformat(turn.data["last_dose"])))
    return known


async def next_number(turn: Turn) -> int:
    """Returns the number the next appointment's dose gets."""
    _, doses = await course.load(turn)
    known = await known_given(turn)
    numbers = [dose.number for dose in doses] + [number for number, _ in known]
    if numbers:
        return max(numbers) + 1
    return course.next_dose_number(formulation_of(turn), stage_of(turn) or Stage.NOT_STARTED)


async def booking_context(turn: Turn) -> tuple[Formulation, list[datetime]]:
    """Returns what the appointment checks need: the formulation and the given instants (padded)."""
    formulation = formulation_of(turn)
    return formulation, padded_given(formulation, await known_given(turn), turn.tz)


async def ask_summary(turn: Turn) -> Reply:
    """Returns the summary to confirm, with the reminders the booking will get."""
    data, formulation = turn.data, formulation_of(turn)
    _, doses = await course.load(turn)
    known = await known_given(turn)
    last_at = known[-1][1] if known else None
    planned = records.planned_doses(doses)
    if "appointment" in data:
        appointment: tuple[int, datetime] | None = (
            await next_number(turn),
            datetime.fromisoformat(data["appointment"]),
        )
        place = data.get("place") or None
    elif planned:
        appointment, place = (planned[0].number, planned[0].planned_at), planned[0].location
    else:
        appointment, place = None, None
    when = turn.t("summary_no_appointment")
    if appointment is not None:
        when = format_when(turn, appointment[1])
        when = turn.t("summary_at_place", when=when, place=place) if place else when
    reminders = preview_lines(turn, formulation, appointment, last_at)
    text = turn.t(
        "summary",
        name=turn.patient.display_name,
        city=zone_label(turn.patient.timezone, turn.lang),
        time=format_clock(turn, turn.now),
        formulation=turn.t(f"formulation_{formulation.value}"),
        last=format_day(turn, last_at.astimezone(turn.tz).date()) if last_at else turn.t("summary_no_dose"),
        appointment=when,
        phone=data.get("phone") or turn.t("summary_none"),
        reminders="\n".join(reminders) or turn.t("summary_no_reminders"),
    )
    return Reply(text, (turn.option(CONFIRM, "confirm_yes"), turn.option(RESTART, "confirm_restart")))


async def finish(turn: Turn) -> None:
    """Stores the course, doses and SMS address (texted for its own YES), activates and plans reminders."""
    data, formulation = turn.data, formulation_of(turn)
    active, _ = await course.load(turn)
    known = await known_given(turn)
    appointment_at = datetime.fromisoformat(data["appointment"]) if "appointment" in data else None
    number_next = await next_number(turn)
    if active is None:
        starts = [instant for _, instant in known] + ([appointment_at] if appointment_at else [])
        active = await course.start_course(turn, formulation, min(starts, default=turn.now))
    if "last_dose" in data:
        number, given_at = known[-1]
        course.add_dose(turn, active, number, planned_at=given_at, given_at=given_at)
    if appointment_at is not None:
        course.add_dose(
            turn, active, number_next, planned_at=appointment_at, location=data.get("place") or None
        )
    texted = False
    if data.get("phone"):  # SMS waits for the phone's own YES: a typo must not text a stranger reminders
        address = await records.add_sms_address(turn.session, turn.patient.id, data["phone"], turn.now)
        if address is not None and turn.sms_on:
            request = texts.say(turn.lang, "sms_confirm_request")
            texted = await records.ask_sms_yes(turn.session, turn.patient, address, request, turn.now)
    turn.patient.status = PatientStatus.ACTIVE
    turn.patient_changed()
    turn.replan = True
    turn.idle()
    turn.note("signup_done", name=turn.patient.display_name)
    if texted:
        turn.note("sms_confirm_sent", phone=data["phone"])
    await turn.ask()
