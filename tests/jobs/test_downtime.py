"""Thirty hours down: every row is sent in due order while it still makes sense, or expired, never lost.

The clock-driven service (the real dispatcher, the production renderer and the Telegram sender against the
fake Bot API) ticks every half hour of fake time, stops for 30 hours, restarts as a new worker and ticks on.
Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from care.clock import FakeClock
from care.plan import ReminderPlan
from care.triage import load_policy
from jobs.dispatcher import Dispatcher, DispatchReport
from jobs.render import OutboxRenderer
from storage.models import Language, MessageStatus, ScheduledMessage
from tests.fakes.telegram_api import FakeTelegram
from tests.jobs.builders import add_patient, book

MADRID = ZoneInfo("Europe/Madrid")
TICK = timedelta(minutes=30)
START = datetime(2026, 12, 1, 9, 0, tzinfo=MADRID)
STOP = datetime(2026, 12, 9, 3, 0, tzinfo=MADRID)
DOWNTIME = timedelta(hours=30)  # back at 10 December 09:00
END = datetime(2026, 12, 10, 12, 0, tzinfo=MADRID)
# chat id -> (appointment in Madrid, language)
PATIENTS = {
    801: (datetime(2026, 12, 10, 9, 30, tzinfo=MADRID), Language.EN),  # A: the day of the restart
    802: (datetime(2026, 12, 8, 15, 0, tzinfo=MADRID), Language.EN),  # B: its check-ins fall in the gap
    803: (datetime(2026, 12, 10, 8, 0, tzinfo=MADRID), Language.EN),  # C: started before the restart
    804: (datetime(2026, 12, 16, 9, 30, tzinfo=MADRID), Language.EN),  # D: its 7-day reminder is late
    805: (datetime(2026, 12, 10, 11, 0, tzinfo=MADRID), Language.ES),  # E: the day of the restart, Spanish
}
SENT, EXPIRED, PENDING = MessageStatus.SENT, MessageStatus.EXPIRED, MessageStatus.PENDING
EXPECTED = {
    801: {
        "reminder_7_days": SENT,
        "reminder_day_before": EXPIRED,  # superseded by the morning's reminder, due too at the restart
        "reminder_morning_of": SENT,
        "check_in_evening": PENDING,
        "check_in_24_hours": PENDING,
        "dose_confirm": PENDING,
    },
    802: {
        "reminder_7_days": SENT,
        "reminder_day_before": SENT,
        "reminder_morning_of": SENT,
        "check_in_evening": EXPIRED,  # due 9 Dec 08:00; worth sending until 20:30 that day
        "check_in_24_hours": SENT,  # due 9 Dec 20:30; until 10 Dec 20:30
        "dose_confirm": SENT,  # due 10 Dec 10:00, after the restart
    },
    803: {
        "reminder_7_days": SENT,
        "reminder_day_before": EXPIRED,  # the appointment began before the restart
        "reminder_morning_of": EXPIRED,
        "check_in_evening": PENDING,
        "check_in_24_hours": PENDING,
        "dose_confirm": PENDING,
    },
    804: {
        "reminder_7_days": SENT,  # due 9 Dec 10:00; until 15 Dec 09:30
        "reminder_day_before": PENDING,
        "reminder_morning_of": PENDING,
        "check_in_evening": PENDING,
        "check_in_24_hours": PENDING,
        "dose_confirm": PENDING,
    },
    805: {
        "reminder_7_days": SENT,
        "reminder_day_before": EXPIRED,
        "reminder_morning_of": SENT,
        "check_in_evening": PENDING,
        "check_in_24_hours": PENDING,
        "dose_confirm": PENDING,
    },
}


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, its per-chat limit (real seconds) far above what 30 fake hours squeeze into a few."""
    server = FakeTelegram(chat_per_s=100, chat_burst=10)
    await server.start()
    yield server
    await server.stop()


async def _tick_until(dispatcher: Dispatcher, clock: FakeClock, until: datetime) -> list[DispatchReport]:
    reports = []
    while clock.now() < until:
        reports.append(await dispatcher.run_once(clock.advance(TICK)))
    return reports


async def _rows(session: AsyncSession) -> dict[int, dict[str, ScheduledMessage]]:
    rows = list(await session.scalars(select(ScheduledMessage).execution_options(populate_existing=True)))
    await session.commit()
    by_patient: dict[int, dict[str, ScheduledMessage]] = {}
    for row in rows:
        assert row.touchpoint_id is not None
        by_patient.setdefault(row.patient_id, {})[row.touchpoint_id] = row
    return by_patient


async def test_after_30_hours_down_each_row_is_sent_in_due_order_or_expired_with_a_reason(
    session: AsyncSession,
    plan: ReminderPlan,
    telegram: FakeTelegram,
    make_dispatcher: Callable[..., Dispatcher],
) -> None:
    clock = FakeClock(START)
    patient_of_chat = {}
    for chat, (appointment, language) in PATIENTS.items():
        patient = await add_patient(session, chat_id=chat, language=language, display_name=None)
        await book(session, plan, patient, appointment, now=clock.now())
        patient_of_chat[chat] = patient.id
    await session.commit()
    renderer = OutboxRenderer(clock, load_policy(), None)

    def dispatcher(worker: str) -> Dispatcher:
        made = make_dispatcher(worker, render=renderer)
        made._clock = clock  # this test's own clock, started on 1 December
        return made

    before = await _tick_until(dispatcher("before"), clock, STOP)
    clock.advance(DOWNTIME)  # nothing runs: the process is down
    restart_at = clock.now()
    first = await dispatcher("after").run_once(restart_at)
    after = await _tick_until(dispatcher("after"), clock, END)

    rows = await _rows(session)
    fates = {chat: {tp: row.status for tp, row in rows[patient_of_chat[chat]].items()} for chat in PATIENTS}
    assert fates == EXPECTED
    assert all(r.retried == r.failed == 0 for r in (*before, first, *after))
    assert (first.claimed, first.sent, first.expired) == (9, 4, 5)
    assert sum(r.sent for r in before) + first.sent + sum(r.sent for r in after) == len(telegram.sent) == 11
    for row in (row for by_tp in rows.values() for row in by_tp.values() if row.status is EXPIRED):
        assert row.last_error is not None and row.sent_at is None  # a record saying why
        assert row.last_error.startswith(("catch-up window ended at", "superseded by reminder_morning_of"))
    for chat in PATIENTS:  # each chat got its rows in due order
        got = [message["text"] for message in telegram.sent if message["chat_id"] == chat]
        sent_rows = sorted(
            (row for row in rows[patient_of_chat[chat]].values() if row.status is SENT),
            key=lambda r: r.due_at,
        )
        assert [row.sent_at for row in sent_rows] == sorted(row.sent_at for row in sent_rows)
        assert len(got) == len(sent_rows)
    texts = {chat: [m["text"] for m in telegram.sent if m["chat_id"] == chat] for chat in PATIENTS}
    assert "today at 9:30" in texts[801][-1] and "tomorrow" not in texts[801][-1]
    assert "hoy a las 11:00" in texts[805][-1] and "mañana" not in texts[805][-1]
    assert "on Wednesday 16 December at 9:30" in texts[804][-1]
    assert all(row.sent_at is None or row.sent_at <= END for by_tp in rows.values() for row in by_tp.values())


async def test_back_at_3am_nothing_goes_out_before_quiet_hours_end_and_then_only_what_still_makes_sense(
    session: AsyncSession,
    plan: ReminderPlan,
    telegram: FakeTelegram,
    make_dispatcher: Callable[..., Dispatcher],
) -> None:
    clock = FakeClock(START)
    appointment = datetime(2026, 12, 10, 9, 30, tzinfo=MADRID)
    patient = await add_patient(session, chat_id=801, display_name=None)
    await book(session, plan, patient, appointment, now=clock.now())
    await session.commit()
    made = make_dispatcher("night", render=OutboxRenderer(clock, load_policy(), None))
    made._clock = clock
    await _tick_until(made, clock, datetime(2026, 12, 9, 12, 0, tzinfo=MADRID))
    clock.set(datetime(2026, 12, 10, 3, 0, tzinfo=MADRID))  # down from noon; back at 03:00
    sent_before = len(telegram.sent)

    night = await made.run_once(clock.now())
    held = (await _rows(session))[patient.id]["reminder_day_before"]
    until_morning = await _tick_until(
        made, clock, datetime(2026, 12, 10, 7, 30, tzinfo=MADRID)
    )  # last: 07:30
    sent_by_0730 = len(telegram.sent)
    morning = await _tick_until(made, clock, datetime(2026, 12, 10, 8, 30, tzinfo=MADRID))

    assert (night.claimed, night.deferred, night.sent) == (1, 1, 0)
    assert held.status is PENDING and held.next_attempt_at == datetime(2026, 12, 10, 8, 0, tzinfo=MADRID)
    assert held.last_error == "quiet hours: held until 2026-12-10T07:00:00+00:00"
    assert sum(r.sent for r in until_morning) == 0 and sent_by_0730 == sent_before
    rows = (await _rows(session))[patient.id]
    assert rows["reminder_day_before"].status is EXPIRED  # at 08:00 the morning's reminder says it better
    assert rows["reminder_day_before"].last_error == "superseded by reminder_morning_of, also due"
    assert rows["reminder_morning_of"].status is SENT
    assert sum(r.sent for r in morning) == 1 and "today at 9:30" in telegram.sent[-1]["text"]
