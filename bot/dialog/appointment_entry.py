"""Asking for an appointment's date and time, with the label's checks, for sign-up and for /reschedule.

Owns the three steps (date, time if it was missing, confirm a warning) and their rules: a past, impossible
or out-of-window date gets its reason and is asked again; one that breaks a dosing rule (fewer than 5 months
since the last dose, Infusion 2 not two weeks after Infusion 1) is accepted only after the patient confirms
it with a prompt to check with their clinic (`care.appointment_check`, facts 1, 25). The flow using the
steps supplies what the checks need and what to do with the accepted date.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dialog.dates import DateParseError, DateProblem, parse_time, parse_when, reads_month_first
from bot.dialog.events import Reply
from bot.dialog.schedule_view import format_day, format_when
from bot.dialog.turn import Answer, Step, Turn
from care.appointment_check import (
    INFUSION_2_GAP_DAYS,
    ScheduleError,
    ScheduleIssue,
    ScheduleWarning,
    check_appointment,
)
from care.formulation import Formulation
from care.wall_clock import resolve_wall

DATE, TIME, WARNING = "appointment", "appointment_time", "appointment_warning"
NO_DATE = "no_date"
KEEP, CHANGE = "keep", "change"


@dataclass(frozen=True)
class Booking:
    """What a flow gives the appointment steps.

    context: the formulation and the given-dose instants the checks need.
    accept: what to do with the accepted start (None: the patient has no date yet; sign-up only).
    ask: the date question, with its options.
    """

    context: Callable[[Turn], Awaitable[tuple[Formulation, list[datetime]]]]
    accept: Callable[[Turn, datetime | None], Awaitable[None]]
    ask: Callable[[Turn], Awaitable[Reply]]


@dataclass(frozen=True)
class Assessment:
    """What a typed appointment gives: a start (and its warnings), a day without its time, or why not."""

    starts_at: datetime | None = None
    day: date | None = None
    problem: DateProblem | None = None  # no usable date in the text
    error: ScheduleError | None = None  # a date the label's checks refuse
    warnings: tuple[ScheduleWarning, ...] = ()


def assess(
    text: str,
    *,
    formulation: Formulation,
    given: Sequence[datetime],
    tz: ZoneInfo,
    now: datetime,
    month_first: bool,
) -> Assessment:
    """Reads an appointment from `text` and checks it against the label's rules."""
    try:
        parsed = parse_when(text, today=now.astimezone(tz).date(), month_first=month_first)
    except DateParseError as exc:
        return Assessment(problem=exc.problem)
    if parsed.at is None:
        return Assessment(day=parsed.day)
    return check_start(
        resolve_wall(parsed.day, parsed.at, tz), formulation=formulation, given=given, tz=tz, now=now
    )


def check_start(
    starts_at: datetime, *, formulation: Formulation, given: Sequence[datetime], tz: ZoneInfo, now: datetime
) -> Assessment:
    """Checks a start against the label's rules (`care.appointment_check`)."""
    try:
        warnings = check_appointment(formulation, given, starts_at, tz, now)
    except ScheduleError as exc:
        return Assessment(starts_at=starts_at, error=exc)
    return Assessment(starts_at=starts_at, warnings=tuple(warnings))


def appointment_steps(booking: Booking) -> dict[str, Step]:
    """Returns the steps of entering an appointment, for a flow's step table."""

    async def handle_date(turn: Turn, answer: Answer) -> None:
        if answer.option == NO_DATE:
            await booking.accept(turn, None)
            return
        formulation, given = await booking.context(turn)
        found = assess(
            answer.text or "", formulation=formulation, given=given, tz=turn.tz, now=turn.now,
            month_first=month_first(turn),
        )  # fmt: skip
        if found.problem is not None:
            turn.notes.append(date_problem_text(turn, found.problem))
            await turn.ask()
        elif found.day is not None:
            turn.remember(proposed_day=found.day.isoformat())
            turn.go(turn.flow, TIME)
            await turn.ask()
        else:
            await _settle(turn, booking, found, given)

    async def ask_time(turn: Turn) -> Reply:
        day = date.fromisoformat(turn.data["proposed_day"])
        return Reply(turn.t("ask_appointment_time", day=format_day(turn, day)))

    async def handle_time(turn: Turn, answer: Answer) -> None:
        text = answer.text or ""
        try:
            parsed = parse_when(text, today=local_today(turn), month_first=month_first(turn))
            day, at = parsed.day, parsed.at
        except DateParseError:
            day, at = date.fromisoformat(turn.data["proposed_day"]), None
        try:
            at = at or parse_time(text)
        except DateParseError:
            at = None
        if at is None:
            turn.note("time_unreadable")
            await turn.ask()
            return
        formulation, given = await booking.context(turn)
        starts_at = resolve_wall(day, at, turn.tz)
        found = check_start(starts_at, formulation=formulation, given=given, tz=turn.tz, now=turn.now)
        await _settle(turn, booking, found, given)

    async def ask_warning(turn: Turn) -> Reply:
        proposed = datetime.fromisoformat(turn.data["proposed"])
        formulation, given = await booking.context(turn)
        warnings = check_appointment(formulation, given, proposed, turn.tz, turn.now)
        lines = [_warning_text(turn, warning, proposed, given) for warning in warnings]
        lines.append(turn.t("warn_confirm", when=format_when(turn, proposed)))
        options = (turn.option(KEEP, "warn_keep"), turn.option(CHANGE, "warn_change"))
        return Reply("\n\n".join(lines), options)

    async def handle_warning(turn: Turn, answer: Answer) -> None:
        if answer.option == KEEP:
            proposed = datetime.fromisoformat(turn.data["proposed"])
            turn.remember(proposed=None, proposed_day=None)
            await booking.accept(turn, proposed)
            return
        turn.remember(proposed=None, proposed_day=None)
        turn.go(turn.flow, DATE)
        await turn.ask()

    return {
        DATE: Step(booking.ask, handle_date, numbered=False),
        TIME: Step(ask_time, handle_time, numbered=False),
        WARNING: Step(ask_warning, handle_warning, choice_only=True),
    }


def local_today(turn: Turn) -> date:
    """Returns today's date on the patient's wall clock."""
    return turn.now.astimezone(turn.tz).date()


def month_first(turn: Turn) -> bool:
    """Tells whether the patient writes numeric dates month first (en-US)."""
    return reads_month_first(turn.lang, turn.patient.country)


def date_problem_text(turn: Turn, problem: DateProblem) -> str:
    """Returns why a text gave no date, with an example."""
    key = {
        DateProblem.IMPOSSIBLE: "date_impossible",
        DateProblem.NO_DATE: "date_no_date",
        DateProblem.UNREADABLE: "date_unreadable",
    }[problem]
    return turn.t(key, example=turn.t("date_example"))


async def _settle(turn: Turn, booking: Booking, found: Assessment, given: list[datetime]) -> None:
    """Accepts a checked start, asks to confirm its warnings, or says why it cannot be and asks again."""
    proposed = found.starts_at
    assert proposed is not None
    if found.error is not None:
        turn.notes.append(_error_text(turn, found.error, proposed, given))
        turn.remember(proposed=None, proposed_day=None)
        turn.go(turn.flow, DATE)
        await turn.ask()
    elif found.warnings:
        turn.remember(proposed=proposed.isoformat(), proposed_day=None)
        turn.go(turn.flow, WARNING)
        await turn.ask()
    else:
        turn.remember(proposed=None, proposed_day=None)
        await booking.accept(turn, proposed)


def _error_text(turn: Turn, error: ScheduleError, proposed: datetime, given: list[datetime]) -> str:
    if error.code is ScheduleIssue.IN_PAST:
        return turn.t("error_in_past", when=format_when(turn, proposed))
    if error.code is ScheduleIssue.NOT_AFTER_LAST_DOSE:
        return turn.t(
            "error_not_after_last_dose", last=format_day(turn, given[-1].astimezone(turn.tz).date())
        )
    return turn.t("error_beyond_window")


def _warning_text(turn: Turn, warning: ScheduleWarning, proposed: datetime, given: list[datetime]) -> str:
    if warning.code is ScheduleIssue.INFUSION_2_NOT_14_DAYS:
        first = given[0].astimezone(turn.tz).date()
        return turn.t(
            "warn_infusion_2_not_14_days",
            expected=format_day(turn, first + timedelta(days=INFUSION_2_GAP_DAYS)),
            days=(proposed.astimezone(turn.tz).date() - first).days,
        )
    return turn.t(
        "warn_under_minimum_interval",
        when=format_day(turn, proposed.astimezone(turn.tz).date()),
        last=format_day(turn, given[-1].astimezone(turn.tz).date()),
    )
