"""APScheduler wakes the dispatcher on a tick and at the next due time; a poke wakes it at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from care.clock import FakeClock
from jobs.dispatcher import Dispatcher, DispatchReport
from jobs.wakeup import TICK_JOB_ID, WAKE_JOB_ID, install
from tests.fakes.telegram_api import FakeTelegram
from tests.jobs.builders import NOW, add_one_off, add_patient

TEN_MINUTES = timedelta(minutes=10)


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    """A real scheduler with APScheduler's own defaults, so the jobs must set their options themselves."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    yield scheduler
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # let the shutdown scheduled on the loop run


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Waits, in small steps, until `condition()` holds."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polls state other tasks change
            await asyncio.sleep(0.01)


def wake_delay(scheduler: AsyncIOScheduler) -> timedelta | None:
    """How far ahead of the machine's clock the wake job is armed, or None when it is not."""
    job = scheduler.get_job(WAKE_JOB_ID)
    return None if job is None else job.next_run_time - datetime.now(UTC)


class FakeDispatcher:
    """Our own port's fake: reports `claimed` from a script, can hold a run open, counts runs."""

    def __init__(self, claimed: list[int], next_due: datetime | None = None) -> None:
        self.batch_size = 5
        self.claimed = claimed
        self.next_due = next_due
        self.runs: list[datetime] = []
        self.release = asyncio.Event()
        self.release.set()

    async def run_once(self, now: datetime) -> DispatchReport:
        self.runs.append(now)
        await self.release.wait()
        return DispatchReport(claimed=self.claimed.pop(0) if self.claimed else 0)

    async def next_due_at(self) -> datetime | None:
        return self.next_due


async def test_install_adds_two_fixed_jobs_that_run_late_rather_than_never(
    scheduler: AsyncIOScheduler, clock: FakeClock
) -> None:
    dispatcher = FakeDispatcher([])
    install(scheduler, dispatcher, clock, tick_s=30)
    install(scheduler, dispatcher, clock, tick_s=30)  # a restart, or a second call: replaced, not added

    assert sorted(job.id for job in scheduler.get_jobs()) == sorted([TICK_JOB_ID, WAKE_JOB_ID])
    for job in scheduler.get_jobs():
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
    tick = scheduler.get_job(TICK_JOB_ID)
    assert isinstance(tick.trigger, IntervalTrigger) and tick.trigger.interval == timedelta(seconds=30)
    await eventually(lambda: len(dispatcher.runs) >= 1)  # woken once at start
    await eventually(lambda: scheduler.get_job(WAKE_JOB_ID) is None)  # nothing pending: nothing armed


async def test_after_a_run_the_wake_job_is_armed_at_the_next_due_time_and_a_poke_sends_early(
    session: AsyncSession,
    scheduler: AsyncIOScheduler,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: Callable[..., Dispatcher],
) -> None:
    patient = await add_patient(session, chat_id=6001)
    await add_one_off(session, patient.id, NOW + TEN_MINUTES)
    await session.commit()

    wakeup = install(scheduler, make_dispatcher(), clock)

    def armed_in_ten_minutes() -> bool:
        delay = wake_delay(scheduler)
        return delay is not None and abs(delay - TEN_MINUTES) < timedelta(seconds=5)

    await eventually(armed_in_ten_minutes)
    assert telegram.sent == []

    clock.advance(TEN_MINUTES)  # due now on the injected clock; the scheduler would wait ten real minutes
    wakeup.poke()
    await eventually(lambda: len(telegram.sent) == 1)
    await eventually(lambda: scheduler.get_job(WAKE_JOB_ID) is None)


async def test_a_poke_during_a_run_makes_it_go_round_once_more(
    scheduler: AsyncIOScheduler, clock: FakeClock
) -> None:
    dispatcher = FakeDispatcher([])
    dispatcher.release.clear()
    wakeup = install(scheduler, dispatcher, clock)
    await eventually(lambda: len(dispatcher.runs) == 1)  # held open

    wakeup.poke()
    wakeup.poke()
    dispatcher.release.set()

    await eventually(lambda: len(dispatcher.runs) == 2)
    await asyncio.sleep(0.05)
    assert len(dispatcher.runs) == 2


async def test_a_full_batch_runs_again_at_once_and_a_past_due_time_waits_the_minimum_gap(
    scheduler: AsyncIOScheduler, clock: FakeClock
) -> None:
    dispatcher = FakeDispatcher([5, 5, 2], next_due=NOW - timedelta(hours=1))
    install(scheduler, dispatcher, clock)

    await eventually(lambda: len(dispatcher.runs) == 3)
    await eventually(lambda: wake_delay(scheduler) is not None)
    delay = wake_delay(scheduler)
    assert delay is not None and timedelta(0) < delay <= timedelta(seconds=1)
