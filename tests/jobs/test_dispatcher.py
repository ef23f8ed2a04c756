"""The dispatcher sends each due message once, through the real PTB client to the fake Bot API, logged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import SendResult
from care.clock import FakeClock
from care.plan import ReminderPlan
from jobs.dispatcher import Dispatcher, DispatchReport
from storage import outbox
from storage.db import create_engine, session_factory
from storage.models import (
    AddressState,
    Channel,
    Direction,
    MessageStatus,
    Patient,
    PatientStatus,
)
from storage.plans import replan_patient
from tests.fakes.telegram_api import FakeTelegram
from tests.jobs.builders import (
    APPOINTMENT,
    NOW,
    RecordingSender,
    TestRenderer,
    add_one_off,
    add_patient,
    address,
    book,
    logs,
    row,
    row_of,
)

MakeDispatcher = Callable[..., Dispatcher]
CHAT = 5001


async def test_a_due_reminder_goes_out_once_through_telegram_and_is_logged(
    session: AsyncSession,
    plan: ReminderPlan,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: MakeDispatcher,
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    await book(session, plan, patient)
    await session.commit()
    reminder = await row_of(session, patient.id, "reminder_7_days")
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once(clock.now()) == DispatchReport()  # nothing due yet
    clock.set(reminder.due_at)
    report = await dispatcher.run_once(clock.now())

    assert report == DispatchReport(claimed=1, sent=1)
    [sent] = telegram.sent
    assert (sent["chat_id"], sent["text"]) == (CHAT, f"reminder reminder_7_days #{reminder.id}")
    stored = await row(session, reminder.id)
    assert (stored.status, stored.sent_at, stored.attempts) == (MessageStatus.SENT, clock.now(), 1)
    assert stored.provider_id is not None and stored.provider_id.startswith(f"{CHAT}:")
    [entry] = await logs(session)
    assert (entry.patient_id, entry.channel, entry.direction) == (
        patient.id,
        Channel.TELEGRAM,
        Direction.OUTBOUND,
    )
    assert (entry.text, entry.provider_id, entry.scheduled_message_id) == (
        sent["text"],
        stored.provider_id,
        reminder.id,
    )

    clock.advance(timedelta(minutes=5))
    assert (await dispatcher.run_once(clock.now())).claimed == 0
    assert len(telegram.sent) == 1


async def test_a_check_in_carries_its_options_tagged_with_the_message_id(
    session: AsyncSession,
    plan: ReminderPlan,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: MakeDispatcher,
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    await book(session, plan, patient)
    await session.commit()
    check_in = await row_of(session, patient.id, "check_in_24_hours")
    clock.set(check_in.due_at)
    await session.execute(  # only the check-in is due: the earlier rows went out already
        update(type(check_in)).where(type(check_in).id != check_in.id).values(status=MessageStatus.SENT)
    )
    await session.commit()

    assert (await make_dispatcher().run_once(clock.now())).sent == 1
    buttons = [b["callback_data"] for [b] in telegram.sent[0]["reply_markup"]["inline_keyboard"]]
    assert buttons == [f"{check_in.id}:fine", f"{check_in.id}:unwell"]


async def test_two_dispatchers_running_at_once_never_send_a_row_twice(
    session: AsyncSession,
    database_url: str,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: MakeDispatcher,
) -> None:
    chats = list(range(CHAT, CHAT + 24))
    for chat in chats:
        patient = await add_patient(session, chat_id=chat)
        await add_one_off(session, patient.id)
    await session.commit()
    other_engine = create_engine(database_url)  # a second process, as far as the database can tell
    try:
        first = make_dispatcher("worker-1", batch_size=5)
        second = make_dispatcher("worker-2", batch_size=5, sessions=session_factory(other_engine))
        reports: list[DispatchReport] = []
        while not reports or any(report.claimed for report in reports[-2:]):
            reports += await asyncio.gather(first.run_once(clock.now()), second.run_once(clock.now()))
    finally:
        await other_engine.dispose()

    assert sorted(message["chat_id"] for message in telegram.sent) == chats
    assert sum(report.sent for report in reports) == len(chats)
    assert len(await logs(session)) == len(chats)


async def test_a_patient_paused_after_the_claim_gets_nothing(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: MakeDispatcher,
) -> None:
    first = await add_patient(session, chat_id=CHAT)
    later = await add_patient(session, chat_id=CHAT + 1)
    first_id = await add_one_off(session, first.id, NOW - timedelta(minutes=1))
    later_id = await add_one_off(session, later.id, NOW)
    await session.commit()

    class PausingWhileSending(RecordingSender):
        """Telegram stand-in: while the first message is in flight, the other patient presses pause."""

        async def send(self, address: str, text: str, options: object) -> SendResult:  # type: ignore[override]
            async with sessions() as other, other.begin():
                await other.execute(
                    update(Patient).where(Patient.id == later.id).values(status=PatientStatus.PAUSED)
                )
            return await super().send(address, text, options)  # type: ignore[arg-type]

    sender = PausingWhileSending()
    dispatcher = make_dispatcher(extra={Channel.TELEGRAM: sender}, max_concurrency=1)
    report = await dispatcher.run_once(clock.now())

    assert report == DispatchReport(claimed=2, sent=1, cancelled=1)
    assert [address for address, _, _ in sender.calls] == [str(CHAT)]
    assert (await row(session, first_id)).status is MessageStatus.SENT
    cancelled = await row(session, later_id)
    assert (cancelled.status, cancelled.last_error) == (MessageStatus.CANCELLED, "patient paused")


async def test_too_many_requests_is_honoured_and_the_row_is_sent_after_the_wait(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once(clock.now()) == DispatchReport(claimed=1, retried=1)
    waiting = await row(session, message_id)
    assert (waiting.status, waiting.next_attempt_at) == (MessageStatus.PENDING, NOW + timedelta(seconds=7))
    assert waiting.last_error == "telegram: Flood control exceeded. Retry in 0:00:07"
    assert (await dispatcher.run_once(clock.advance(timedelta(seconds=6)))).claimed == 0

    assert await dispatcher.run_once(clock.advance(timedelta(seconds=1))) == DispatchReport(claimed=1, sent=1)
    assert len(telegram.sent) == 1
    assert (await row(session, message_id)).attempts == 2


async def test_server_errors_back_off_exponentially_until_delivered(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    for _ in range(2):
        telegram.fail_next("sendMessage", 500, "Internal Server Error")
    dispatcher = make_dispatcher()

    retry_times = []
    for _ in range(2):
        assert (await dispatcher.run_once(clock.now())).retried == 1
        retry_at = (await row(session, message_id)).next_attempt_at
        assert retry_at is not None
        retry_times.append(retry_at - clock.now())
        assert (await dispatcher.run_once(retry_at - timedelta(seconds=1))).claimed == 0
        clock.set(retry_at)

    assert retry_times == [timedelta(seconds=30), timedelta(seconds=60)]
    assert (await dispatcher.run_once(clock.now())).sent == 1
    stored = await row(session, message_id)
    assert (stored.status, stored.attempts, len(telegram.sent)) == (MessageStatus.SENT, 3, 1)


async def test_a_row_that_keeps_failing_fails_after_max_attempts(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    dispatcher = make_dispatcher(max_attempts=2)
    for _ in range(2):
        telegram.fail_next("sendMessage", 502, "Bad Gateway")
        await dispatcher.run_once(clock.advance(timedelta(hours=1)))
    stored = await row(session, message_id)
    assert stored.status is MessageStatus.FAILED
    assert stored.last_error == "gave up after 2 attempts: telegram: NetworkError: Bad Gateway"


async def test_a_blocked_bot_marks_the_address_and_fails_the_row_when_no_channel_is_left(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    telegram.blocked_chats.add(CHAT)

    assert await make_dispatcher().run_once(clock.now()) == DispatchReport(claimed=1, failed=1)

    stored = await row(session, message_id)
    assert stored.status is MessageStatus.FAILED
    assert stored.last_error == "telegram: Forbidden: bot was blocked by the user; no reachable channel"
    blocked = await address(session, patient.id, Channel.TELEGRAM)
    assert (blocked.state, blocked.state_changed_at) == (AddressState.BLOCKED, NOW)
    assert await logs(session) == []


async def test_a_blocked_bot_hands_the_row_to_the_next_channel_at_once(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT, phone="+34600000001")
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    telegram.blocked_chats.add(CHAT)
    sms = RecordingSender()

    report = await make_dispatcher(extra={Channel.SMS: sms}).run_once(clock.now())

    assert report == DispatchReport(claimed=1, sent=1)
    assert [address for address, _, _ in sms.calls] == ["+34600000001"]
    [entry] = await logs(session)
    assert (entry.channel, entry.provider_id) == (Channel.SMS, "SM1")
    assert (await row(session, message_id)).status is MessageStatus.SENT


async def test_sms_is_skipped_without_sms_consent(
    session: AsyncSession, clock: FakeClock, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, phone="+34600000001", sms_consent=False)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    sms = RecordingSender()
    assert (await make_dispatcher(extra={Channel.SMS: sms}).run_once(clock.now())).failed == 1
    assert sms.calls == []
    assert (await row(session, message_id)).last_error == "no reachable channel"


async def test_a_dead_workers_lease_becomes_uncertain_and_is_never_resent(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    async with session.begin():  # a worker claims, maybe sends, and dies before recording anything
        await outbox.claim_due(session, clock.now(), limit=10, worker_id="dead", lease_s=120)
    dispatcher = make_dispatcher()

    assert await dispatcher.run_once(clock.advance(timedelta(seconds=60))) == DispatchReport()
    assert await dispatcher.run_once(clock.advance(timedelta(seconds=61))) == DispatchReport(uncertain=1)
    assert await dispatcher.run_once(clock.advance(timedelta(hours=1))) == DispatchReport()

    assert (await row(session, message_id)).status is MessageStatus.UNCERTAIN
    assert telegram.sent == []


async def test_a_reminder_past_its_catch_up_window_expires_unsent(
    session: AsyncSession,
    plan: ReminderPlan,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: MakeDispatcher,
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    await book(session, plan, patient)
    await session.commit()
    clock.set(APPOINTMENT - timedelta(hours=23))  # the service was down since before the 7-day reminder

    report = await make_dispatcher().run_once(clock.now())

    assert report == DispatchReport(claimed=1, expired=1)
    stored = await row_of(session, patient.id, "reminder_7_days")
    assert stored.status is MessageStatus.EXPIRED
    assert stored.last_error == "catch-up window ended at 2026-12-09T14:00:00+00:00"
    assert telegram.sent == []


async def test_a_row_the_plan_dropped_while_it_was_overdue_is_cancelled(
    session: AsyncSession,
    plan: ReminderPlan,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: MakeDispatcher,
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    dose = await book(session, plan, patient)
    dose.planned_at = APPOINTMENT + timedelta(days=14)  # moved after the 7-day reminder fell due, unsent
    clock.set(APPOINTMENT - timedelta(days=6))
    await replan_patient(session, patient.id, plan, clock.now())
    await session.commit()

    report = await make_dispatcher().run_once(clock.now())

    assert report == DispatchReport(claimed=1, cancelled=1)
    stale = await row_of(session, patient.id, "reminder_7_days")
    assert stale.status is MessageStatus.PENDING  # the new appointment's reminder, still ahead
    assert telegram.sent == []


async def test_a_sandbox_patient_is_reached_on_the_web_only(
    session: AsyncSession,
    clock: FakeClock,
    telegram: FakeTelegram,
    renderer: TestRenderer,
    make_dispatcher: MakeDispatcher,
) -> None:
    patient = await add_patient(session, chat_id=CHAT, sandbox=True)
    message_id = await add_one_off(session, patient.id)
    await session.commit()

    assert (await make_dispatcher().run_once(clock.now())).sent == 1

    assert telegram.sent == []
    assert renderer.calls == [(message_id, Channel.WEB)]
    [entry] = await logs(session)
    assert (
        entry.channel is Channel.WEB
        and entry.provider_id is not None
        and entry.provider_id.startswith("web-")
    )
    assert entry.text == f"one_off None #{message_id}"


async def test_a_patient_with_no_address_fails_with_a_reason(
    session: AsyncSession, clock: FakeClock, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session)
    message_id = await add_one_off(session, patient.id)
    await session.commit()
    assert (await make_dispatcher().run_once(clock.now())).failed == 1
    assert (await row(session, message_id)).last_error == "no reachable channel"


async def test_a_renderer_error_fails_the_row_and_sends_nothing(
    session: AsyncSession, clock: FakeClock, telegram: FakeTelegram, make_dispatcher: MakeDispatcher
) -> None:
    patient = await add_patient(session, chat_id=CHAT)
    message_id = await add_one_off(session, patient.id)
    await session.commit()

    async def broken(*_: object) -> TestRenderer:
        raise KeyError("no such template")

    assert (await make_dispatcher(render=broken).run_once(clock.now())).failed == 1
    assert (await row(session, message_id)).last_error == "render failed: KeyError"
    assert telegram.sent == []
