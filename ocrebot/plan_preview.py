"""`ocrebot plan preview`: shows the projected doses and every message the reminder plan would send.

Owns the command's arguments and its two outputs (a table for people, JSON for tools). It uses only `care`
and the standard library: no settings, database or network, so it runs anywhere. Bad arguments print one line
on stderr naming the argument, and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from care.dose_schedule import Formulation, ProjectedDose, expected_duration, project_doses
from care.message_schedule import Appointment, PlannedMessage, schedule_messages
from care.plan import PlanError, load_plan
from care.plan_fields import format_duration
from care.quiet_hours import QuietHours
from care.wall_clock import resolve_wall

EXIT_USAGE = 2
PROG = "ocrebot plan preview"


class OneLineArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Prints `prog: error: message` and exits 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Registers `plan preview` on an argparse subparsers object and returns the `preview` parser."""
    plan = subparsers.add_parser(
        "plan", help="inspect the reminder plan", description="Inspect the reminder plan."
    )
    plan.set_defaults(func=lambda args: _usage(plan))
    actions = plan.add_subparsers(dest="plan_command", metavar="ACTION", parser_class=OneLineArgumentParser)
    preview: argparse.ArgumentParser = actions.add_parser(
        "preview",
        help="show the projected doses and every scheduled message",
        description="Show the doses projected from the label and every message the plan would send for them.",
    )
    preview.add_argument(
        "--formulation",
        required=True,
        choices=[f.value for f in Formulation],
        help="iv (infusion) or sc (under-the-skin injection)",
    )
    preview.add_argument(
        "--first-dose",
        required=True,
        type=_local_datetime,
        metavar="YYYY-MM-DDTHH:MM",
        help="the first dose, as a wall-clock time in --tz",
    )
    preview.add_argument(
        "--tz", required=True, type=_zone, metavar="ZONE", help="IANA time zone, e.g. Europe/London"
    )
    preview.add_argument(
        "--doses-given",
        type=_count(0),
        default=0,
        metavar="N",
        help="how many doses were already given, on schedule (default 0)",
    )
    preview.add_argument(
        "--count", type=_count(1), default=4, metavar="K", help="how many doses to show in all (default 4)"
    )
    preview.add_argument(
        "--quiet-hours",
        type=_quiet_hours,
        metavar="HH:MM-HH:MM",
        help="override the plan's quiet hours, e.g. 22:00-07:30",
    )
    preview.add_argument("--plan", metavar="PATH", help="a reminder plan file (default: the built-in plan)")
    preview.add_argument("--json", action="store_true", help="print JSON instead of tables")
    preview.set_defaults(func=run)
    return preview


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `ocrebot plan preview ...` without the rest of the CLI (for tests) and returns the exit code."""
    parser = OneLineArgumentParser(prog="ocrebot")
    add_parser(parser.add_subparsers(dest="command", metavar="COMMAND"))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "func", None) is None:
        return _usage(parser)
    return int(args.func(args))


def run(args: argparse.Namespace) -> int:
    """Prints the preview for parsed arguments and returns the exit code."""
    tz: ZoneInfo = args.tz
    formulation = Formulation(args.formulation)
    if args.doses_given > args.count:
        return _fail(
            f"argument --doses-given: must not exceed --count ({args.count}), got {args.doses_given}"
        )
    try:
        plan = load_plan(args.plan)
    except PlanError as exc:
        return _fail(f"argument --plan: {exc}")
    first: datetime = args.first_dose
    first = first.astimezone(UTC) if first.tzinfo else resolve_wall(first.date(), first.time(), tz)
    on_schedule = project_doses(formulation, first, [], args.doses_given, tz)
    doses = project_doses(formulation, first, [dose.due_at for dose in on_schedule], args.count, tz)
    appointments = [
        Appointment(dose.number, dose.kind, dose.due_at, expected_duration(formulation, dose.number))
        for dose in doses
        if dose.given_at is None
    ]
    last_dose_at = on_schedule[-1].due_at if on_schedule else None
    quiet = args.quiet_hours or plan.quiet_hours
    messages = schedule_messages(plan, appointments, last_dose_at, tz, quiet)
    if args.json:
        sys.stdout.write(json.dumps(_as_json(formulation, tz, quiet, doses, messages), indent=2) + "\n")
    else:
        sys.stdout.write(_as_tables(formulation, tz, quiet, doses, messages))
    return 0


def _as_json(
    formulation: Formulation,
    tz: ZoneInfo,
    quiet: QuietHours,
    doses: list[ProjectedDose],
    messages: list[PlannedMessage],
) -> dict[str, Any]:
    return {
        "formulation": formulation.value,
        "tz": tz.key,
        "quiet_hours": str(quiet),
        "doses": [
            {
                "number": dose.number,
                "kind": dose.kind.value,
                "amount_mg": dose.amount_mg,
                "due_at": _utc(dose.due_at),
                "due_local": dose.due_at.astimezone(tz).isoformat(),
                "given_at": None if dose.given_at is None else _utc(dose.given_at),
                "expected_minutes": int(
                    expected_duration(formulation, dose.number).total.total_seconds() // 60
                ),
            }
            for dose in doses
        ],
        "messages": [
            {
                "touchpoint_id": message.touchpoint_id,
                "kind": message.kind.value,
                "dose_number": message.dose_number,
                "due_at": _utc(message.due_at),
                "due_local": message.local_due_at.isoformat(),
                "catch_up_until": _utc(message.catch_up_until),
                "dedupe_key": message.dedupe_key,
            }
            for message in messages
        ],
    }


def _as_tables(
    formulation: Formulation,
    tz: ZoneInfo,
    quiet: QuietHours,
    doses: list[ProjectedDose],
    messages: list[PlannedMessage],
) -> str:
    lines = [
        f"Doses ({formulation.value}, {tz.key}); suggested from the label, the clinic's date is the truth"
    ]
    lines.append(
        f"  {'#':>2}  {'dose':<28} {'mg':>4}  {'due (local)':<22} {'due (UTC)':<18} {'lasts':<6} status"
    )
    for dose in doses:
        lasts = format_duration(expected_duration(formulation, dose.number).total)
        status = "given" if dose.given_at is not None else "projected"
        lines.append(
            f"  {dose.number:>2}  {dose.kind.value:<28} {dose.amount_mg:>4}  {_local(dose.due_at, tz):<22} "
            f"{_utc_short(dose.due_at):<18} {lasts:<6} {status}"
        )
    lines += ["", f"Messages ({len(messages)}; quiet hours {quiet or 'none'})"]
    lines.append(f"  {'due (local)':<22} {'due (UTC)':<18} {'dose':>4}  {'touchpoint':<22} kind")
    for message in messages:
        number = "-" if message.dose_number is None else str(message.dose_number)
        lines.append(
            f"  {_local(message.due_at, tz):<22} {_utc_short(message.due_at):<18} {number:>4}  "
            f"{message.touchpoint_id:<22} {message.kind.value}"
        )
    return "\n".join(lines) + "\n"


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _utc_short(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    return EXIT_USAGE


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return EXIT_USAGE


def _local_datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date and time like 2027-01-04T09:00, got {text!r}"
        ) from None


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r}; use an IANA name like Europe/London"
        ) from None


def _count(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return parse


def _quiet_hours(text: str) -> QuietHours:
    try:
        return QuietHours.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
