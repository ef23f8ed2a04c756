"""Helpers for the reliability tests: due rows seeded in bulk, worker processes, waiting for a condition.

The database fixtures (`database_url`, `sessions`) come from tests/conftest.py: a file SQLite database and,
with TEST_DATABASE_URL, PostgreSQL. Workers are `python -m tests.reliability.worker` processes sending to a
`FakeTelegram` served by the test on loopback.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Channel,
    ChannelAddress,
    Language,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.reliability.worker import TEXT_PREFIX

ROOT = Path(__file__).resolve().parents[2]
FIRST_CHAT = 800_000_000


async def seed_due(sessions: async_sessionmaker[AsyncSession], count: int) -> list[int]:
    """Adds `count` active patients with a Telegram chat and one message each, due a minute ago."""
    now = datetime.now(UTC)
    async with sessions() as session:
        for first in range(0, count, 2_000):
            ids = range(first + 1, min(first + 2_000, count) + 1)
            await session.execute(insert(Patient), [_patient(i, now) for i in ids])
            await session.execute(
                insert(ChannelAddress),
                [
                    {
                        "patient_id": i,
                        "channel": Channel.TELEGRAM,
                        "address": str(FIRST_CHAT + i),
                        "state_changed_at": now,
                    }
                    for i in ids
                ],
            )
            await session.execute(
                insert(ScheduledMessage),
                [
                    {
                        "patient_id": i,
                        "kind": "one_off",
                        "due_at": now - timedelta(minutes=1),
                        "status": MessageStatus.PENDING,
                        "attempts": 0,
                        "dedupe_key": f"reliability:{i}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            await session.commit()
        found = list(await session.scalars(select(ScheduledMessage.id).order_by(ScheduledMessage.id)))
        await session.commit()
    return found


def _patient(i: int, now: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "language": Language.EN,
        "timezone": "Europe/Madrid",
        "status": PatientStatus.ACTIVE,
        "sandbox": False,
        "sms_consent": False,
        "created_at": now,
        "updated_at": now,
    }


async def stored_rows(sessions: async_sessionmaker[AsyncSession]) -> list[ScheduledMessage]:
    """Every outbox row as stored now."""
    async with sessions() as session:
        rows = list(await session.scalars(select(ScheduledMessage).order_by(ScheduledMessage.id)))
        await session.commit()
    return rows


def received(fake: FakeTelegram) -> Counter[int]:
    """How many times the fake accepted each row's message (the row id is in the text)."""
    return Counter(int(str(params["text"]).removeprefix(TEXT_PREFIX)) for params in fake.sent)


async def eventually(condition: Callable[[], bool], timeout_s: float) -> None:
    """Waits, in small steps, until `condition()` holds."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polls state another process changes
            await asyncio.sleep(0.02)


@pytest.fixture
async def fake_fast() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API with limits far above what the tests send, so only the behaviour under test shows."""
    server = FakeTelegram(overall_per_s=100_000, overall_burst=100_000, chat_per_s=100, chat_burst=10)
    await server.start()
    yield server
    await server.stop()


class Workers:
    """Starts worker processes and kills whatever is left at the end of the test."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.started: list[asyncio.subprocess.Process] = []

    async def start(
        self, name: str, database_url: str, fake: FakeTelegram, *options: str
    ) -> asyncio.subprocess.Process:
        """Starts `python -m tests.reliability.worker` as `name`, its output in the test's folder."""
        log = (self._folder / f"{name}.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reliability.worker",
            "--database-url",
            database_url,
            "--base-url",
            fake.base_url,
            "--token",
            fake.token,
            "--worker-id",
            name,
            *options,
            cwd=ROOT,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        log.close()
        self.started.append(process)
        return process

    def output(self, name: str) -> str:
        """What the worker printed (for a failing assertion's message)."""
        return (self._folder / f"{name}.log").read_text(errors="replace")[-4000:]

    async def kill_all(self) -> None:
        """Kills the workers still running and reaps them."""
        for process in self.started:
            if process.returncode is None:
                process.kill()
            await process.wait()


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[Workers]:
    pool = Workers(tmp_path)
    yield pool
    await pool.kill_all()
