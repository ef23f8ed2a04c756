"""An SMS opt-out falls back to Telegram when the chat is active, else flags the clinic; START restores SMS.

The dispatcher sends through the fake Bot API (real PTB `Bot`) and our own SMS port's fake.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from care.clock import FakeClock
from jobs.dispatcher import Dispatcher, DispatchReport
from storage import outbox, sms
from storage.models import AuditLog, Channel, CheckIn, CheckInReason, MessageStatus, ScheduledMessage
from storage.outbox import NewMessage
from tests.fakes.telegram_api import FakeTelegram
from tests.jobs.builders import NOW, RecordingSender, add_patient, row

CHAT, PHONE = 6001, "+34600000001"


async def _pinned_to_sms(session: AsyncSession, patient_id: int) -> int:
    await outbox.replace_pending(
        session, patient_id, [NewMessage("pinned", "one_off", NOW, channel=Channel.SMS)], NOW
    )
    found = await session.scalar(select(ScheduledMessage.id).where(ScheduledMessage.dedupe_key == "pinned"))
    assert found is not None
    return found


async def _audit(session: AsyncSession, patient_id: int) -> list[tuple[str, dict]]:
    rows = await session.scalars(
        select(AuditLog).where(AuditLog.patient_id == patient_id).order_by(AuditLog.id)
    )
    result = [(r.action, r.detail) for r in rows]
    await session.commit()
    return result


async def test_stop_by_sms_sends_what_was_pinned_to_sms_by_telegram_instead(
    session: AsyncSession,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: Callable[..., Dispatcher],
) -> None:
    patient = await add_patient(session, chat_id=CHAT, phone=PHONE)
    message_id = await _pinned_to_sms(session, patient.id)
    await session.commit()
    sms_port = RecordingSender()

    await sms.opt_out(session, PHONE, NOW)
    await session.commit()
    report = await make_dispatcher(extra={Channel.SMS: sms_port}).run_once(clock.now())

    assert report == DispatchReport(claimed=1, sent=1)
    stored = await row(session, message_id)
    assert (stored.status, stored.channel) == (MessageStatus.SENT, Channel.TELEGRAM)
    assert sms_port.calls == [] and [m["chat_id"] for m in telegram.sent] == [CHAT]
    assert await _audit(session, patient.id) == [
        (
            "channel_opted_out",
            {"channel": "sms", "cause": "sms: the patient texted STOP", "now_via": ["telegram"]},
        )
    ]


async def test_stop_with_no_other_channel_cancels_the_rows_flags_the_clinic_and_start_clears_it(
    session: AsyncSession,
    clock: FakeClock,
    telegram: FakeTelegram,
    make_dispatcher: Callable[..., Dispatcher],
) -> None:
    patient = await add_patient(session, phone=PHONE, consented_at=NOW)
    message_id = await _pinned_to_sms(session, patient.id)
    await session.commit()

    await sms.opt_out(session, PHONE, NOW, cause="sms: the carrier refused (21610)")
    await session.commit()
    await sms.opt_out(session, PHONE, NOW)  # twice: nothing more
    await session.commit()

    stored = await row(session, message_id)
    assert (stored.status, stored.last_error) == (MessageStatus.CANCELLED, "recipient opted out of SMS")
    flags = list(await session.scalars(select(CheckIn).where(CheckIn.reason == CheckInReason.UNREACHABLE)))
    await session.commit()
    assert [(f.patient_id, f.flagged, f.acknowledged_at) for f in flags] == [(patient.id, True, None)]

    await sms.opt_in(session, PHONE, NOW)
    await session.commit()

    flag = await session.get_one(CheckIn, flags[0].id, populate_existing=True)
    await session.commit()
    assert flag.acknowledged_at == NOW and flag.ack_note == "cleared: reachable again by sms"
    assert [action for action, _ in await _audit(session, patient.id)] == [
        "channel_opted_out",
        "channel_restored",
        "unreachable_cleared",
    ]
