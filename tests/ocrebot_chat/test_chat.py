"""`ocrebot chat`: the loop fed line by line on both databases, and the command run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine
from bot.terminal import chat_loop, terminal_address
from care.clock import FakeClock
from care.plan import load_plan
from ocrebot.settings import Settings
from storage.migrate import upgrade

SETTING_NAMES = [name.upper() for name in Settings.model_fields]
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def feeder(lines: list[str]) -> tuple[Iterator[str], Callable[[], Awaitable[str | None]]]:
    """Returns the lines not read yet, and a `read_line` that hands them out, then None (end of input)."""
    remaining = iter(lines)

    async def read_line() -> str | None:
        return next(remaining, None)

    return remaining, read_line


async def test_the_terminal_chat_signs_up_with_numbers_and_commands(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    dialog = DialogEngine(
        sessions, load_plan(), FakeClock(START), default_timezone="UTC", default_language="en"
    )
    script = ["1", "Ana", "Madrid", "1", "1", "3", "3 June", "12 March 9:30", "", "Hospital", "1", "1",
              "/next", "/calendar", "quit", "never read"]  # fmt: skip
    remaining, read_line = feeder(script)
    output: list[str] = []
    code = await chat_loop(
        dialog,
        terminal_address("ana"),
        read_line=read_line,
        write=output.append,
        attachments_dir=tmp_path / "files",
    )
    text = "".join(output)
    assert code == 0
    assert "  1. Yes, I agree\n  2. No, thanks\n  3. Español" in text
    assert "Nice to meet you, Ana!" in text and "You're all set, Ana!" in text
    assert "Your next appointment: Fri, 12 Mar 2027, 09:30, at Hospital." in text
    saved = tmp_path / "files" / "ocrevus-appointments.ics"
    assert f"[saved {saved}]" in text and saved.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert next(remaining) == "never read"  # `quit` ended the chat


async def test_end_of_input_ends_the_chat_cleanly(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    dialog = DialogEngine(
        sessions, load_plan(), FakeClock(START), default_timezone="UTC", default_language="es"
    )
    _, read_line = feeder([])
    output: list[str] = []
    code = await chat_loop(
        dialog, "terminal:x", read_line=read_line, write=output.append, attachments_dir=tmp_path
    )
    assert code == 0 and "¿Estás de acuerdo?" in "".join(output)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The command's environment: none of the caller's settings, a SQLite file under tmp_path."""
    env = {key: value for key, value in os.environ.items() if key.upper() not in SETTING_NAMES}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'ocrebot.db'}"
    return env


def run_chat(env: dict[str, str], cwd: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "ocrebot.chat_cli", *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_unmigrated_database_is_one_line_and_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_chat(cli_env, tmp_path, "")
    assert result.returncode == 2
    assert result.stderr == "ocrebot chat: the database is not migrated: run `ocrebot migrate` first\n"


def test_the_command_resumes_each_terminal_users_conversation(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    upgrade(cli_env["DATABASE_URL"])
    first = run_chat(cli_env, tmp_path, "1\nAna\n", "--as", "ana")
    assert first.returncode == 0, first.stderr
    assert "Do you agree?" in first.stdout and "Nice to meet you, Ana!" in first.stdout
    again = run_chat(cli_env, tmp_path, "", "--as", "ana")  # a new process: the conversation goes on
    assert again.returncode == 0 and "city or country" in again.stdout and "Do you agree?" not in again.stdout
    other = run_chat(cli_env, tmp_path, "quit\n", "--as", "bea", "--language", "es")
    assert other.returncode == 0 and "¿Estás de acuerdo?" in other.stdout
