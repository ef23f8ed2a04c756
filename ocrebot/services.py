"""The composition root: builds every long-lived resource from the settings, and closes them in reverse.

Nothing is created at import; `start_services` is awaited inside the running loop (the app's lifespan).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from care.clock import Clock, SystemClock
from care.plan import ReminderPlan, load_plan
from jobs.scheduler import create_scheduler
from ocrebot.settings import Settings
from storage.db import create_engine, redact_url, session_factory

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the running service holds: settings, clock, database, reminder plan, scheduler."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    plan: ReminderPlan
    scheduler: AsyncIOScheduler
    closed: bool = field(default=False)

    async def aclose(self) -> None:
        """Stop the scheduler, then close the database; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.engine.dispose()


async def start_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """Open the database, load the reminder plan and start the scheduler, in that order."""
    plan = load_plan(settings.reminder_plan_file)
    engine = create_engine(settings.database_url)
    scheduler = create_scheduler()
    services = Services(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        sessions=session_factory(engine),
        plan=plan,
        scheduler=scheduler,
    )
    try:
        scheduler.start()
    except BaseException:
        await engine.dispose()
        raise
    log.info("database %s", redact_url(settings.database_url))
    for line in settings.channel_report():
        log.info("%s", line)
    return services
