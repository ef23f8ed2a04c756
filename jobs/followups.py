"""Follow-ups: silence after a check-in or a dose confirmation reaches a person, once.

Owns `run_followups(sessions, clock, alerter, now)`, one deterministic step, and `install` (an APScheduler
interval job, `misfire_grace_time=None`, `coalesce=True`, like `jobs.wakeup`):
- a check-in sent `NUDGE_AFTER` ago and not answered gets one nudge (an outbox row of kind
  "check_in_nudge", due now or when the patient's quiet hours end; its dedupe key makes it one, ever);
- still not answered `FLAG_AFTER_NUDGE` after the nudge (or `FLAG_WITHOUT_NUDGE` after the check-in when no
  nudge could go: the patient is paused, or this job was down) -> a flagged check-in row, level
  clinic_today, no answer, reason no_answer: at most one per dose, and none when the patient answered a
  later check-in;
- a dose confirmation sent `DOSE_CONFIRM_AFTER` ago, not answered while the dose is still planned and past
  -> one flagged row, reason dose_unconfirmed;
- nothing booked after a patient's last dose `care.booking_gap` months later -> a flagged row, reason
  booking_gap, about that dose: at 6 months and again 2 weeks later, once each; open ones are cleared (by
  the system, audited) once an appointment is booked (`storage.booking_gaps`; a replan clears them too);
- unreachable flags (`storage.reachability`, stored where no alerter is at hand) are alerted at once;
- flagged rows whose alert never went out (the alerter failed) are alerted again.
Every write happens in one transaction; alerts go after it commits (`bot.alerts.deliver`). Running it twice
changes nothing more. Logs carry ids and counts only. Imports `care`, `storage`, `bot`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alert, Alerter, deliver
from care.booking_gap import flag_due
from care.clock import Clock
from care.quiet_hours import QuietHours, QuietMove
from storage import alerts as stored
from storage import booking_gaps
from storage.models import (
    CheckIn,
    CheckInLevel,
    CheckInReason,
    Dose,
    DoseStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
)

log = logging.getLogger(__name__)

JOB_ID = "followups"
CHECK_IN, DOSE_CONFIRM = "check_in", "dose_confirm"
NUDGE_AFTER = timedelta(hours=12)
FLAG_AFTER_NUDGE = timedelta(hours=12)
FLAG_WITHOUT_NUDGE = NUDGE_AFTER + FLAG_AFTER_NUDGE
CHECK_IN_WINDOW = timedelta(hours=72)  # older silences are history, not news (and not a flood after deploy)
DOSE_CONFIRM_AFTER = timedelta(days=3)
DOSE_CONFIRM_WINDOW = timedelta(days=10)
ALERT_RETRY_AFTER = timedelta(minutes=10)  # the step that stored a row alerts it first
ALERT_RETRY_FOR = timedelta(days=3)
DEFAULT_QUIET_HOURS = QuietHours(time(21, 0), time(8, 0))  # the default plan's
_JOB_OPTIONS: dict[str, Any] = {
    "misfire_grace_time": None,
    "coalesce": True,
    "max_instances": 1,
    "replace_existing": True,
}


@dataclass(frozen=True)
class FollowupReport:
    """What one run did: nudges written, silences flagged, alerts sent (new and retried) and failed."""

    nudged: int = 0
    no_answer: int = 0
    dose_unconfirmed: int = 0
    alerted: int = 0
    alert_failures: int = 0
    booking_gap: int = 0
    booking_gap_cleared: int = 0


async def run_followups(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    alerter: Alerter,
    now: datetime,
    *,
    quiet_hours: QuietHours | None = None,
) -> FollowupReport:
    """Nudges and flags what is due at `now`, then alerts; quiet_hours: where a patient set none."""
    quiet = quiet_hours or DEFAULT_QUIET_HOURS
    async with sessions() as session, session.begin():
        nudged, no_answer = await _check_ins(session, now, quiet)
        unconfirmed = await _dose_confirmations(session, now)
        gaps, cleared = await _booking_gaps(session, now)
        retry = await stored.unalerted(
            session, created_before=now - ALERT_RETRY_AFTER, created_after=now - ALERT_RETRY_FOR
        )
        retry += await _unreachable(session, now, {row.id for row, _ in retry})
        alerts = [
            *no_answer,
            *unconfirmed,
            *gaps,
            *(Alert.of(row, patient.display_name) for row, patient in retry),
        ]
    alerted = await deliver(alerter, alerts, sessions, clock) if alerts else 0
    report = FollowupReport(
        nudged=nudged,
        no_answer=len(no_answer),
        dose_unconfirmed=len(unconfirmed),
        alerted=alerted,
        alert_failures=len(alerts) - alerted,
        booking_gap=len(gaps),
        booking_gap_cleared=cleared,
    )
    if report != FollowupReport():
        log.info("follow-ups: %s", report)
    return report


async def _check_ins(session: AsyncSession, now: datetime, quiet: QuietHours) -> tuple[int, list[Alert]]:
    nudged, flagged = 0, []
    for message in await stored.unanswered(
        session, CHECK_IN, sent_before=now - NUDGE_AFTER, sent_after=now - CHECK_IN_WINDOW
    ):
        assert message.sent_at is not None  # sent rows have it
        patient = await session.get(Patient, message.patient_id)
        if patient is None or await stored.answered_since(session, patient.id, message.sent_at):
            continue
        reason = CheckInReason.NO_ANSWER
        if await stored.silence_flagged(session, message.id, reason, dose_id=message.dose_id):
            continue
        nudge = await stored.nudge_of(session, message)
        if nudge is None and now - message.sent_at < FLAG_WITHOUT_NUDGE:
            if patient.status is PatientStatus.ACTIVE:
                await stored.add_nudge(session, message, _out_of_quiet(patient, now, quiet), now)
                nudged += 1
            continue
        if nudge is not None and now - (nudge.sent_at or nudge.due_at) < FLAG_AFTER_NUDGE:
            continue
        flagged.append(await _flag(session, patient, message, CheckInLevel.CLINIC_TODAY, reason, now))
    return nudged, flagged


async def _dose_confirmations(session: AsyncSession, now: datetime) -> list[Alert]:
    flagged = []
    for message in await stored.unanswered(
        session, DOSE_CONFIRM, sent_before=now - DOSE_CONFIRM_AFTER, sent_after=now - DOSE_CONFIRM_WINDOW
    ):
        dose = await session.get(Dose, message.dose_id) if message.dose_id is not None else None
        if dose is None or dose.status is not DoseStatus.PLANNED or dose.planned_at > now:
            continue  # reported given (/done), moved (/reschedule) or gone: answered another way
        reason = CheckInReason.DOSE_UNCONFIRMED
        patient = await session.get(Patient, message.patient_id)
        if patient is None or await stored.silence_flagged(session, message.id, reason):
            continue
        flagged.append(await _flag(session, patient, message, CheckInLevel.CLINIC_TODAY, reason, now))
    return flagged


async def _booking_gaps(session: AsyncSession, now: datetime) -> tuple[list[Alert], int]:
    cleared = 0
    for patient_id in await session.scalars(
        select(CheckIn.patient_id)
        .where(
            CheckIn.reason == CheckInReason.BOOKING_GAP,
            CheckIn.flagged.is_(True),
            CheckIn.acknowledged_at.is_(None),
        )
        .distinct()
    ):
        cleared += await booking_gaps.clear_if_booked(session, patient_id, now)
    flagged = []
    for gap in await booking_gaps.gaps(session):
        which = flag_due(gap.anchor_at, ZoneInfo(gap.patient.timezone), now, gap.raised)
        if which is None:
            continue
        row = await booking_gaps.add_flag(session, gap, now)
        log.info("check-in %s flagged: booking gap %s of 2 (patient %s)", row.id, which, gap.patient.id)
        flagged.append(Alert.of(row, gap.patient.display_name))
    return flagged, cleared


async def _unreachable(
    session: AsyncSession, now: datetime, known: set[int]
) -> list[tuple[CheckIn, Patient]]:
    """Unreachable flags, stored where a channel switches with no alerter at hand: alerted here, at once."""
    recent = await stored.unalerted(session, created_before=now, created_after=now - ALERT_RETRY_FOR)
    return [(row, p) for row, p in recent if row.reason is CheckInReason.UNREACHABLE and row.id not in known]


async def _flag(
    session: AsyncSession,
    patient: Patient,
    message: ScheduledMessage,
    level: CheckInLevel,
    reason: CheckInReason,
    now: datetime,
) -> Alert:
    row = await stored.add_check_in(
        session,
        patient_id=patient.id,
        dose_id=message.dose_id,
        scheduled_message_id=message.id,
        level=level,
        flagged=True,
        reason=reason,
        now=now,
    )
    log.info("check-in %s flagged: %s (message %s)", row.id, reason.value, message.id)
    return Alert.of(row, patient.display_name)


def _out_of_quiet(patient: Patient, now: datetime, default: QuietHours) -> datetime:
    quiet = default
    if patient.quiet_hours_start is not None and patient.quiet_hours_end is not None:
        quiet = QuietHours(patient.quiet_hours_start, patient.quiet_hours_end)
    return quiet.move_out(now, ZoneInfo(patient.timezone), QuietMove.LATER)


class Followups:
    """The follow-up job for APScheduler: `run` reads the clock and never raises (the next tick retries)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        alerter: Alerter,
        *,
        quiet_hours: QuietHours | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._alerter = alerter
        self._quiet_hours = quiet_hours

    async def run(self) -> FollowupReport | None:
        """Runs the follow-ups once at the clock's now; None when it failed (logged by type only)."""
        try:
            return await run_followups(
                self._sessions, self._clock, self._alerter, self._clock.now(), quiet_hours=self._quiet_hours
            )
        except Exception as exc:  # no traceback: it would carry SQL values
            log.error("follow-ups failed: %s", type(exc).__name__)
            return None


def install(
    scheduler: BaseScheduler,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    alerter: Alerter,
    *,
    interval_s: float = 600.0,
    quiet_hours: QuietHours | None = None,
) -> Followups:
    """Adds the follow-up interval job (replacing an earlier one) and returns it."""
    followups = Followups(sessions, clock, alerter, quiet_hours=quiet_hours)
    scheduler.add_job(followups.run, "interval", seconds=interval_s, id=JOB_ID, **_JOB_OPTIONS)
    return followups
