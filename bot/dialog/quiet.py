"""The /quiet command (QUIET by SMS): a patient's own quiet hours, in their local wall clock.

Owns reading and setting them: "/quiet" shows the current window; "/quiet 22:00-07:00" sets one;
"/quiet off" sets none; "/quiet default" goes back to the reminder plan's. A change replans the pending
scheduled messages (reminders move earlier out of the window, check-ins later: `care.quiet_hours`); the
window stays in local time when the time zone changes. Replies and emergency guidance never wait for quiet
hours; only scheduled messages do. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog.answers import Command
from bot.dialog.timezones import zone_label
from bot.dialog.turn import Turn
from care.quiet_hours import NO_QUIET_HOURS, QuietHours

OFF_WORDS = frozenset({"off", "none", "no", "apagar", "ninguna", "nada"})
DEFAULT_WORDS = frozenset({"default", "normal", "reset", "predeterminado", "predeterminadas"})


def current(turn: Turn) -> tuple[QuietHours, bool]:
    """Returns the patient's quiet hours and whether they are the plan's default."""
    patient = turn.patient
    if patient.quiet_hours_start is None or patient.quiet_hours_end is None:
        return turn.plan.quiet_hours, True
    return QuietHours(patient.quiet_hours_start, patient.quiet_hours_end), False


async def run(turn: Turn, command: Command) -> None:
    """Shows, sets, turns off or resets the patient's quiet hours."""
    arg = " ".join(command.args).strip().lower()
    if not arg:
        _show(turn)
        return
    if arg in DEFAULT_WORDS:
        _store(turn, None)
    elif arg in OFF_WORDS:
        _store(turn, NO_QUIET_HOURS)
    else:
        try:
            quiet = QuietHours.parse(arg)
        except ValueError:
            turn.say("quiet_bad")
            return
        _store(turn, quiet)
    _show(turn, changed=True)


def _store(turn: Turn, quiet: QuietHours | None) -> None:
    patient = turn.patient
    patient.quiet_hours_start = None if quiet is None else quiet.start
    patient.quiet_hours_end = None if quiet is None else quiet.end
    turn.patient_changed()
    turn.replan = True  # pending reminders move out of the new window


def _show(turn: Turn, *, changed: bool = False) -> None:
    quiet, default = current(turn)
    city = zone_label(turn.patient.timezone, turn.lang)
    prefix = "quiet_set_" if changed else "quiet_is_"
    if quiet == NO_QUIET_HOURS:
        turn.say(f"{prefix}none")
    else:
        turn.say(f"{prefix}{'default' if default else 'own'}", hours=str(quiet), city=city)
