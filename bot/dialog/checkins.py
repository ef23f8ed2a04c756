"""Answers to what the service asked on its own: check-ins ("how are you feeling?") and dose confirmations.

Owns `take` (is this event such an answer?), the triage of a check-in answer (a button, a typed option, or
the patient's own words, by `care.triage`), the check-in row it stores, the replies (an emergency's call to
emergency services is always the first reply, with the number of the patient's country), the alert queued
for after the commit, the "tell me more" step after a vague answer, and the dose confirmation (yes: the
dose is recorded as given on its day and the plan re-counted from it, fact 24; not yet or moved: the
/reschedule questions). A button carries its message's id ("812:fine", `bot.channels.base.tag_option`); own
words answer the latest check-in still open (sent within `OPEN_FOR`, not answered, and newer than any
question a flow asked). Commands and sign-up come first. Never dosing advice.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, update

from bot.alerts import Alert
from bot.channels.base import tag_option, untag_option_key
from bot.dialog import answers, course, dose_commands, records, signup
from bot.dialog.events import Reply
from bot.dialog.schedule_view import format_day
from bot.dialog.timezones import zone_country
from bot.dialog.turn import Answer, Step, Turn
from bot.options import Option
from bot.outbound import default_texts
from care.dose_schedule import padded_given
from care.formulation import Formulation
from care.triage import TriageLevel, TriagePolicy, TriageResult, emergency_number, load_policy, reply_for
from care.triage import triage as triage_text
from care.triage import triage_option as triage_button
from storage import alerts as stored
from storage.models import CheckInLevel, Dose, DoseStatus, MessageStatus, PatientStatus, ScheduledMessage

FLOW, DETAILS = "check_in", "details"
CHECK_IN, DOSE_CONFIRM = "check_in", "dose_confirm"
YES, NOT_YET, MOVED = "yes", "not_yet", "moved"  # the dose confirmation's options (bot/outbound_texts.toml)
OPEN_FOR = timedelta(hours=48)  # own words answer a check-in sent this recently
DEFAULT_EMERGENCY_NUMBER = "112"  # when neither the patient's country nor the settings give one
_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


async def take(turn: Turn) -> bool:
    """Answers the event when it answers a check-in or a dose confirmation; False leaves it to the flows."""
    event = turn.event
    if event.option is not None:
        tagged = untag_option_key(event.option)
        if tagged is None:
            return False
        await _answer_button(turn, *tagged)
        return True
    if turn.patient.status is PatientStatus.SIGNING_UP or turn.flow == signup.FLOW:
        return False  # sign-up answers are never check-ins
    text = answers.clean(event.text)
    if not text or len(text) > answers.MAX_TEXT_CHARS or event.contact_phone:
        return False  # emoji alone are an answer here ("🤢"), unlike at the flows' questions
    message = await _latest_open(turn)
    if message is None or message.sent_at is None:
        return False
    if turn.flow and turn.state.updated_at > message.sent_at:
        return False  # a flow asked its question after the check-in: the text answers the flow
    option = answers.match_option(text, _options(turn, message), numbered=True)
    if message.kind == DOSE_CONFIRM:
        if option is None:
            return False
        await _confirm_dose(turn, message, option)
        return True
    await _check_in(turn, message, option=option, text=None if option else text)
    return True


async def unprompted(turn: Turn, *, idle: bool) -> bool:
    """Own words no check-in asked for that name an emergency (at any step, sign-up included) or an
    urgent problem (when nothing is being asked): the triage reply goes out, emergency guidance first, and
    (once signed up, as consent comes first) the answer is stored and a person alerted. Returns True when
    the event is fully answered; False when the flows should still take it (a first contact then starts
    sign-up after the guidance).
    """
    event = turn.event
    text = answers.clean(event.text)
    if event.option is not None or event.contact_phone or not text or len(text) > answers.MAX_TEXT_CHARS:
        return False
    if turn.flow == FLOW:
        return False  # the details step of a check-in triages the words itself
    policy = _policy(turn)
    result = triage_text(text, policy, hours_since_dose=None)
    urgent = {TriageLevel.EMERGENCY} | ({TriageLevel.CLINIC_NOW} if idle else set())
    if result.level not in urgent or result.level is None:
        return False
    signing_up = turn.patient.status is PatientStatus.SIGNING_UP
    if not signing_up:  # before consent we store nothing, but the guidance is given all the same
        await _store(turn, None, None, text, CheckInLevel(result.level.value))
    _reply(turn, result, patient_emergency_number(turn), policy)
    if idle:
        return True
    if signing_up and not turn.flow:
        return False  # first contact: sign-up begins after the guidance
    await turn.ask()  # the question in progress, asked again: the words were not its answer
    return True


# ------------------------------------------------------------------------------------------------ buttons
async def _answer_button(turn: Turn, message_id: int, key: str) -> None:
    message = await turn.session.get(ScheduledMessage, message_id)
    if message is not None and message.patient_id == turn.patient.id and message.kind == stored.NUDGE_KIND:
        nudged = stored.nudged_message_id(message.dedupe_key)
        message = await turn.session.get(ScheduledMessage, nudged) if nudged is not None else None
    if message is None or message.patient_id != turn.patient.id:
        await _expired(turn)
    elif message.kind == CHECK_IN and key in _policy(turn).options:
        await _check_in(turn, message, option=key, text=None)
    elif message.kind == DOSE_CONFIRM and key in (YES, NOT_YET, MOVED):
        await _confirm_dose(turn, message, key)
    else:
        await _expired(turn)


async def _expired(turn: Turn) -> None:
    turn.note("checkin_expired")
    await turn.ask()


# ----------------------------------------------------------------------------------------------- check-ins
async def _check_in(turn: Turn, message: ScheduledMessage, *, option: str | None, text: str | None) -> None:
    """Triages one answer to a check-in, stores it, and replies; a vague one asks for details next."""
    policy = _policy(turn)
    dose = await _dose(turn, message)
    hours = _hours_since(dose, turn.now)
    if option is not None:
        result = triage_button(option, policy, hours_since_dose=hours)
        answer = default_texts().options[option].get(turn.lang, option)
    else:
        result = triage_text(text or "", policy, hours_since_dose=hours)
        answer = text or ""
    number = patient_emergency_number(turn)
    if result.level is None:  # unclear: ask again, with the options; nothing is stored
        messages = reply_for(result, turn.lang, number, policy=policy)
        turn.send("\n\n".join(messages), _tagged_options(turn, message))
        return
    await _store(turn, message, dose, answer, CheckInLevel(result.level.value))
    message.answered_at = message.answered_at or turn.now
    await _cancel_nudge(turn, message)
    _reply(turn, result, number, policy)
    if result.ask_details:
        if turn.flow != FLOW:
            turn.interrupt(FLOW, DETAILS)
        turn.remember(message_id=message.id, level=result.level.value)


async def _ask_details(turn: Turn) -> Reply:
    return Reply("\n\n".join(_policy(turn).replies["ask_details"][_lang(turn)]))


async def _handle_details(turn: Turn, answer: Answer) -> None:
    """Takes the patient's own description after a vague answer; stores it at the more severe level."""
    policy = _policy(turn)
    message = await turn.session.get(ScheduledMessage, turn.data.get("message_id") or 0)
    if message is not None and message.patient_id != turn.patient.id:
        message = None
    dose = await _dose(turn, message) if message is not None else None
    before = TriageLevel(turn.data.get("level", TriageLevel.CLINIC_NOW))
    result = triage_text(answer.text or "", policy, hours_since_dose=_hours_since(dose, turn.now))
    worse = result.level is not None and result.level.severity > before.severity
    level = result.level if worse and result.level is not None else before
    await _store(turn, message, dose, answer.text or "", CheckInLevel(level.value))
    number = patient_emergency_number(turn)
    turn.resume()
    if worse:
        _reply(turn, TriageResult(level, True, result.matched), number, policy)
    else:
        turn.say("checkin_details_thanks", number=number)


def _reply(turn: Turn, result: TriageResult, number: str, policy: TriagePolicy) -> None:
    messages = reply_for(result, turn.lang, number, policy=policy)
    if result.level is TriageLevel.EMERGENCY:
        turn.send(messages[0])  # the call to emergency services is a reply of its own, and the first
        messages = messages[1:]
    if messages:
        turn.send("\n\n".join(messages))


async def _store(
    turn: Turn, message: ScheduledMessage | None, dose: Dose | None, answer: str, level: CheckInLevel
) -> None:
    row = await stored.add_check_in(
        turn.session,
        patient_id=turn.patient.id,
        dose_id=dose.id if dose is not None else None,
        scheduled_message_id=message.id if message is not None else None,
        answer=answer,
        level=level,
        flagged=level is not CheckInLevel.FINE,
        now=turn.now,
    )
    turn.changed = True
    if row.flagged:
        turn.alerts.append(Alert.of(row, turn.patient.display_name))


async def _cancel_nudge(turn: Turn, message: ScheduledMessage) -> None:
    """Drops the nudge about an answered check-in if it has not gone yet."""
    await turn.session.execute(
        update(ScheduledMessage)
        .where(
            ScheduledMessage.patient_id == turn.patient.id,
            ScheduledMessage.dedupe_key == stored.nudge_key(message.id),
            ScheduledMessage.status == MessageStatus.PENDING,
        )
        .values(status=MessageStatus.CANCELLED, updated_at=turn.now),
        execution_options={"synchronize_session": False},
    )


# ------------------------------------------------------------------------------------ dose confirmation
async def _confirm_dose(turn: Turn, message: ScheduledMessage, key: str) -> None:
    """Yes records the dose as given on its day and replans; not yet or moved asks for the new date."""
    dose = await _dose(turn, message)
    if dose is None or dose.status in (DoseStatus.CANCELLED, DoseStatus.MISSED):
        await _expired(turn)
        return
    message.answered_at = message.answered_at or turn.now
    turn.changed = True
    if key != YES:
        if dose.status is DoseStatus.GIVEN:
            turn.say("checkin_dose_known")
            return
        if turn.flow:
            turn.resume()  # leave any side flow, as a command would
        turn.note("checkin_dose_moved")
        await dose_commands.start_reschedule(turn)
        return
    if dose.status is DoseStatus.GIVEN:
        turn.say("checkin_dose_known")
        return
    dose.status = DoseStatus.GIVEN
    dose.given_at = min(dose.planned_at, turn.now)  # the appointment's day, as the question named it
    turn.replan = True
    active = await records.active_course(turn.session, turn.patient.id)
    doses = await records.course_doses(turn.session, dose.course_id)
    formulation = Formulation(active.formulation if active else turn.patient.formulation or Formulation.IV)
    given = padded_given(formulation, course.known_given(doses), turn.tz)
    suggestion = course.suggested_next(formulation, given, turn.tz)
    turn.note("done_recorded", day=format_day(turn, dose.given_at.astimezone(turn.tz).date()))
    turn.send(
        turn.t("done_next", when=format_day(turn, suggestion.astimezone(turn.tz).date())),
        (Option("cmd:reschedule", turn.t("enter_next_appointment")),),
    )


# ------------------------------------------------------------------------------------------------ reading
async def _latest_open(turn: Turn) -> ScheduledMessage | None:
    """Returns the newest check-in or dose confirmation sent recently and not answered yet."""
    return await turn.session.scalar(
        select(ScheduledMessage)
        .where(
            ScheduledMessage.patient_id == turn.patient.id,
            ScheduledMessage.kind.in_((CHECK_IN, DOSE_CONFIRM)),
            ScheduledMessage.status.in_(_SENT),
            ScheduledMessage.answered_at.is_(None),
            ScheduledMessage.sent_at >= turn.now - OPEN_FOR,
        )
        .order_by(ScheduledMessage.sent_at.desc(), ScheduledMessage.id.desc())
        .limit(1)
    )


async def _dose(turn: Turn, message: ScheduledMessage) -> Dose | None:
    return await turn.session.get(Dose, message.dose_id) if message.dose_id is not None else None


def _hours_since(dose: Dose | None, now: datetime) -> float | None:
    """Returns the hours since the dose began (given, else planned), None when unknown (the safe side)."""
    if dose is None:
        return None
    return (now - (dose.given_at or dose.planned_at)).total_seconds() / 3600


def _options(turn: Turn, message: ScheduledMessage) -> tuple[Option, ...]:
    texts = default_texts()
    template = texts.touchpoints.get(message.touchpoint_id or message.kind)
    keys = template.options if template is not None else ()
    return tuple(Option(key, texts.options[key][_lang(turn)]) for key in keys)


def _tagged_options(turn: Turn, message: ScheduledMessage) -> tuple[Option, ...]:
    return tuple(tag_option(message.id, option) for option in _options(turn, message))


def _lang(turn: Turn) -> str:
    return turn.lang if turn.lang in ("en", "es") else "en"


@cache
def _default_policy() -> TriagePolicy:
    return load_policy()


def _policy(turn: Turn) -> TriagePolicy:
    return turn.policy or _default_policy()


def patient_emergency_number(turn: Turn) -> str:
    """Returns the emergency number of the patient's country (from sign-up, else their time zone)."""
    country = turn.patient.country or zone_country(turn.patient.timezone)
    default = turn.emergency_number or DEFAULT_EMERGENCY_NUMBER
    return emergency_number(country, default, policy=_policy(turn))


STEPS: dict[str, Step] = {DETAILS: Step(_ask_details, _handle_details, numbered=False)}
