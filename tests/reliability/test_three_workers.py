"""Three `ocrebot run --role worker` processes on PostgreSQL; the Telegram poller is killed -9 mid-burst.

Issue 8: every message is sent once, and the poller role moves to another process. The processes are the
real console script with production settings (leader tick 10 s, lease 120 s, batch 100) against the fake
Bot API; the test reads which process polls from its JSON log. The dead worker's last batch stays claimed
(its lease outlives the test): those rows were sent at most once and are never resent. PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import time as wall
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ocrebot.settings import Settings
from storage.models import MessageStatus, Patient, ScheduledMessage
from tests.fakes.telegram_api import FakeTelegram
from tests.ocrebot.conftest import OCREBOT, free_port
from tests.reliability.conftest import FIRST_CHAT, eventually, seed_due, stored_rows

ROWS = 900
BATCH = 100  # the dispatcher's default batch: what one process holds at a time
KILL_AFTER = 300  # sent messages before the kill: mid-burst
TAKEOVER_S = 30
LOCK_TAKEN = "now holds lock"
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


class Fleet:
    """Three worker processes, each with its own log file; kills what is left at the end."""

    def __init__(self, folder: Path, database_url: str, fake: FakeTelegram) -> None:
        env = {key: value for key, value in os.environ.items() if key.upper() not in SETTING_NAMES}
        self._env = env | {
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
        }
        self._folder = folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        with (self._folder / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our console script
                [OCREBOT, "run", "--role", "worker"],
                env=self._env | {"HTTP_PORT": str(free_port())},
                cwd=self._folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self, name: str) -> str:
        return (self._folder / f"{name}.log").read_text(errors="replace")

    def events(self, name: str) -> list[str]:
        """The `event` of each JSON log line the process wrote so far."""
        return [json.loads(line)["event"] for line in self.log(name).splitlines() if line.startswith("{")]

    def pollers(self) -> list[str]:
        """The processes that took the Telegram poller lock, in no particular order."""
        return [name for name in self.processes if any(LOCK_TAKEN in e for e in self.events(name))]

    def worker_id(self, name: str) -> str:
        """The id the process's dispatcher writes in `claimed_by` (as `ocrebot.services` makes it)."""
        return f"{socket.gethostname()}:{self.processes[name].pid}"[:64]

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(overall_per_s=100_000, overall_burst=100_000, chat_per_s=100, chat_burst=10)
    await server.start()
    yield server
    await server.stop()


@pytest.mark.timeout(150)
async def test_three_workers_send_every_message_once_and_the_poller_role_moves_when_its_holder_dies(
    database_url: str, sessions: async_sessionmaker[AsyncSession], fake: FakeTelegram, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several worker processes are a PostgreSQL deployment; SQLite runs one process")
    ids = await seed_due(sessions, ROWS)
    async with sessions() as session:  # a check-in nudge renders from the patient alone
        await session.execute(update(ScheduledMessage).values(kind="check_in_nudge"))
        # No quiet hours (start == end): a nudge due at night waits for morning, whatever hour CI runs at.
        await session.execute(update(Patient).values(quiet_hours_start=wall(0), quiet_hours_end=wall(0)))
        await session.commit()

    fleet = Fleet(tmp_path, database_url, fake)
    try:
        for name in ("a", "b", "c"):
            fleet.start(name)
        await eventually(lambda: len(fleet.pollers()) == 1, timeout_s=60)
        [holder] = fleet.pollers()
        dead_id = fleet.worker_id(holder)
        await eventually(lambda: len(fake.sent) >= KILL_AFTER, timeout_s=60)
        assert len(fake.sent) < ROWS - BATCH, "the burst ended before the kill: nothing was in flight"
        fleet.processes[holder].kill()  # SIGKILL: no clean-up, its batch and its poller lock in flight
        fleet.processes[holder].wait()
        killed_at = time.monotonic()

        rest = [name for name in fleet.processes if name != holder]
        await eventually(lambda: any(name in fleet.pollers() for name in rest), timeout_s=TAKEOVER_S)
        takeover_s = time.monotonic() - killed_at
        polls_before = sum(call.method == "getUpdates" for call in fake.calls)
        await eventually(
            lambda: sum(call.method == "getUpdates" for call in fake.calls) > polls_before, timeout_s=15
        )

        async def settled() -> bool:
            rows = await stored_rows(sessions)
            return all(
                row.status is MessageStatus.SENT
                or (row.status is MessageStatus.CLAIMED and row.claimed_by == dead_id)
                for row in rows
            )

        async with asyncio.timeout(60):
            while not await settled():  # noqa: ASYNC110 - rows other processes change
                await asyncio.sleep(0.5)
    finally:
        fleet.stop_all()
        logs = {name: fleet.log(name)[-3000:] for name in fleet.processes}

    rows = await stored_rows(sessions)
    counts = Counter(int(params["chat_id"]) - FIRST_CHAT for params in fake.sent)
    assert sorted(row.id for row in rows) == ids
    assert max(counts.values()) == 1, [row_id for row_id, n in counts.items() if n > 1]
    held = [row for row in rows if row.status is not MessageStatus.SENT]
    assert len(held) <= BATCH, logs  # only the dead worker's batch is unaccounted for
    assert all(counts[row.patient_id] == 1 for row in rows if row.status is MessageStatus.SENT)
    assert set(counts) <= {row.patient_id for row in rows}
    assert ROWS - len(held) <= len(fake.sent) <= ROWS
    assert len({row.claimed_by for row in rows}) == 3, "all three processes sent"
    assert takeover_s < TAKEOVER_S, logs
    print(f"poller takeover {takeover_s:.1f} s; {len(held)} rows held by the killed worker")  # noqa: T201
