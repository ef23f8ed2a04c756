"""`FakeTelegram` served from a process of its own, for the burst benchmark.

The fake keeps a log of every call; served from a thread of the benchmark's process, that log and every
request it parses sat in the same heap as the bot, and the bot's garbage-collector pauses walked them too.
In its own process the bot's pauses are the bot's alone.

Protocol, one line of text each way: the process prints `ready <port> <token>` once it listens, then
`<status> <chat_id> <monotonic seconds>` for every sendMessage it answered (CLOCK_MONOTONIC is one clock for
every process of the machine, so the benchmark compares these stamps with its own). It reads
`text <chat_id> <text>` on stdin (a private message for getUpdates); at the end of stdin it stops, prints
`done <429s answered> <calls>` and exits. `FakeTelegramProcess` is the benchmark's side.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from tests.fakes.telegram_api import Call, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


class FakeTelegramProcess:
    """Starts the fake in a child process and relays what it answered to `on_send(status, chat_id, at)`."""

    def __init__(self, on_send: Callable[[int, int, float], None], **limits: float) -> None:
        self._on_send = on_send
        self._limits = limits
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.token = ""
        self.port = 0
        self.rate_limited = 0
        self.calls = 0

    @property
    def base_url(self) -> str:
        """What to give PTB as `base_url`."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Starts the process and waits until it listens."""
        limits = [f"--{name.replace('_', '-')}={value}" for name, value in self._limits.items()]
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.telegram_process",
            *limits,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        words = (await asyncio.wait_for(self._process.stdout.readline(), 30)).decode().split()
        if len(words) != 3 or words[0] != "ready":
            raise RuntimeError(f"the fake Telegram process did not start: {self._process.returncode=}")
        self.port, self.token = int(words[1]), words[2]
        self._reader = asyncio.create_task(self._read())

    def push_text(self, chat_id: int, text: str) -> None:
        """Queues a private text message from `chat_id` (one line, no newline in `text`)."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"text {chat_id} {text}\n".encode())

    async def stop(self) -> None:
        """Ends the process and waits for its last lines."""
        if self._process is None or self._process.stdin is None:
            return
        self._process.stdin.close()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 30)
        await asyncio.wait_for(self._process.wait(), 30)

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            first, second, third = line.split()
            if first == b"done":
                self.rate_limited, self.calls = int(second), int(third)
                return
            self._on_send(int(first), int(second), float(third))


async def _serve(fake: FakeTelegram) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    out = sys.stdout

    def relay(call: Call) -> None:
        if call.method == "sendMessage":
            out.write(f"{call.status} {call.params.get('chat_id')} {call.at!r}\n")
            out.flush()

    def command(line: str) -> None:
        kind, chat, text = line.rstrip("\n").split(" ", 2)
        if kind == "text":
            fake.push_text(int(chat), text)

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(command, line)
        loop.call_soon_threadsafe(stop.set)

    fake.watchers.append(relay)
    await fake.start()
    out.write(f"ready {fake.port} {fake.token}\n")
    out.flush()
    threading.Thread(target=read_stdin, name="commands", daemon=True).start()
    await stop.wait()
    await fake.stop()
    out.write(f"done {fake.rate_limited} {len(fake.calls)}\n")
    out.flush()


def main() -> None:
    """Serves until stdin ends."""
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_process")
    parser.add_argument("--overall-per-s", type=float, default=30)
    parser.add_argument("--overall-burst", type=float, default=30)
    parser.add_argument("--chat-per-s", type=float, default=1)
    parser.add_argument("--chat-burst", type=float, default=3)
    args = parser.parse_args()
    fake = FakeTelegram(
        overall_per_s=args.overall_per_s,
        overall_burst=args.overall_burst,
        chat_per_s=args.chat_per_s,
        chat_burst=args.chat_burst,
    )
    asyncio.run(_serve(fake))


if __name__ == "__main__":
    main()
