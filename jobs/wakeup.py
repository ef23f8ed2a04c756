"""Waking the dispatcher: APScheduler runs it on a safety tick and again at the next due time.

Owns the two jobs (fixed ids, so a restart replaces them instead of adding copies): `dispatcher-tick`, an
interval job, and `dispatcher-wake`, a one-off date job re-armed after every run at the earliest time a
pending row becomes claimable. Both carry `misfire_grace_time=None` and `coalesce=True`, so a run missed
during downtime happens late instead of being dropped (DESIGN decision 2). APScheduler holds no rows and no
arguments. `poke()` wakes it now, for a plan change that made something due sooner.
Imports `jobs.dispatcher` only for its report type.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler

from care.clock import Clock
from jobs.dispatcher import DispatchReport

log = logging.getLogger(__name__)

TICK_JOB_ID = "dispatcher-tick"
WAKE_JOB_ID = "dispatcher-wake"
_JOB_OPTIONS: dict[str, Any] = {
    "misfire_grace_time": None,
    "coalesce": True,
    "max_instances": 1,
    "replace_existing": True,
}


class Dispatches(Protocol):
    """What the wake-up drives (`jobs.dispatcher.Dispatcher`)."""

    batch_size: int

    async def run_once(self, now: datetime) -> DispatchReport: ...

    async def next_due_at(self) -> datetime | None: ...


class Wakeup:
    """Runs the dispatcher until no full batch is left, then arms the wake job at the next due time.

    The injected clock says how far away the next due time is; the scheduler counts that delay on the
    machine's clock (with the system clock, the same instant). A due time already past is retried after
    `min_gap_s`, so a row that cannot be claimed does not spin the loop.
    """

    def __init__(
        self, scheduler: BaseScheduler, dispatcher: Dispatches, clock: Clock, *, min_gap_s: float = 1.0
    ) -> None:
        self._scheduler = scheduler
        self._dispatcher = dispatcher
        self._clock = clock
        self._min_gap_s = min_gap_s
        self._running = False
        self._again = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    async def stop(self, timeout_s: float = 4.0) -> bool:
        """Lets the run in progress finish (its sends recorded) and starts no new one; False on timeout.

        Call before the scheduler's shutdown (which cancels a running coroutine job: APScheduler's
        `AsyncIOExecutor.shutdown`) and before the database closes; a run cut short would leave rows
        claimed, to come back as uncertain.
        """
        self._stopping = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            log.warning("dispatcher run still in progress at shutdown")
            return False
        return True

    async def run(self) -> None:
        """One wake-up: dispatch, again while batches come back full or a poke arrived, then re-arm."""
        self._again = True
        if self._running or self._stopping:
            return  # the run in progress goes round once more
        self._running = True
        self._idle.clear()
        try:
            while self._again and not self._stopping:
                self._again = False
                report = await self._dispatcher.run_once(self._clock.now())
                if report.claimed >= self._dispatcher.batch_size:
                    self._again = True
            if not self._stopping:
                await self._rearm()
        except Exception as exc:  # the tick tries again; ids only in logs, so no traceback with SQL values
            log.error("dispatcher run failed: %s", type(exc).__name__)
        finally:
            self._running = False
            self._idle.set()

    def poke(self) -> None:
        """Wakes the dispatcher now (or once more right after the run in progress)."""
        if self._stopping:
            return
        if self._running:
            self._again = True
            return
        self._arm(datetime.now(UTC))

    async def _rearm(self) -> None:
        next_due = await self._dispatcher.next_due_at()
        if next_due is None:
            try:
                self._scheduler.remove_job(WAKE_JOB_ID)
            except JobLookupError:
                pass
            return
        delay_s = max((next_due - self._clock.now()).total_seconds(), self._min_gap_s)
        self._arm(datetime.now(UTC) + timedelta(seconds=delay_s))

    def _arm(self, run_date: datetime) -> None:
        self._scheduler.add_job(self.run, "date", run_date=run_date, id=WAKE_JOB_ID, **_JOB_OPTIONS)


def install(
    scheduler: BaseScheduler, dispatcher: Dispatches, clock: Clock, *, tick_s: float = 30.0
) -> Wakeup:
    """Adds the tick and wake jobs for `dispatcher` (replacing earlier ones) and wakes it once at start."""
    wakeup = Wakeup(scheduler, dispatcher, clock)
    scheduler.add_job(wakeup.run, "interval", seconds=tick_s, id=TICK_JOB_ID, **_JOB_OPTIONS)
    wakeup.poke()
    return wakeup
