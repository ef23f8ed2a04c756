"""Weekly tips in the outbox: one row a week per opted-in patient, out of quiet hours, through time-zone
moves, restarts, replans, opt-outs and pauses; sent by the real dispatcher in the patient's language, then
expired when two days late."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan
from care.quiet_hours import QuietHours
from care.triage import load_policy
from jobs import tips as tips_job
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from jobs.tips import run_tips
from storage import tips
from storage.models import Language, MessageStatus, Patient, PatientStatus, ScheduledMessage
from storage.plans import replan_patient
from tests.fakes.telegram_api import FakeTelegram
from tests.jobs.builders import NOW, add_patient, book

# NOW is Thursday 26 November 2026, 10:00 in Madrid: the next slot is Tuesday 1 December, 11:00 there.
FIRST_DUE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def _tips_of(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[ScheduledMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(ScheduledMessage)
                .where(ScheduledMessage.patient_id == patient_id, ScheduledMessage.kind == "tip")
                .order_by(ScheduledMessage.due_at, ScheduledMessage.id)
            )
        )


async def _pending(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> list[ScheduledMessage]:
    return [row for row in await _tips_of(sessions, patient_id) if row.status is MessageStatus.PENDING]


async def _patient(sessions: async_sessionmaker[AsyncSession], **fields: object) -> int:
    async with sessions() as session, session.begin():
        patient = await add_patient(session, **({"weekly_tips": True} | fields))
        return patient.id


async def _run(sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, now: datetime) -> None:
    await run_tips(sessions, now, quiet_hours=plan.quiet_hours, slot=plan.tip_slot)


async def _update(sessions: async_sessionmaker[AsyncSession], patient_id: int, **fields: object) -> None:
    async with sessions() as session, session.begin():
        patient = await session.get_one(Patient, patient_id)
        for name, value in fields.items():
            setattr(patient, name, value)


def _local(row: ScheduledMessage, zone: str) -> tuple[int, time]:
    local = row.due_at.astimezone(ZoneInfo(zone))
    return local.weekday(), local.time()


async def test_the_job_writes_one_row_a_week_for_opted_in_active_patients_only(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    wanted = await _patient(sessions, chat_id=1)
    others = [
        await _patient(sessions, chat_id=2, weekly_tips=False),
        await _patient(sessions, chat_id=3, status=PatientStatus.PAUSED),
        await _patient(sessions, chat_id=4, status=PatientStatus.SIGNING_UP),
        await _patient(sessions, chat_id=5, sandbox=True),  # the simulator's clock: tips start on opt-in
    ]
    for _ in range(3):  # every hour, and again after a restart: the same one row
        await _run(sessions, plan, NOW)
        await _run(sessions, plan, NOW + timedelta(hours=1))
    [row] = await _tips_of(sessions, wanted)
    assert (row.status, row.dedupe_key, row.due_at, row.touchpoint_id) == (
        MessageStatus.PENDING,
        "tip:2026-W49",
        FIRST_DUE,
        None,
    )
    for patient_id in others:
        assert await _tips_of(sessions, patient_id) == []


async def test_workers_planning_at_once_still_write_one_row(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    patient_ids = [await _patient(sessions, chat_id=chat) for chat in (1, 2, 3)]
    await asyncio.gather(*(_run(sessions, plan, NOW + timedelta(minutes=n)) for n in range(4)))
    for patient_id in patient_ids:
        assert [row.dedupe_key for row in await _tips_of(sessions, patient_id)] == ["tip:2026-W49"]


async def test_a_tip_is_never_in_the_patients_own_quiet_hours(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    late_sleeper = await _patient(
        sessions, chat_id=1, quiet_hours_start=time(23, 0), quiet_hours_end=time(13, 0)
    )
    await _run(sessions, plan, NOW)
    [row] = await _tips_of(sessions, late_sleeper)
    assert _local(row, "Europe/Madrid") == (1, time(13, 0))  # Tuesday, when their quiet hours end


async def test_a_time_zone_move_keeps_one_tip_at_the_slot_in_the_new_wall_clock(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    patient_id = await _patient(sessions, chat_id=1)
    await _run(sessions, plan, NOW)
    await _update(sessions, patient_id, timezone="America/New_York")  # west: the same week, later
    await _run(sessions, plan, NOW + timedelta(hours=1))
    [row] = await _tips_of(sessions, patient_id)
    assert (row.dedupe_key, _local(row, "America/New_York")) == ("tip:2026-W49", (1, time(11, 0)))

    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday: 12:00 in Tokyo, past its slot
    await _update(sessions, patient_id, timezone="Asia/Tokyo")
    await _run(sessions, plan, now)
    [pending] = await _pending(sessions, patient_id)
    assert (pending.dedupe_key, _local(pending, "Asia/Tokyo")) == ("tip:2026-W50", (1, time(11, 0)))
    assert not plan.quiet_hours.is_quiet(pending.due_at, ZoneInfo("Asia/Tokyo"))
    assert [row.status for row in await _tips_of(sessions, patient_id)] == [
        MessageStatus.CANCELLED,
        MessageStatus.PENDING,
    ]


async def test_weeks_follow_one_another_with_the_next_topic_each_time(
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
    make_dispatcher: Callable[..., Dispatcher],
    telegram: FakeTelegram,
) -> None:
    patient_id = await _patient(sessions, chat_id=77, language=Language.ES)
    dispatcher = make_dispatcher(render=OutboxRenderer(clock, load_policy(), None))
    now = NOW
    for week in range(3):
        await _run(sessions, plan, now)
        [row] = await _pending(sessions, patient_id)
        assert row.dedupe_key == f"tip:2026-W{49 + week}"
        assert _local(row, "Europe/Madrid") == (1, time(11, 0))
        clock.set(row.due_at)
        assert (await dispatcher.run_once(row.due_at)).sent == 1
        await _run(sessions, plan, row.due_at)  # right after it went: next week's, not a second one
        now = row.due_at + timedelta(hours=1)
    texts = [message["text"] for message in telegram.sent]
    assert [text.split("\n")[0] for text in texts] == [
        "Consejo semanal: Qué es Ocrevus",
        "Consejo semanal: El día de la dosis",
        "Consejo semanal: Calendario de infusiones",
    ]
    assert all(text.endswith("Envía /tips para dejar de recibirlos.") for text in texts)


async def test_replans_leave_tip_rows_alone_but_pause_and_stop_cancel_them(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    patient_id = await _patient(sessions, chat_id=1)
    async with sessions() as session, session.begin():
        patient = await session.get_one(Patient, patient_id)
        dose = await book(session, plan, patient)
        await tips.set_weekly_tips(session, patient, True, plan.quiet_hours, NOW)
    async with sessions() as session, session.begin():
        (await session.get_one(type(dose), dose.id)).planned_at += timedelta(days=7)  # moved appointment
        (await session.get_one(Patient, patient_id)).language = Language.ES
        report = await replan_patient(session, patient_id, plan, NOW + timedelta(hours=1))
    assert report.cancelled > 0  # the old appointment's reminders went; the tip stayed
    [tip] = await _tips_of(sessions, patient_id)
    assert tip.status is MessageStatus.PENDING

    for status in (PatientStatus.PAUSED, PatientStatus.STOPPED):
        await _update(sessions, patient_id, status=PatientStatus.ACTIVE)
        await _run(sessions, plan, NOW)
        assert len(await _pending(sessions, patient_id)) == 1
        await _update(sessions, patient_id, status=status)
        async with sessions() as session, session.begin():
            await replan_patient(session, patient_id, plan, NOW)
        assert await _pending(sessions, patient_id) == []


async def test_opting_out_cancels_and_opting_back_in_the_same_week_revives_the_one_row(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan
) -> None:
    patient_id = await _patient(sessions, chat_id=1, weekly_tips=False)
    for on, status in (
        (True, MessageStatus.PENDING),
        (False, MessageStatus.CANCELLED),
        (True, MessageStatus.PENDING),
    ):
        async with sessions() as session, session.begin():
            patient = await session.get_one(Patient, patient_id)
            await tips.set_weekly_tips(session, patient, on, plan.quiet_hours, NOW)
        [row] = await _tips_of(sessions, patient_id)
        assert (row.status, row.due_at) == (status, FIRST_DUE)


async def test_the_dispatcher_cancels_a_tip_turned_off_and_expires_one_two_days_late(
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    make_dispatcher: Callable[..., Dispatcher],
    telegram: FakeTelegram,
) -> None:
    dispatcher = make_dispatcher()
    late = await _patient(sessions, chat_id=1)
    turned_off = await _patient(sessions, chat_id=2)
    on_time = await _patient(sessions, chat_id=3)
    await _run(sessions, plan, NOW)
    await _update(sessions, turned_off, weekly_tips=False)  # as if the switch raced the claim
    report = await dispatcher.run_once(FIRST_DUE + timedelta(days=1, hours=23))
    assert (report.sent, report.cancelled, report.expired) == (2, 1, 0)
    assert [row.status for row in await _tips_of(sessions, turned_off)] == [MessageStatus.CANCELLED]
    assert [message["chat_id"] for message in telegram.sent] in ([1, 3], [3, 1])

    await _run(sessions, plan, FIRST_DUE + timedelta(days=2))
    [row] = await _pending(sessions, on_time)
    for patient_id in (late, on_time):
        assert len(await _pending(sessions, patient_id)) == 1
    report = await dispatcher.run_once(row.due_at + timedelta(days=2, minutes=1))
    assert (report.sent, report.expired) == (0, 2)
    [expired] = [r for r in await _tips_of(sessions, late) if r.status is MessageStatus.EXPIRED]
    assert "catch-up window ended" in (expired.last_error or "")


async def test_install_adds_one_interval_job_that_runs_late_rather_than_never(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    try:
        quiet = QuietHours(time(22, 0), time(7, 0))
        tips_job.install(scheduler, sessions, clock, quiet_hours=quiet, interval_s=600)
        job_runner = tips_job.install(scheduler, sessions, clock, quiet_hours=quiet, interval_s=600)
        [job] = scheduler.get_jobs()
        assert (job.id, job.misfire_grace_time, job.coalesce, job.max_instances) == (
            "weekly-tips",
            None,
            True,
            1,
        )
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(seconds=600)
        patient_id = await _patient(sessions, chat_id=1)
        report = await job_runner.run()
        assert report is not None and report.patients == 1
        assert len(await _pending(sessions, patient_id)) == 1
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
