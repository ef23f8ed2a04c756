"""The /phone command: the patient's number for text messages (SMS), their backup when Telegram is blocked.

Owns showing the number and its state (texts on, waiting for the phone's YES, off after STOP, unreachable)
and changing, adding or removing it. A new number is read like sign-up's (`phones.to_e164`, the contact
button too) and gets SMS only after it replies YES to its one request; only where SMS is configured. The old
number is removed (its pending request cancelled, SMS consent off until the new YES), each change goes in
the timeline and the reminders are replanned: `storage.sms.set_number` and `remove_number` do it, as for
the console's `admin.sms_number`. A number that is another patient's is refused without saying so.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog import records, texts
from bot.dialog.answers import Command
from bot.dialog.events import Reply
from bot.dialog.phones import to_e164
from bot.dialog.turn import Answer, Step, Turn
from storage import sms
from storage.models import Channel, ChannelAddress, PatientStatus

FLOW = "phone"
MENU, NUMBER, REMOVE = "menu", "number", "remove"
CHANGE, DROP, KEEP, YES, NO = "change", "remove", "keep", "yes", "no"
CHANGED = "telegram: the patient changed their SMS number"
ADDED = "telegram: the patient gave an SMS number; it waits for its own YES"
REMOVED = "telegram: the patient removed their SMS number"


async def run(turn: Turn, _command: Command) -> None:
    """Shows the SMS number and offers to change, add or remove it."""
    if turn.address.channel is Channel.SMS:
        turn.say("phone_by_sms")
        return
    if not turn.sms_on and await records.sms_address_of(turn.session, turn.patient.id) is None:
        turn.say("phone_unavailable")
        return
    turn.interrupt(FLOW, MENU)
    await turn.ask()


# `storage.sms.number_state` in the words of /phone's texts (`phone_state_*`): no YES yet reads waiting
_STATE_TEXT = {"on": "on", "awaiting_yes": "waiting", "off": "waiting", "opted_out": "off",
               "unreachable": "unreachable"}  # fmt: skip


def _state(turn: Turn, address: ChannelAddress) -> str:
    return _STATE_TEXT[sms.number_state(turn.patient, address)] if turn.sms_on else "unavailable"


async def _ask_menu(turn: Turn) -> Reply:
    address = await records.sms_address_of(turn.session, turn.patient.id)
    if address is None:
        return Reply(
            turn.t("phone_none"), (turn.option(CHANGE, "phone_add"), turn.option(KEEP, "phone_not_now"))
        )
    state = turn.t(f"phone_state_{_state(turn, address)}")
    change = (turn.option(CHANGE, "phone_change"),) if turn.sms_on else ()
    options = (*change, turn.option(DROP, "phone_remove"), turn.option(KEEP, "phone_keep"))
    return Reply(turn.t("phone_is", phone=address.address, state=state), options)


async def _handle_menu(turn: Turn, answer: Answer) -> None:
    if answer.option == CHANGE:
        if not turn.sms_on:
            await _end(turn, "phone_unavailable")
            return
        if turn.patient.status is not PatientStatus.ACTIVE:  # nothing is sent while paused or stopped
            await _end(turn, "phone_resume_first")
            return
        turn.go(FLOW, NUMBER)
    elif answer.option == DROP:
        turn.go(FLOW, REMOVE)
    else:
        await _end(turn, "nothing_changed")
        return
    await turn.ask()


async def _ask_number(turn: Turn) -> Reply:
    return Reply(turn.t("phone_ask"), (turn.option(KEEP, "phone_cancel"),), ask_contact=turn.t("phone_share"))


async def _handle_number(turn: Turn, answer: Answer) -> None:
    if answer.option == KEEP:
        await _end(turn, "nothing_changed")
        return
    number = to_e164(answer.contact or answer.text or "", turn.patient.country)
    if number is None:
        turn.note("phone_invalid_retry")
        await turn.ask()
        return
    outcome = await records.set_sms_number(
        turn.session, turn.patient, number, turn.now,
        request=texts.say(turn.lang, "sms_confirm_request"), changed_cause=CHANGED, added_cause=ADDED,
    )  # fmt: skip
    if outcome == sms.NUMBER_SAME:
        await _end(turn, "phone_same")
        return
    if outcome == sms.NUMBER_TAKEN:  # says nothing of whose it is
        turn.note("phone_taken_retry")
        await turn.ask()
        return
    turn.patient_changed()
    turn.replan = True
    await _end(turn, "sms_confirm_sent", phone=number)


async def _ask_remove(turn: Turn) -> Reply:
    address = await records.sms_address_of(turn.session, turn.patient.id)
    phone = address.address if address is not None else ""
    options = (turn.option(YES, "phone_remove_yes"), turn.option(NO, "phone_remove_no"))
    return Reply(turn.t("phone_ask_remove", phone=phone), options)


async def _handle_remove(turn: Turn, answer: Answer) -> None:
    address = await records.sms_address_of(turn.session, turn.patient.id)
    if answer.option != YES or address is None:
        await _end(turn, "nothing_changed")
        return
    phone = address.address
    await records.remove_sms_address(turn.session, address, turn.now, REMOVED)
    turn.patient_changed()
    turn.replan = True
    await _end(turn, "phone_removed", phone=phone)


async def _end(turn: Turn, text_key: str, **values: object) -> None:
    """Leaves the flow with a sentence, back to what the patient was doing."""
    turn.note(text_key, **values)
    if turn.resume():
        await turn.ask()


STEPS: dict[str, Step] = {
    MENU: Step(_ask_menu, _handle_menu, choice_only=True),
    NUMBER: Step(_ask_number, _handle_number, numbered=False, accepts_contact=True),
    REMOVE: Step(_ask_remove, _handle_remove, choice_only=True),
}
