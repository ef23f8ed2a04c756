"""Routing one event: an invite code, a command, a check-in answer, an answer to the open question, or the
idle menu.

Owns the table of flows and their steps, the order of checks on an answer (usable input, a current option,
one of the options where only a choice will do) and asking the current question again. An input that
cannot be used changes nothing. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog import account, answers, checkins, commands, dose_commands, invites, learn, signup, sms_number
from bot.dialog.turn import Step, Turn
from storage.models import Channel, PatientStatus

FLOWS: dict[str, dict[str, Step]] = {
    signup.FLOW: signup.STEPS,
    dose_commands.DONE: dose_commands.DONE_STEPS,
    dose_commands.RESCHEDULE: dose_commands.RESCHEDULE_STEPS,
    account.STOP: account.STOP_STEPS,
    account.DELETE: account.DELETE_STEPS,
    account.TIMEZONE: account.TIMEZONE_STEPS,
    checkins.FLOW: checkins.STEPS,
    sms_number.FLOW: sms_number.STEPS,
}


def current_step(turn: Turn) -> Step | None:
    """Returns the step the conversation is at, or None when idle (or at a step this code no longer has)."""
    return FLOWS.get(turn.flow, {}).get(turn.step_name)


async def ask_current(turn: Turn) -> None:
    """Sends the current question, or the idle menu."""
    step = current_step(turn)
    reply = await (step.ask(turn) if step is not None else commands.idle_menu(turn))
    turn.send(reply.text, reply.options, reply.attachment, reply.ask_contact)


async def route(turn: Turn) -> None:
    """Takes one step of the conversation for the turn's event."""
    event = turn.event
    if event.start_payload:
        await invites.redeem(turn, event.start_payload)
        return
    command = answers.command_of(event)
    if command is not None:
        await commands.run(turn, command)
        return
    if await checkins.take(turn):  # a check-in's button, or own words while one is open
        return
    step = current_step(turn)
    idle = step is None and turn.patient.status is not PatientStatus.SIGNING_UP
    if await checkins.unprompted(turn, idle=idle):  # "I can't breathe", whatever was asked: safety first
        return
    if step is None and turn.patient.status is PatientStatus.SIGNING_UP:
        await signup.begin(turn, {})  # first contact, or a sign-up whose step no longer exists
        return
    issue = answers.problem(event, step)
    if step is None:
        if issue is None and _sms_already_on(turn):  # YES again from a number that already said it
            turn.say("sms_already_on")
            return
        if issue is None and await learn.pick_by_number(turn):  # "2" by SMS after a list of topics
            return
        if issue is None and event.text and learn.answer_question(turn, answers.clean(event.text)):
            return  # a question in words while nothing is asked: the education library answers
        turn.note(issue or "not_understood")
        await turn.ask()
        return
    if issue is not None:
        turn.note(issue)
        await turn.ask()
        return
    question = await step.ask(turn)
    keys = {option.key for option in question.options}
    if event.option is not None and event.option not in keys:
        turn.note("stale_option")
        await turn.ask()
        return
    answer = answers.read(event, question.options, step)
    if step.choice_only and answer.option not in keys:
        turn.note("choose_option")
        await turn.ask()
        return
    await step.handle(turn, answer)


def _sms_already_on(turn: Turn) -> bool:
    event = turn.event
    return event.channel is Channel.SMS and turn.patient.sms_consent and answers.is_bare_yes(event.text)
