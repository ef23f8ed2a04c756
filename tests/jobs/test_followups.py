"""Follow-ups: a silent check-in gets one nudge then a person; a silent dose confirmation, a person; once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alerts import Alert
from bot.outbound import OutboundContext, render_outbound
from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs import followups
from jobs.followups import FollowupReport, run_followups
from storage import alerts as stored
from storage.db import create_engine, session_factory
from storage.models import (
    CheckIn,
    CheckInLevel,
    CheckInReason,
    Dose,
    DoseStatus,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from tests.jobs.builders import add_patient, book

CHECK_IN_SENT = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)  # 19:00 in Madrid, the evening of the dose
CONFIRM_SENT = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)


class Recorder:
    """Our own alert port's fake: records, or fails while `down`."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.down = False

    async def alert(self, alert: Alert) -> None:
        if self.down:
            raise ConnectionError("ops chat unreachable")
        self.alerts.append(alert)


async def _patient_with_sent(
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    touchpoint: str,
    sent_at: datetime,
    **fields: object,
) -> tuple[int, int]:
    """An active Madrid patient whose `touchpoint` row went out at `sent_at`; (patient id, message id)."""
    async with sessions() as session, session.begin():
        patient = await add_patient(session, chat_id=4242, display_name="Ana", **fields)
        await book(session, plan, patient)
        row = await session.scalar(
            select(ScheduledMessage).where(
                ScheduledMessage.patient_id == patient.id, ScheduledMessage.touchpoint_id == touchpoint
            )
        )
        assert row is not None
        row.status, row.sent_at = MessageStatus.SENT, sent_at
        return patient.id, row.id


async def _pause(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> None:
    async with sessions() as session, session.begin():
        (await session.get_one(Patient, patient_id)).status = PatientStatus.PAUSED


async def _rows(sessions: async_sessionmaker[AsyncSession], model: type, **where: object) -> list:
    async with sessions() as session:
        query = select(model).filter_by(**where).order_by(model.id)
        return list(await session.scalars(query))


async def _run(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, alerter: Recorder, at: datetime
) -> FollowupReport:
    clock.set(at)
    return await run_followups(sessions, clock, alerter, at)


async def test_a_silent_check_in_gets_one_nudge_at_12_hours_then_one_flag_12_hours_after_it(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    patient_id, message_id = await _patient_with_sent(sessions, plan, "check_in_evening", CHECK_IN_SENT)

    assert await _run(sessions, clock, alerter, CHECK_IN_SENT + timedelta(hours=11)) == FollowupReport()
    at_12h = CHECK_IN_SENT + timedelta(hours=12)  # 07:00 in Madrid: quiet hours until 08:00
    assert (await _run(sessions, clock, alerter, at_12h)).nudged == 1
    assert (await _run(sessions, clock, alerter, at_12h + timedelta(minutes=10))) == FollowupReport()
    [nudge] = await _rows(sessions, ScheduledMessage, kind=stored.NUDGE_KIND)
    assert (nudge.patient_id, nudge.dedupe_key, nudge.status) == (
        patient_id,
        f"check_in_nudge:{message_id}",
        MessageStatus.PENDING,
    )
    assert nudge.due_at == datetime(2026, 12, 11, 7, 0, tzinfo=UTC)  # moved out of quiet hours: 08:00 Madrid
    assert nudge.touchpoint_id is None and nudge.dose_id is not None

    async with sessions() as session, session.begin():  # the dispatcher sends it
        row = await session.get_one(ScheduledMessage, nudge.id)
        row.status, row.sent_at = MessageStatus.SENT, nudge.due_at
    assert await _run(sessions, clock, alerter, nudge.due_at + timedelta(hours=11)) == FollowupReport()
    report = await _run(sessions, clock, alerter, nudge.due_at + timedelta(hours=12))
    assert (report.no_answer, report.alerted) == (1, 1)
    assert await _run(sessions, clock, alerter, nudge.due_at + timedelta(hours=30)) == FollowupReport()

    [flag] = await _rows(sessions, CheckIn)
    assert (flag.patient_id, flag.scheduled_message_id, flag.answer) == (patient_id, message_id, None)
    assert (flag.level, flag.flagged, flag.reason) == (
        CheckInLevel.CLINIC_TODAY,
        True,
        CheckInReason.NO_ANSWER,
    )
    [alert] = alerter.alerts
    assert (alert.check_in_id, alert.level, alert.reason, alert.answer) == (
        flag.id,
        "clinic_today",
        "no_answer",
        None,
    )
    assert len(await _rows(sessions, ScheduledMessage, kind=stored.NUDGE_KIND)) == 1


async def test_an_answered_check_in_gets_neither_nudge_nor_flag(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    _, message_id = await _patient_with_sent(sessions, plan, "check_in_evening", CHECK_IN_SENT)
    async with sessions() as session, session.begin():
        (await session.get_one(ScheduledMessage, message_id)).answered_at = CHECK_IN_SENT + timedelta(hours=1)
    for hours in (12, 24, 48):
        assert (
            await _run(sessions, clock, alerter, CHECK_IN_SENT + timedelta(hours=hours)) == FollowupReport()
        )


async def test_a_later_answer_covers_an_earlier_check_in_and_a_paused_patient_gets_no_nudge(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    patient_id, _ = await _patient_with_sent(sessions, plan, "check_in_evening", CHECK_IN_SENT)
    await _pause(sessions, patient_id)
    assert await _run(sessions, clock, alerter, CHECK_IN_SENT + timedelta(hours=12)) == FollowupReport()
    async with sessions() as session, session.begin():
        await stored.add_check_in(
            session, patient_id=patient_id, level=CheckInLevel.FINE, flagged=False, answer="fine",
            now=CHECK_IN_SENT + timedelta(hours=20),
        )  # fmt: skip
    assert await _run(sessions, clock, alerter, CHECK_IN_SENT + timedelta(hours=25)) == FollowupReport()


async def test_without_a_nudge_the_silence_is_flagged_a_day_after_the_check_in(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    patient_id, _ = await _patient_with_sent(sessions, plan, "check_in_evening", CHECK_IN_SENT)
    await _pause(sessions, patient_id)
    report = await _run(sessions, clock, alerter, CHECK_IN_SENT + timedelta(hours=24))
    assert (report.nudged, report.no_answer) == (0, 1)


async def test_a_dose_confirmation_silent_for_3_days_is_flagged_once(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    patient_id, message_id = await _patient_with_sent(sessions, plan, "dose_confirm", CONFIRM_SENT)

    assert (
        await _run(sessions, clock, alerter, CONFIRM_SENT + timedelta(days=3, minutes=-1)) == FollowupReport()
    )
    report = await _run(sessions, clock, alerter, CONFIRM_SENT + timedelta(days=3))
    assert (report.dose_unconfirmed, report.alerted) == (1, 1)
    assert await _run(sessions, clock, alerter, CONFIRM_SENT + timedelta(days=4)) == FollowupReport()

    [flag] = await _rows(sessions, CheckIn)
    assert (flag.patient_id, flag.scheduled_message_id, flag.reason) == (
        patient_id,
        message_id,
        CheckInReason.DOSE_UNCONFIRMED,
    )
    assert flag.flagged and flag.answer is None and [a.reason for a in alerter.alerts] == ["dose_unconfirmed"]


async def test_a_dose_reported_given_another_way_is_not_flagged(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    await _patient_with_sent(sessions, plan, "dose_confirm", CONFIRM_SENT)
    async with sessions() as session, session.begin():
        dose = await session.scalar(select(Dose).where(Dose.status == DoseStatus.PLANNED))
        assert dose is not None
        dose.status, dose.given_at = DoseStatus.GIVEN, dose.planned_at
    assert await _run(sessions, clock, alerter, CONFIRM_SENT + timedelta(days=3)) == FollowupReport()


async def test_an_alert_that_failed_is_sent_again_later_and_then_never_again(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    alerter = Recorder()
    alerter.down = True
    await _patient_with_sent(sessions, plan, "dose_confirm", CONFIRM_SENT)
    at = CONFIRM_SENT + timedelta(days=3)
    report = await _run(sessions, clock, alerter, at)
    assert (report.dose_unconfirmed, report.alerted, report.alert_failures) == (1, 0, 1)
    [flag] = await _rows(sessions, CheckIn)
    assert flag.alerted_at is None  # stored all the same

    alerter.down = False
    assert (await _run(sessions, clock, alerter, at + timedelta(minutes=5))).alerted == 0  # too soon
    assert (await _run(sessions, clock, alerter, at + timedelta(minutes=10))).alerted == 1
    assert await _run(sessions, clock, alerter, at + timedelta(minutes=20)) == FollowupReport()
    assert len(alerter.alerts) == 1
    [flag] = await _rows(sessions, CheckIn)
    assert flag.alerted_at == at + timedelta(minutes=10)


@pytest.mark.parametrize(("language", "words"), [
    ("en", "Just checking in again after your infusion: how are you feeling?"),
    ("es", "Le escribo de nuevo después de su infusión: ¿cómo se siente?"),
])  # fmt: skip
def test_the_nudge_renders_in_both_languages_with_the_check_in_buttons(language: str, words: str) -> None:
    context = OutboundContext(
        display_name="Ana", starts_at_local=None, location=None, formulation="iv", dose_number=3,
        emergency_number="112",
    )  # fmt: skip
    rendered = render_outbound("check_in_nudge", context, language, "telegram")
    assert words in rendered.text and "112" in rendered.text
    assert [option.key for option in rendered.options] == ["fine", "mild", "help_now"]
    assert "Reply 1" in render_outbound("check_in_nudge", context, "en", "sms").text


async def test_install_adds_one_interval_job_that_runs_late_rather_than_never(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")  # APScheduler's own defaults: the job sets its options
    scheduler.start()
    try:
        followups.install(scheduler, sessions, clock, Recorder(), interval_s=300)
        followups.install(scheduler, sessions, clock, Recorder(), interval_s=300)  # replaced, not added
        [job] = scheduler.get_jobs()
        assert (job.id, job.misfire_grace_time, job.coalesce, job.max_instances) == (
            "followups",
            None,
            True,
            1,
        )
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(seconds=300)
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)


async def test_a_failing_run_is_logged_by_type_and_the_job_lives_on(clock: FakeClock, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")  # no such directory
    try:
        assert await followups.Followups(session_factory(engine), clock, Recorder()).run() is None
    finally:
        await engine.dispose()
