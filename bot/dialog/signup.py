"""Sign-up: consent, name, time zone, treatment, last dose, next appointment, SMS, summary and confirmation.

Owns the order of the questions and when each is skipped: a question already answered (by the patient, or
by the clinic for an invited patient) is not asked again, so a restarted or resumed sign-up continues at
the first open question. Nothing is stored as a course until the patient confirms the summary; then the
patient becomes active and their reminders are planned. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from bot.dialog import course, records
from bot.dialog.appointment_entry import Booking, appointment_steps, local_today, month_first
from bot.dialog.appointment_entry import date_problem_text as _date_problem
from bot.dialog.course import Stage
from bot.dialog.dates import DateParseError, parse_when
from bot.dialog.events import Reply
from bot.dialog.phones import to_e164
from bot.dialog.signup_course import (
    RESTART,
    ask_summary,
    booking_context,
    finish,
    formulation_of,
    next_number,
    stage_of,
)
from bot.dialog.texts import other_language, say
from bot.dialog.turn import Answer, Step, Turn
from bot.dialog.zone_steps import zone_steps
from bot.options import Option
from care.formulation import Formulation
from care.wall_clock import resolve_wall
from storage.models import Channel, Invite

FLOW = "signup"
CONSENT_VERSION = "2026-11-v1"
ORDER = ("consent", "name", "timezone", "formulation", "stage", "last_dose", "appointment", "place", "phone",
         "confirm")  # fmt: skip
MAX_NAME_CHARS = 50
MAX_PLACE_CHARS = 200
LAST_DOSE_LOOKBACK = timedelta(days=2 * 366)
DEFAULT_DOSE_TIME = time(12, 0)  # a past dose whose time nobody knows: midday, on the patient's wall clock
YES, NO, SKIP, NOT_SURE = "yes", "no", "skip", "not_sure"
# Answers the patient gives during sign-up that "Start again" clears (the clinic's, listed in "fixed", stay).
_PATIENT_FIELDS = ("display_name", "formulation", "stage")


async def begin(turn: Turn, data: dict[str, object] | None = None) -> None:
    """Starts (or restarts) sign-up at its first open question."""
    turn.go(FLOW, ORDER[0], data if data is not None else turn.data)
    await advance(turn)


async def advance(turn: Turn) -> None:
    """Moves to the first question still open, and asks it."""
    step = next(name for name in ORDER if _NEEDED[name](turn))
    turn.go(FLOW, step)
    await turn.ask()


_NEEDED = {
    "consent": lambda turn: turn.patient.consented_at is None,
    "name": lambda turn: not turn.patient.display_name,
    "timezone": lambda turn: not (turn.data.get("tz_set") or turn.data.get("invite")),
    "formulation": lambda turn: turn.patient.formulation is None,
    "stage": lambda turn: turn.patient.stage is None,
    "last_dose": lambda turn: (
        stage_of(turn) is not Stage.NOT_STARTED
        and not any(key in turn.data for key in ("last_dose", "last_dose_unknown", "course_given"))
    ),
    "appointment": lambda turn: (
        not any(key in turn.data for key in ("appointment", "no_appointment", "course_planned"))
    ),
    "place": lambda turn: "appointment" in turn.data and "place" not in turn.data,
    "phone": lambda turn: (
        turn.address.channel is not Channel.SMS
        and not any(key in turn.data for key in ("phone", "phone_skipped"))
    ),
    "confirm": lambda turn: True,
}


# consent -------------------------------------------------------------------------------------------------


async def _ask_consent(turn: Turn) -> Reply:
    other = other_language(turn.lang)
    return Reply(
        turn.t("consent"),
        (
            turn.option(YES, "consent_yes"),
            turn.option(NO, "consent_no"),
            Option(f"cmd:language:{other}", say(other, "language_name")),
        ),
    )


async def _handle_consent(turn: Turn, answer: Answer) -> None:
    if answer.option == YES:
        turn.patient.consent_version = CONSENT_VERSION
        turn.patient.consented_at = turn.now
        if turn.address.channel is Channel.SMS:
            turn.patient.sms_consent = True  # they signed up by SMS: that is where reminders go
        turn.patient_changed()
        await advance(turn)
        return
    if answer.option == NO:
        turn.say("consent_declined")
        if turn.data.get("invite"):  # the clinic's record stays; this chat is unlinked and the code freed
            invite_id = turn.data.get("invite_id")
            invite = await turn.session.get(Invite, invite_id) if invite_id else None
            if invite is not None:
                invite.used_at = None
            await turn.session.delete(turn.address)
            await turn.session.flush()
        else:
            await records.delete_patient(turn.session, turn.patient)
        turn.erased = True


# name, formulation, stage ---------------------------------------------------------------------------------


async def _ask_name(turn: Turn) -> Reply:
    return Reply(turn.t("ask_name"))


async def _handle_name(turn: Turn, answer: Answer) -> None:
    name = re.sub(r"\s+", " ", answer.text or "").strip()
    if not name or len(name) > MAX_NAME_CHARS or not any(char.isalpha() for char in name) or name[0] in "/@#":
        turn.note("name_invalid")
        await turn.ask()
        return
    turn.patient.display_name = name
    turn.patient_changed()
    turn.note("name_saved", name=name)
    await advance(turn)


async def _ask_formulation(turn: Turn) -> Reply:
    return Reply(
        turn.t("ask_formulation"),
        (
            turn.option(Formulation.IV.value, "formulation_iv"),
            turn.option(Formulation.SC.value, "formulation_sc"),
        ),
    )


async def _handle_formulation(turn: Turn, answer: Answer) -> None:
    formulation = Formulation(answer.option)
    turn.patient.formulation = formulation
    if turn.patient.stage and Stage(turn.patient.stage) not in course.stages(formulation):
        turn.patient.stage = None
    turn.patient_changed()
    await advance(turn)


async def _ask_stage(turn: Turn) -> Reply:
    formulation = formulation_of(turn)
    options = tuple(
        turn.option(stage.value, f"stage_{formulation.value}_{_stage_key(stage)}")
        for stage in course.stages(formulation)
    )
    return Reply(turn.t("ask_stage"), options)


def _stage_key(stage: Stage) -> str:
    return "between" if stage is Stage.BETWEEN_INFUSIONS else stage.value


async def _handle_stage(turn: Turn, answer: Answer) -> None:
    turn.patient.stage = Stage(answer.option).value
    turn.patient_changed()
    await advance(turn)


# last dose ------------------------------------------------------------------------------------------------


async def _ask_last_dose(turn: Turn) -> Reply:
    formulation = formulation_of(turn)
    key = (
        "ask_last_dose_iv_between"
        if stage_of(turn) is Stage.BETWEEN_INFUSIONS
        else f"ask_last_dose_{formulation}"
    )
    return Reply(turn.t(key), (turn.option(NOT_SURE, "not_sure"),))


async def _handle_last_dose(turn: Turn, answer: Answer) -> None:
    if answer.option == NOT_SURE:
        turn.remember(last_dose_unknown=True)
        await advance(turn)
        return
    today = local_today(turn)
    try:
        parsed = parse_when(answer.text or "", today=today, month_first=month_first(turn), prefer="past")
    except DateParseError as exc:
        turn.notes.append(_date_problem(turn, exc.problem))
        await turn.ask()
        return
    if parsed.day > today:
        turn.note("last_dose_future")
    elif parsed.day < today - LAST_DOSE_LOOKBACK:
        turn.note("last_dose_too_old")
    else:
        given_at = min(resolve_wall(parsed.day, parsed.at or DEFAULT_DOSE_TIME, turn.tz), turn.now)
        turn.remember(last_dose=given_at.isoformat())
        await advance(turn)
        return
    await turn.ask()


# appointment ----------------------------------------------------------------------------------------------


async def _accept_appointment(turn: Turn, starts_at: datetime | None) -> None:
    if starts_at is None:
        turn.remember(no_appointment=True)
    else:
        turn.remember(appointment=starts_at.isoformat())
    await advance(turn)


async def _ask_appointment(turn: Turn) -> Reply:
    formulation, number = formulation_of(turn), await next_number(turn)
    if formulation is Formulation.IV and number <= 2:
        dose = turn.t(f"dose_iv_{number}")
    else:
        dose = turn.t(f"dose_{formulation.value}")
    return Reply(turn.t("ask_appointment", dose=dose), (turn.option("no_date", "no_date_yet"),))


# place and phone ------------------------------------------------------------------------------------------


async def _ask_place(turn: Turn) -> Reply:
    return Reply(turn.t("ask_place"), (turn.option(SKIP, "skip"),))


async def _handle_place(turn: Turn, answer: Answer) -> None:
    if answer.option == SKIP:
        turn.remember(place="")
    elif len(answer.text or "") > MAX_PLACE_CHARS:
        turn.note("place_too_long")
        await turn.ask()
        return
    else:
        turn.remember(place=(answer.text or "").strip())
    await advance(turn)


async def _ask_phone(turn: Turn) -> Reply:
    return Reply(turn.t("ask_phone"), (turn.option(NO, "phone_no"),), ask_contact=turn.t("phone_share"))


async def _handle_phone(turn: Turn, answer: Answer) -> None:
    if answer.option == NO:
        turn.remember(phone_skipped=True)
        await advance(turn)
        return
    number = to_e164(answer.contact or answer.text or "", turn.patient.country)
    if number is None:
        turn.note("phone_invalid")
    elif await records.sms_number_owner(turn.session, number) not in (None, turn.patient.id):
        turn.note("phone_taken")
    else:
        turn.remember(phone=number)
        await advance(turn)
        return
    await turn.ask()


# summary and confirmation ---------------------------------------------------------------------------------


async def _handle_confirm(turn: Turn, answer: Answer) -> None:
    if answer.option == RESTART:
        fixed = set(turn.data.get("fixed", []))
        for name in _PATIENT_FIELDS:
            if name not in fixed:
                setattr(turn.patient, name, None)
        turn.patient_changed()
        keep = ("invite", "invite_id", "fixed", "course_given", "course_planned")
        await begin(turn, {key: value for key, value in turn.data.items() if key in keep})
        return
    await finish(turn)


async def _after_zone(turn: Turn) -> None:
    await advance(turn)


STEPS: dict[str, Step] = {
    "consent": Step(_ask_consent, _handle_consent, choice_only=True),
    "name": Step(_ask_name, _handle_name, numbered=False),
    **zone_steps(_after_zone),
    "formulation": Step(_ask_formulation, _handle_formulation, choice_only=True),
    "stage": Step(_ask_stage, _handle_stage, choice_only=True),
    "last_dose": Step(_ask_last_dose, _handle_last_dose, numbered=False),
    **appointment_steps(Booking(booking_context, _accept_appointment, _ask_appointment)),
    "place": Step(_ask_place, _handle_place),
    "phone": Step(_ask_phone, _handle_phone, numbered=False, accepts_contact=True),
    "confirm": Step(ask_summary, _handle_confirm, choice_only=True),
}
