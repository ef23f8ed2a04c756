"""The terminal chat: a person plays a patient in a terminal, on channel `web`, one line at a time.

A channel adapter, so it only translates: a typed line becomes an `InboundEvent` (a number picks that
option of the last reply, "/next" and the like are commands), replies are printed with their options
numbered, and an attachment (the .ics calendar) is saved to a folder. Ctrl-D or `quit` ends the chat.
Knows no database and no rules. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.dialog import DialogEngine, InboundEvent, Reply
from bot.options import Option
from storage.models import Channel

QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit"})
PROMPT = "> "

ReadLine = Callable[[], Awaitable[str | None]]
Write = Callable[[str], None]


async def read_stdin_line() -> str | None:
    """Returns the next line typed on standard input, or None at end of input (Ctrl-D)."""
    line = await asyncio.to_thread(sys.stdin.readline)
    return line if line else None


def write_stdout(text: str) -> None:
    """Writes to standard output at once."""
    sys.stdout.write(text)
    sys.stdout.flush()


def terminal_address(name: str) -> str:
    """Returns the web address of a terminal user, like "terminal:ana"."""
    return f"terminal:{name}"


async def chat_loop(
    engine: DialogEngine,
    address: str,
    *,
    read_line: ReadLine = read_stdin_line,
    write: Write = write_stdout,
    attachments_dir: Path,
    language_hint: str | None = None,
) -> int:
    """Runs the chat until end of input or `quit`; returns the exit code (0)."""
    options = await _exchange(engine, address, "/start", None, write, attachments_dir, language_hint)
    while True:
        write(PROMPT)
        line = await read_line()
        if line is None:
            write("\n")
            return 0
        text = line.strip()
        if not text:
            continue
        if text.casefold() in QUIT_WORDS:
            return 0
        chosen = _chosen(text, options)
        options = await _exchange(
            engine, address, None if chosen else text, chosen, write, attachments_dir, language_hint
        )


def _chosen(text: str, options: Sequence[Option]) -> str | None:
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1].key
    return None


async def _exchange(
    engine: DialogEngine,
    address: str,
    text: str | None,
    option: str | None,
    write: Write,
    attachments_dir: Path,
    language_hint: str | None,
) -> tuple[Option, ...]:
    event = InboundEvent(Channel.WEB, address, text=text, option=option, language_hint=language_hint)
    replies = await engine.step(event)
    for reply in replies:
        write(render(reply, attachments_dir))
    return replies[-1].options if replies else ()


def render(reply: Reply, attachments_dir: Path) -> str:
    """Returns a reply as terminal text: the message, its options numbered, where a file was saved."""
    lines = [reply.text]
    lines += [f"  {number}. {option.label}" for number, option in enumerate(reply.options, start=1)]
    if reply.attachment is not None:
        attachments_dir.mkdir(parents=True, exist_ok=True)
        path = attachments_dir / Path(reply.attachment.filename).name
        path.write_bytes(reply.attachment.content)
        lines.append(f"  [saved {path}]")
    return "\n".join(lines) + "\n\n"
