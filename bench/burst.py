"""Benchmark (a) of a burst: N messages due in the same second, sent under Telegram's limits.

Seeds N active patients with a Telegram chat and one due check-in each (the same appointment, so the same
due instant), then runs the real pieces as `ocrebot run` does: the `Dispatcher` with the `TelegramSender`
and the production renderer, woken by APScheduler through `jobs.wakeup`, and the python-telegram-bot
`Application` (`TelegramChannel` + `DialogEngine`) answering patients, all against `FakeTelegram`, which
enforces Telegram's limits (30 messages a second overall with a 30-message burst, 1 a second per chat with
a 3-message burst; its defaults, `telegram.constants.FloodLimit`). The fake runs in a process of its own
(`bench.telegram_process`), so the bot's loop and the bot's garbage-collector pauses are measured alone.

Measures while the burst runs: the longest stall of the bot's event loop (a 5 ms ticker's lateness), the
garbage collector's longest pause (wall time, and its CPU time, which a loaded machine does not inflate), the
outbox throughput against the 30/s limit, the 429s the fake answered, and the latency of a /help reply
(pushed to the fake, answered through polling, the dialog engine and sendMessage) from probe patients who
have no outbox row. Prints one JSON object; targets are reported beside the numbers, never asserted.
`python -m bench burst [--messages N] [--seconds-cap S] [--database-url URL]` (PostgreSQL: its `public`
schema is dropped and recreated). `--messages 60` is a smoke run of a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.telegram_process import FakeTelegramProcess
from bot.channels.telegram_in import TelegramChannel
from bot.channels.telegram_out import TelegramSender, create_bot
from bot.dialog.engine import DialogEngine
from care.formulation import Formulation, dose_kind
from care.plan import ReminderPlan, load_plan
from care.triage import load_policy
from jobs import wakeup
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from jobs.scheduler import create_scheduler
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import (
    Channel,
    ChannelAddress,
    Dose,
    DoseStatus,
    Language,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.plans import planned_for

LIMIT_PER_S = 30.0  # Telegram's bulk limit (Bots FAQ; FloodLimit.MESSAGES_PER_SECOND)
TARGETS = {
    "loop_stall_max_ms": "< 50",
    "throughput_ratio": ">= 0.95",
    "rate_limited_429": "== 0",
    "reply_p99_ms": "< 200",
}
APPOINTMENT = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # dose 3 for everyone: 10:00 in Madrid
TOUCHPOINT = "check_in_24_hours"  # a check-in: text and inline buttons, like most of a real burst
FIRST_CHAT = 700_000_000
PROBE_CHATS = 10
CHUNK = 2_000
TICK_S = 0.005


class OffsetClock:
    """The machine's clock moved by a fixed offset, so the burst's due instant is 'now' at the start."""

    def __init__(self, offset: timedelta) -> None:
        self._offset = offset

    def now(self) -> datetime:
        """Returns the machine's instant plus the offset, in UTC."""
        return datetime.now(UTC) + self._offset


@dataclass
class Observed:
    """What the watchers saw, in the bot's loop: outbox deliveries and reply latencies."""

    outbox_chats: set[int]
    probe_chats: set[int]
    delivered_at: list[float] = field(default_factory=list)
    per_chat: Counter[int] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    waiting: dict[int, tuple[float, asyncio.Future[float]]] = field(default_factory=dict)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_send(self, status: int, chat: int, at: float) -> None:
        """Counts one sendMessage the fake answered with `status` at monotonic `at` (in the bot's loop)."""
        kind = "outbox" if chat in self.outbox_chats else "reply" if chat in self.probe_chats else "other"
        if status == 429:
            self.rate_limited[kind] += 1
        if status != 200:
            return
        if kind == "outbox":
            self.delivered_at.append(at)
            self.per_chat[chat] += 1
            if len(self.per_chat) == len(self.outbox_chats):
                self.all_done.set()
        elif kind == "reply" and chat in self.waiting:
            started, future = self.waiting.pop(chat)
            if not future.done():
                future.set_result(at - started)


async def _reset(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def seed(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, messages: int, probes: int
) -> datetime:
    """Adds the patients (outbox ones, then probes) and one due check-in per outbox one; returns when due."""
    now = APPOINTMENT - timedelta(days=7)
    total = messages + probes
    async with sessions() as session:
        for first in range(0, total, CHUNK):
            ids = range(first + 1, min(first + CHUNK, total) + 1)
            await session.execute(insert(Patient), [_patient(i, now) for i in ids])
            await session.execute(insert(ChannelAddress), [_address(i, now) for i in ids])
            await session.execute(insert(TreatmentCourse), [_course(i) for i in ids])
            await session.execute(insert(Dose), [dose for i in ids for dose in _doses(i)])
            await session.commit()
        template = await session.get_one(Patient, 1)
        [item] = [
            i
            for i in await planned_for(session, template, plan)
            if i.message.touchpoint_id == TOUCHPOINT and i.dose_id == 2  # patient 1's dose 3
        ]
        due_at = item.message.due_at
        for first in range(0, messages, CHUNK):
            rows = [
                {
                    "patient_id": i,
                    "dose_id": 2 * i,  # dose 3, the planned one (see `_doses`)
                    "kind": str(item.message.kind),
                    "touchpoint_id": TOUCHPOINT,
                    "due_at": due_at,
                    "status": MessageStatus.PENDING,
                    "attempts": 0,
                    "dedupe_key": item.message.dedupe_key,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(first + 1, min(first + CHUNK, messages) + 1)
            ]
            await session.execute(insert(ScheduledMessage), rows)
            await session.commit()
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("ANALYZE"))
            await session.commit()
    return due_at


def _patient(i: int, now: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "language": Language.EN if i % 2 else Language.ES,
        "timezone": "Europe/Madrid",
        "country": "ES",
        "status": PatientStatus.ACTIVE,
        "formulation": Formulation.IV,
        "sandbox": False,
        "sms_consent": False,
        "consent_version": "1",
        "created_at": now,
        "updated_at": now,
    }


def _address(i: int, now: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "patient_id": i,
        "channel": Channel.TELEGRAM,
        "address": str(FIRST_CHAT + i),
        "state_changed_at": now,
    }


def _course(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "patient_id": i,
        "formulation": Formulation.IV,
        "started_at": APPOINTMENT - timedelta(days=400),
        "active": True,
    }


def _doses(i: int) -> list[dict[str, Any]]:
    given_at = APPOINTMENT - timedelta(days=182)
    rows = []
    for offset, number, at, status in ((1, 2, given_at, DoseStatus.GIVEN), (0, 3, APPOINTMENT, None)):
        kind = dose_kind(Formulation.IV, number)
        rows.append(
            {
                "id": 2 * i - offset,
                "course_id": i,
                "number": number,
                "kind": str(kind),
                "amount_mg": kind.amount_mg,
                "planned_at": at,
                "given_at": at if status else None,
                "status": status or DoseStatus.PLANNED,
                "source": "clinic",
            }
        )
    return rows


async def _tick(stop: asyncio.Event, lateness_s: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        lateness_s.append(loop.time() - expected)
        if lateness_s[-1] > 0.03 and os.environ.get("BENCH_STALLS"):
            print(f"stall {lateness_s[-1] * 1000:.0f} ms at {time.monotonic():.3f}", file=sys.stderr)  # noqa: T201


class GcPauses:
    """Collects the garbage collector's pauses (they stop every thread, the bot's loop too)."""

    def __init__(self) -> None:
        self.pauses_s: list[float] = []
        self.cpu_s: list[float] = []  # the collector's own CPU time: what a pause costs on a quiet machine
        self._started = 0.0
        self._cpu_started = 0.0
        self.tracked_at_end = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self._cpu_started = time.thread_time()
        else:
            self.pauses_s.append(time.perf_counter() - self._started)
            self.cpu_s.append(time.thread_time() - self._cpu_started)
            if self.pauses_s[-1] > 0.02 and os.environ.get("BENCH_STALLS"):
                print(  # noqa: T201 - BENCH_STALLS: where the stalls were
                    f"gc gen{info['generation']} {self.pauses_s[-1] * 1000:.0f} ms at {time.monotonic():.3f}",
                    file=sys.stderr,
                )


async def _probe(
    stop: asyncio.Event,
    fake: FakeTelegramProcess,
    observed: Observed,
    latencies_s: list[float],
    interval_s: float,
) -> int:
    """Sends /help from the probe chats in turn, one at a time, and records each reply's latency."""
    loop = asyncio.get_running_loop()
    chats = sorted(observed.probe_chats)
    timeouts = 0
    n = 0
    while not stop.is_set():
        chat = chats[n % len(chats)]
        n += 1
        future: asyncio.Future[float] = loop.create_future()
        observed.waiting[chat] = (time.monotonic(), future)
        fake.push_text(chat, "/help")
        try:
            latencies_s.append(await asyncio.wait_for(future, 10))
        except TimeoutError:
            timeouts += 1
            observed.waiting.pop(chat, None)
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass
    return timeouts


async def run(url: str, messages: int, seconds_cap: float, probe_interval_s: float) -> dict[str, Any]:
    """Seeds, runs the burst until every row is sent or the cap passes, and returns the figures."""
    asyncio.get_running_loop().slow_callback_duration = 0.03
    await _reset(url)
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    plan = load_plan()
    seed_started = time.perf_counter()
    due_at = await seed(sessions, plan, messages, PROBE_CHATS)
    seed_s = time.perf_counter() - seed_started
    clock = OffsetClock(due_at - datetime.now(UTC))

    observed = Observed(
        outbox_chats={FIRST_CHAT + i for i in range(1, messages + 1)},
        probe_chats={FIRST_CHAT + messages + i for i in range(1, PROBE_CHATS + 1)},
    )
    fake = FakeTelegramProcess(
        observed.on_send, overall_per_s=LIMIT_PER_S, overall_burst=30, chat_per_s=1, chat_burst=3
    )
    await fake.start()
    engine_step = DialogEngine(
        sessions, plan, clock, default_timezone="Europe/Madrid", default_language="en"
    ).step
    renderer = OutboxRenderer(clock, load_policy(), "112")
    scheduler = create_scheduler()
    stop = asyncio.Event()
    lateness_s: list[float] = []
    gc_pauses = GcPauses()
    latencies_s: list[float] = []
    async with create_bot(fake.token, fake.base_url) as bot:
        sender = TelegramSender(bot)
        channel = TelegramChannel(
            token=fake.token,
            base_url=fake.base_url,
            step=engine_step,
            rate_limiter=sender.replies_first(),  # one budget for the bot, replies first (as in services)
        )
        dispatcher = Dispatcher(sessions, {Channel.TELEGRAM: sender}, plan, renderer, clock, "bench-1")
        await channel.start()
        gc.freeze()  # as the service does once started (ocrebot.app): start-up objects leave the GC's scans
        gc.callbacks.append(gc_pauses)
        ticker = asyncio.create_task(_tick(stop, lateness_s))
        prober = asyncio.create_task(_probe(stop, fake, observed, latencies_s, probe_interval_s))
        started = time.monotonic()
        scheduler.start()
        wake = wakeup.install(scheduler, dispatcher, clock)
        try:
            await asyncio.wait_for(observed.all_done.wait(), seconds_cap)
        except TimeoutError:
            pass
        elapsed_s = time.monotonic() - started
        await wake.stop()
        stop.set()
        timeouts = await prober
        await ticker
        gc.callbacks.remove(gc_pauses)
        gc_pauses.tracked_at_end = len(gc.get_objects())  # what a full collection walks now (frozen: not)
        gc.unfreeze()
        scheduler.shutdown(wait=False)
        await channel.stop()
    await fake.stop()
    async with sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(ScheduledMessage.status, func.count()).group_by(ScheduledMessage.status)
                )
            )
            .tuples()
            .all()
        )
    await engine.dispose()
    return _report(
        engine.dialect.name,
        messages,
        seed_s,
        elapsed_s,
        observed,
        fake.rate_limited,
        lateness_s,
        latencies_s,
        timeouts,
        gc_pauses,
    ) | {"statuses": {str(status): count for status, count in sorted(statuses.items())}}


async def _settle(sessions: async_sessionmaker[AsyncSession], timeout_s: float = 30.0) -> None:
    """Waits until no row is claimed: the last sends are recorded before the scheduler stops."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with sessions() as session, session.begin():
            claimed = await session.scalar(
                select(func.count()).where(ScheduledMessage.status == MessageStatus.CLAIMED)
            )
        if not claimed:
            return
        await asyncio.sleep(0.1)


def _report(
    database: str,
    messages: int,
    seed_s: float,
    elapsed_s: float,
    observed: Observed,
    rate_limited: int,
    lateness_s: list[float],
    latencies_s: list[float],
    timeouts: int,
    gc_pauses: GcPauses,
) -> dict[str, Any]:
    times = sorted(observed.delivered_at)
    span_s = times[-1] - times[0] if len(times) > 1 else 0.0
    per_s = (len(times) - 1) / span_s if span_s > 0 else 0.0
    gaps_ms = sorted((b - a) * 1000 for a, b in itertools.pairwise(times)) or [0.0]
    stalls_ms = sorted(x * 1000 for x in lateness_s) or [0.0]
    replies_ms = sorted(x * 1000 for x in latencies_s) or [0.0]
    return {
        "benchmark": "burst",
        "database": database,
        "messages": messages,
        "delivered": len(observed.per_chat),
        "duplicates": sum(count - 1 for count in observed.per_chat.values()),
        "completed": len(observed.per_chat) == messages,
        "seed_s": round(seed_s, 1),
        "elapsed_s": round(elapsed_s, 1),
        "limit_per_s": LIMIT_PER_S,
        "throughput_per_s": round(per_s, 2),
        "throughput_ratio": round(per_s / LIMIT_PER_S, 3),
        "outbox_max_gap_ms": round(gaps_ms[-1], 1),
        "outbox_gaps_over_100ms": sum(1 for gap in gaps_ms if gap > 100),
        "replies_per_s": round(len(latencies_s) / span_s, 2) if span_s > 0 else 0.0,
        "rate_limited_429": rate_limited,
        "rate_limited_by_kind": dict(observed.rate_limited),
        "loop_stall_max_ms": round(stalls_ms[-1], 1),
        "loop_stall_p99_ms": round(_quantile(stalls_ms, 0.99), 1),
        "loop_ticks": len(lateness_s),
        "gc_max_pause_ms": round(max(gc_pauses.pauses_s, default=0.0) * 1000, 1),
        "gc_max_pause_cpu_ms": round(max(gc_pauses.cpu_s, default=0.0) * 1000, 1),
        "gc_collections": len(gc_pauses.pauses_s),
        "gc_tracked_at_end": gc_pauses.tracked_at_end,
        "reply_samples": len(latencies_s),
        "reply_timeouts": timeouts,
        "reply_p50_ms": round(statistics.median(replies_ms), 1),
        "reply_p99_ms": round(_quantile(replies_ms, 0.99), 1),
        "reply_max_ms": round(replies_ms[-1], 1),
        "targets": TARGETS,
    }


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse arguments, run, return the result."""
    parser = argparse.ArgumentParser(prog="python -m bench burst")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seconds-cap", type=float, default=900.0, help="stop the burst after this long")
    parser.add_argument("--probe-interval-s", type=float, default=1.0, help="time between /help probes")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        debug = bool(os.environ.get("BENCH_ASYNCIO_DEBUG"))  # logs each callback that held the loop > 30 ms
        return asyncio.run(run(url, args.messages, args.seconds_cap, args.probe_interval_s), debug=debug)
