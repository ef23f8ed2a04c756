"""The commands about the patient's subscription: pause, resume, stop, delete, language and time zone.

Owns what each does to the patient and their reminders: pause and stop cancel pending reminders, resume
plans them again, a language or time-zone change replans them, and delete erases every record of the
patient (keeping only an audit row that names nobody). Stop and delete ask for a confirmation first.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog import records, signup
from bot.dialog.events import Reply
from bot.dialog.texts import LANGUAGES, say
from bot.dialog.timezones import zone_label
from bot.dialog.turn import Answer, Step, Turn
from bot.dialog.zone_steps import ASK as ZONE_ASK
from bot.dialog.zone_steps import zone_steps
from bot.options import Option
from storage.models import Language, PatientStatus

STOP, DELETE, TIMEZONE = "stop", "delete", "timezone"
CONFIRM = "confirm"
YES, NO = "yes", "no"
_SUBSCRIBED = (PatientStatus.ACTIVE, PatientStatus.PAUSED)


async def pause(turn: Turn) -> None:
    """Pauses reminders."""
    if turn.patient.status is PatientStatus.PAUSED:
        turn.say("already_paused")
        return
    _set_status(turn, PatientStatus.PAUSED)
    turn.say("paused")


async def resume(turn: Turn) -> None:
    """Restarts reminders, after a pause or a stop; a sign-up stopped half-way goes on where it was."""
    if turn.patient.status is PatientStatus.ACTIVE:
        turn.say("already_active")
        return
    if await records.active_course(turn.session, turn.patient.id) is None:
        turn.patient.status = PatientStatus.SIGNING_UP
        turn.patient_changed()
        await signup.begin(turn, {})
        return
    _set_status(turn, PatientStatus.ACTIVE)
    turn.say("resumed")


def _set_status(turn: Turn, status: PatientStatus) -> None:
    turn.patient.status = status
    turn.patient_changed()
    turn.replan = True


async def start_stop(turn: Turn) -> None:
    """Asks to confirm stopping every reminder."""
    turn.interrupt(STOP, CONFIRM)
    await turn.ask()


async def _ask_stop(turn: Turn) -> Reply:
    return Reply(turn.t("ask_stop"), (turn.option(YES, "stop_yes"), turn.option(NO, "stop_no")))


async def _handle_stop(turn: Turn, answer: Answer) -> None:
    if answer.option != YES:
        await _nothing_changed(turn)
        return
    turn.idle()
    _set_status(turn, PatientStatus.STOPPED)
    turn.say("stopped")


async def start_delete(turn: Turn) -> None:
    """Asks to confirm erasing everything."""
    turn.interrupt(DELETE, CONFIRM)
    await turn.ask()


async def _ask_delete(turn: Turn) -> Reply:
    return Reply(turn.t("ask_delete"), (turn.option(YES, "delete_yes"), turn.option(NO, "delete_no")))


async def _handle_delete(turn: Turn, answer: Answer) -> None:
    if answer.option != YES:
        await _nothing_changed(turn)
        return
    turn.say("deleted")
    await records.erase_patient(turn.session, turn.patient, turn.address.channel, turn.now)
    turn.erased = True


async def _nothing_changed(turn: Turn) -> None:
    turn.note("nothing_changed")
    if turn.resume():
        await turn.ask()


async def start_timezone(turn: Turn) -> None:
    """Asks for a new time zone."""
    turn.interrupt(TIMEZONE, ZONE_ASK)
    await turn.ask()


async def _zone_changed(turn: Turn) -> None:
    turn.notes.clear()
    if turn.patient.status in _SUBSCRIBED:
        turn.replan = True
    resumed = turn.resume()
    turn.note("timezone_updated", city=zone_label(turn.patient.timezone, turn.lang))
    if resumed:
        await turn.ask()


async def ask_language(turn: Turn) -> None:
    """Offers the languages, each named in itself."""
    options = tuple(Option(f"cmd:language:{code}", say(code, "language_name")) for code in LANGUAGES)
    turn.say("ask_language", options=options)


async def set_language(turn: Turn, code: str) -> None:
    """Switches the patient's language (and replans: messages go out in it)."""
    turn.patient.language = Language(code)
    turn.patient_changed()
    if turn.patient.status in _SUBSCRIBED:
        turn.replan = True
    turn.note("language_set")


STOP_STEPS: dict[str, Step] = {CONFIRM: Step(_ask_stop, _handle_stop, choice_only=True)}
DELETE_STEPS: dict[str, Step] = {CONFIRM: Step(_ask_delete, _handle_delete, choice_only=True)}
TIMEZONE_STEPS: dict[str, Step] = zone_steps(_zone_changed)
