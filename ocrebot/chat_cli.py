"""`ocrebot chat`: talk to the bot as a patient in this terminal, on the configured database.

Owns the command's arguments and its checks: settings read once, the database at the newest schema (else
one line on stderr and exit 2). Each terminal user is one patient (address `terminal:<os user>`);
`--as NAME` plays someone else. The lead registers `add_parser` in `ocrebot.cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.dialog import DialogEngine
from bot.terminal import chat_loop, terminal_address
from care.clock import SystemClock
from care.plan import PlanError, ReminderPlan, load_plan
from ocrebot.readiness import NotReady, ready_settings
from ocrebot.settings import Settings
from storage.db import create_engine, session_factory

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
PROG = "ocrebot chat"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Registers `chat` on an argparse subparsers object and returns its parser."""
    chat: argparse.ArgumentParser = subparsers.add_parser(
        "chat",
        help="talk to the bot as a patient in this terminal",
        description="Talk to the bot as a patient in this terminal (type a number to pick an option; "
        "/help lists the commands; Ctrl-D or quit ends).",
    )
    chat.add_argument("--as", dest="as_name", metavar="NAME", help="be someone else (another conversation)")
    chat.add_argument("--language", choices=["en", "es"], help="the language a new conversation starts in")
    chat.add_argument(
        "--save-dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where files such as the .ics go (default .)",
    )
    chat.set_defaults(func=run)
    return chat


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `ocrebot chat ...` without the rest of the CLI (for tests) and returns the exit code."""
    parser = argparse.ArgumentParser(prog="ocrebot")
    add_parser(parser.add_subparsers(dest="command", metavar="COMMAND"))
    args = parser.parse_args(["chat", *(argv or [])])
    return int(args.func(args))


def run(args: argparse.Namespace) -> int:
    """Checks the settings and the database, then chats until end of input; returns the exit code."""
    try:
        settings = ready_settings()
    except NotReady as exc:
        return _fail(str(exc))
    try:
        plan = load_plan(settings.reminder_plan_file)
    except PlanError as exc:
        return _fail(str(exc))
    address = terminal_address(args.as_name or _os_user())
    try:
        return asyncio.run(_chat(settings, plan, address, args.language, args.save_dir))
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return EXIT_INTERRUPTED


async def _chat(
    settings: Settings, plan: ReminderPlan, address: str, language: str | None, save_dir: Path
) -> int:
    engine = create_engine(settings.database_url)
    try:
        dialog = DialogEngine(
            session_factory(engine),
            plan,
            SystemClock(),
            default_timezone=settings.default_timezone,
            default_language=settings.default_language,
        )
        return await chat_loop(dialog, address, attachments_dir=save_dir, language_hint=language)
    finally:
        await engine.dispose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "user"


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: {message}\n")
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
