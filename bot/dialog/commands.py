"""Commands a patient can send at any time ("/next", or an option "cmd:next"), and their menu text.

Owns `COMMANDS` (names and one-line descriptions per language, for Telegram's setMyCommands and /help),
`run` (which command does what, which need a finished sign-up, which end a side flow) and the idle menu.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dialog import account, data_export, dose_commands, invites, learn, quiet, signup, sms_number, tips
from bot.dialog.answers import Command
from bot.dialog.events import Reply
from bot.dialog.texts import LANGUAGES, say
from bot.dialog.turn import Turn
from bot.options import Option
from storage.models import PatientStatus

_NAMES = ("next", "done", "reschedule", "calendar", "learn", "tips", "pause", "resume", "timezone",
          "language", "quiet", "phone", "export", "stop", "delete", "help")  # fmt: skip
COMMANDS: dict[str, list[tuple[str, str]]] = {
    language: [(name, say(language, f"cmd_{name}")) for name in _NAMES] for language in LANGUAGES
}
NEEDS_SIGNUP_DONE = frozenset(
    {"next", "done", "reschedule", "calendar", "pause", "timezone", "quiet", "phone"}
)
# Commands that answer and leave the patient where they were; every other one ends a side flow first.
KEEP_PLACE = frozenset({"help", "learn", "start", "language", "menu"})


async def run(turn: Turn, command: Command) -> None:
    """Runs one command."""
    name = command.name
    if name == "start" and command.args:
        await invites.redeem(turn, command.args[0])
        return
    handler = _HANDLERS.get(name)
    if handler is None:
        turn.note("not_understood")
        await show_help(turn)
        return
    if name in NEEDS_SIGNUP_DONE and turn.patient.status is PatientStatus.SIGNING_UP:
        turn.note("finish_signup_first")
        await _back_to_signup(turn)
        return
    if name not in KEEP_PLACE:
        _leave_side_flow(turn)
    await handler(turn, command)


def _leave_side_flow(turn: Turn) -> None:
    if turn.flow and turn.flow != signup.FLOW:
        turn.resume()


async def _back_to_signup(turn: Turn) -> None:
    if turn.flow:
        await turn.ask()
    else:
        await signup.begin(turn, {})


async def show_help(turn: Turn, _command: Command | None = None) -> None:
    """Lists the commands, then the emergency line; a flow in progress is asked again."""
    lines = "\n".join(f"/{name} - {description}" for name, description in COMMANDS[turn.lang])
    turn.say("help", commands=lines, emergency=turn.t("emergency"))
    if turn.flow:
        await turn.ask()


async def _start(turn: Turn, _command: Command) -> None:
    if turn.patient.status is PatientStatus.SIGNING_UP:
        await _back_to_signup(turn)
        return
    turn.note("welcome_back", name=turn.patient.display_name or "")
    await turn.ask()


async def _language(turn: Turn, command: Command) -> None:
    code = command.args[0] if command.args else ""
    if code not in LANGUAGES:
        await account.ask_language(turn)
        return
    await account.set_language(turn, code)
    if turn.patient.status is PatientStatus.SIGNING_UP and not turn.flow:
        await signup.begin(turn, {})
    elif turn.flow:
        await turn.ask()


async def _menu(turn: Turn, _command: Command) -> None:
    await turn.ask()


async def _cancel(turn: Turn, _command: Command) -> None:
    """Ends a side flow (`run` left it already) with nothing changed; sign-up goes on where it was."""
    turn.note("nothing_changed")
    if turn.patient.status is PatientStatus.SIGNING_UP:
        await _back_to_signup(turn)
    else:
        await turn.ask()


def _plain(action: Callable[[Turn], Awaitable[None]]) -> Callable[[Turn, Command], Awaitable[None]]:
    async def handler(turn: Turn, _command: Command) -> None:
        await action(turn)

    return handler


_HANDLERS: dict[str, Callable[[Turn, Command], Awaitable[None]]] = {
    "start": _start,
    "help": show_help,
    "menu": _menu,
    "cancel": _cancel,
    "learn": learn.run,
    "tips": tips.run,
    "language": _language,
    "next": _plain(dose_commands.show_next),
    "done": _plain(dose_commands.start_done),
    "reschedule": _plain(dose_commands.start_reschedule),
    "calendar": _plain(dose_commands.send_calendar),
    "pause": _plain(account.pause),
    "resume": _plain(account.resume),
    "stop": _plain(account.start_stop),
    "delete": _plain(account.start_delete),
    "export": _plain(data_export.send_export),
    "timezone": _plain(account.start_timezone),
    "quiet": quiet.run,
    "phone": sms_number.run,
}


async def idle_menu(turn: Turn) -> Reply:
    """Returns what a patient with no question open is offered, by their status."""
    status = turn.patient.status
    if status is PatientStatus.PAUSED:
        return Reply(turn.t("idle_paused"), (Option("cmd:resume", turn.t("resume_option")),))
    if status is PatientStatus.STOPPED:
        return Reply(turn.t("idle_stopped"), (Option("cmd:resume", turn.t("resume_option")),))
    options = tuple(
        Option(f"cmd:{name}", turn.t(f"menu_{name}")) for name in ("next", "done", "reschedule", "help")
    )
    return Reply(turn.t("menu"), options)
