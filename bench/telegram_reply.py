"""Benchmark of Telegram reply latency: an update pushed to the fake Bot API -> the first sendMessage back.

Runs the real `TelegramChannel` (python-telegram-bot, polling) and the real `DialogEngine` on a database
against the loopback fake (tests/fakes/telegram_api.py), and signs patients up: every answer is one
measured message. `--parallel 1` (the default) times replies one at a time; a higher figure has that many
patients talking at once, so queueing shows. Prints one JSON object; nothing is asserted. The database is a
temporary SQLite file unless `BENCH_DATABASE_URL` is set (its `public` schema is dropped first on
PostgreSQL): `BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python -m bench telegram`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from sqlalchemy import text

from care.clock import FakeClock
from care.plan import load_plan
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from tests.bot.dialog.helpers import START
from tests.bot.telegram_e2e.harness import Bot, SignUp, User, sign_up_as
from tests.fakes.telegram_api import FakeTelegram

STEPS_PER_SIGN_UP = 12
TARGETS = {"reply_p50_ms": 100.0, "reply_p99_ms": 500.0}


async def _reset(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _run(url: str, messages: int, parallel: int) -> dict[str, Any]:
    await _reset(url)
    await upgrade_async(url)
    engine = create_engine(url)
    fake = FakeTelegram(overall_per_s=10_000, overall_burst=1_000, chat_per_s=100, chat_burst=20)
    await fake.start()
    bot = Bot(fake, session_factory(engine), load_plan(), FakeClock(START), overall_per_s=10_000, wait_s=120)
    try:
        await bot.start()
        patients = max(parallel, -(-messages // STEPS_PER_SIGN_UP))
        users: list[User] = []

        async def lane(lane_index: int) -> None:
            for index in range(lane_index, patients, parallel):
                signup = SignUp(index)
                user = bot.user(signup.chat_id, signup.language)
                users.append(user)
                await sign_up_as(user, signup)

        started = time.perf_counter()
        await asyncio.gather(*(lane(index) for index in range(parallel)))
        elapsed_s = time.perf_counter() - started
    finally:
        await bot.stop()
        await fake.stop()
        await engine.dispose()
    latencies_ms = sorted(latency * 1000 for user in users for latency in user.latencies_s)
    return {
        "benchmark": "telegram_reply",
        "database": url.split("+", 1)[0].split(":", 1)[0],
        "parallel": parallel,
        "messages": len(latencies_ms),
        "reply_p50_ms": round(statistics.median(latencies_ms), 1),
        "reply_p99_ms": round(latencies_ms[max(0, int(len(latencies_ms) * 0.99) - 1)], 1),
        "reply_max_ms": round(latencies_ms[-1], 1),
        "messages_per_s": round(len(latencies_ms) / elapsed_s, 1),
        "rate_limited_429": fake.rate_limited,
        "errors": len(bot.errors),
        "targets": TARGETS,
    }


def main(argv: list[str]) -> dict[str, Any]:
    """Runs the benchmark with `argv` options and returns its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench telegram")
    parser.add_argument("--messages", type=int, default=200, help="about how many replies to time")
    parser.add_argument("--parallel", type=int, default=1, help="patients talking at the same time")
    options = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return asyncio.run(_run(url, options.messages, options.parallel))
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_run(f"sqlite+aiosqlite:///{folder}/bench.db", options.messages, options.parallel))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))  # noqa: T201
