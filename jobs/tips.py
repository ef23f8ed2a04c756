"""Weekly tips: the job that keeps each opted-in patient's next tip in the outbox, and a tip's text.

Owns `run_tips(sessions, now)`, one deterministic step: every active patient who opted in (not sandbox ones,
who live on the simulator's clock; their first tip is written when they opt in) gets their next weekly tip as
one outbox row (`storage.tips.plan_next_tip`: keyed by ISO week, so reruns, restarts and several workers
never double it; a pending one follows a time-zone or quiet-hours change); `install` (an APScheduler interval
job, `misfire_grace_time=None`, `coalesce=True`, like `jobs.followups`); and `render_tip`, which the outbox
renderer uses for rows of kind "tip": the next topic of the curated order the patient has not had, in their
language, for the channel it goes on. The dispatcher sends the rows (sandbox patients' to the simulator
only) and expires one 2 days late (`storage.plans.JOB_MESSAGES`). Logs carry counts only. Imports `care`,
`storage`, `bot`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbound import Rendered
from care.clock import Clock
from care.library import default_library
from care.quiet_hours import QuietHours
from care.tips import DEFAULT_SLOT, TipSlot, tip_text, topic_for
from storage import tips as stored
from storage.models import Channel, Patient, PatientStatus

log = logging.getLogger(__name__)

JOB_ID = "weekly-tips"
BATCH = 100  # patients a transaction
_JOB_OPTIONS: dict[str, Any] = {
    "misfire_grace_time": None,
    "coalesce": True,
    "max_instances": 1,
    "replace_existing": True,
}


@dataclass(frozen=True)
class TipsReport:
    """What one run did: patients visited, those with a tip now pending, future tips of another week
    cancelled (a time-zone move put them past the slot)."""

    patients: int = 0
    planned: int = 0
    cancelled: int = 0


async def run_tips(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    quiet_hours: QuietHours,
    slot: TipSlot = DEFAULT_SLOT,
) -> TipsReport:
    """Plans the next tip of every opted-in active patient at `now`; quiet_hours: where a patient set none."""
    async with sessions() as session:
        ids = list(
            await session.scalars(
                select(Patient.id)
                .where(
                    Patient.weekly_tips.is_(True),
                    Patient.status == PatientStatus.ACTIVE,
                    Patient.sandbox.is_(False),
                )
                .order_by(Patient.id)
            )
        )
    planned = cancelled = 0
    for start in range(0, len(ids), BATCH):
        async with sessions() as session, session.begin():
            for patient_id in ids[start : start + BATCH]:
                patient = await session.scalar(
                    select(Patient)
                    .where(Patient.id == patient_id)
                    .with_for_update()  # serializes with an opt-out or a pause (PostgreSQL)
                    .execution_options(populate_existing=True)
                )
                if patient is None or patient.sandbox:
                    continue
                change = await stored.plan_next_tip(session, patient, quiet_hours, now, slot=slot)
                planned += change.pending_id is not None
                cancelled += change.cancelled
    report = TipsReport(len(ids), planned, cancelled)
    log.info("weekly tips: %s", report)
    return report


async def render_tip(session: AsyncSession, patient: Patient, channel: Channel) -> Rendered:
    """Returns the patient's next tip for `channel`: the next topic they have not had, in their language."""
    formulation = patient.formulation.value if patient.formulation is not None else None
    topic = topic_for(await stored.tips_had(session, patient.id), formulation)
    text = tip_text(
        default_library(), topic, patient.language.value, patient.timezone, sms=channel is Channel.SMS
    )
    return Rendered(text, ())


class WeeklyTips:
    """The tips job for APScheduler: `run` reads the clock and never raises (the next tick retries)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        quiet_hours: QuietHours,
        slot: TipSlot = DEFAULT_SLOT,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._quiet_hours = quiet_hours
        self._slot = slot

    async def run(self) -> TipsReport | None:
        """Plans the next tips once at the clock's now; None when it failed (logged by type only)."""
        try:
            return await run_tips(
                self._sessions, self._clock.now(), quiet_hours=self._quiet_hours, slot=self._slot
            )
        except Exception as exc:  # no traceback: it would carry SQL values
            log.error("weekly tips failed: %s", type(exc).__name__)
            return None


def install(
    scheduler: BaseScheduler,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    quiet_hours: QuietHours,
    slot: TipSlot = DEFAULT_SLOT,
    interval_s: float = 3600.0,
) -> WeeklyTips:
    """Adds the weekly-tips interval job (replacing an earlier one) and returns it."""
    tips = WeeklyTips(sessions, clock, quiet_hours=quiet_hours, slot=slot)
    scheduler.add_job(tips.run, "interval", seconds=interval_s, id=JOB_ID, **_JOB_OPTIONS)
    return tips
