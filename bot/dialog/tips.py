"""Weekly tips in the dialog: /tips says whether they are on, with a button to switch; "/tips on|off" switch.

Owns `run` (the /tips command; by SMS, TIPS and TIPS OFF arrive as "/tips on" and "/tips off"). Turning tips
on writes the next tip to the outbox at once when the patient's reminders are on (`storage.tips`); turning
them off cancels the pending ones. The switch is the patient's own, kept through pause and resume (a paused
patient gets none). Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from bot.dialog.answers import Command
from bot.dialog.turn import Turn
from storage import tips
from storage.models import Channel, PatientStatus

OPTION = "cmd:tips"
ON, OFF = "on", "off"


async def run(turn: Turn, command: Command) -> None:
    """Runs /tips: switches tips on or off, or shows whether they are on."""
    wanted = command.args[0].lower() if command.args else ""
    if wanted not in (ON, OFF):
        show(turn)
        return
    on = wanted == ON
    was = turn.patient.weekly_tips
    change = await tips.set_weekly_tips(
        turn.session, turn.patient, on, turn.plan.quiet_hours, turn.now, slot=turn.plan.tip_slot
    )
    turn.patient_changed()
    if not on:
        turn.say("tips_stopped" if was else "tips_already_off")
        return
    if change.due_at is None or turn.patient.status is not PatientStatus.ACTIVE:
        turn.say("tips_started_later")
        return
    turn.say("tips_started" if not was else "tips_already_on", date=_date(turn, change.due_at))


def show(turn: Turn) -> None:
    """Says whether weekly tips are on, with the button that switches them (by SMS, the words to text)."""
    on = turn.patient.weekly_tips
    sms = turn.address.channel is Channel.SMS
    button = (
        turn.option(f"{OPTION}:{OFF}", "tips_turn_off")
        if on
        else turn.option(f"{OPTION}:{ON}", "tips_turn_on")
    )
    turn.say("tips_state_on" if on else "tips_state_off", options=() if sms else (button,))


def _date(turn: Turn, due_at: datetime) -> str:
    return format_date(due_at.astimezone(turn.tz).date(), format="long", locale=turn.locale)
