"""The simulator: a sandbox patient talks to the dialog on the web channel, and their clock jumps forward."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import AuditLog, Channel, Direction, MessageLog, MessageStatus, Patient, ScheduledMessage
from tests.admin.console import NOW, Console, add_operator, add_sandbox, csrf_of, sign_in


async def _signed_in(console: Console) -> str:
    await add_operator(console.sessions, "nurse@clinic.example")
    await sign_in(console.client, "nurse@clinic.example")
    return await csrf_of(console.client)


async def test_a_new_sandbox_patient_chats_on_the_web_channel(console: Console) -> None:
    token = await _signed_in(console)
    created = await console.client.post(
        "/admin/simulator", data={"csrf_token": token, "language": "en", "timezone": "Europe/Madrid"}
    )
    assert created.status_code == 303
    chat = created.headers["location"]
    said = await console.client.post(f"{chat}/say", data={"csrf_token": token, "text": "hello"})
    assert said.status_code == 303
    page = await console.client.get(chat)
    assert "hello" in page.text and 'name="option"' in page.text  # the sign-up's first choices as buttons
    async with console.sessions() as session:
        patient = await session.scalar(select(Patient).where(Patient.sandbox.is_(True)))
        log = list(await session.scalars(select(MessageLog).order_by(MessageLog.id)))
    assert patient is not None and patient.sandbox
    assert [row.direction for row in log][:2] == [Direction.INBOUND, Direction.OUTBOUND]
    assert {row.channel for row in log} == {Channel.WEB}


async def test_jumping_the_sandbox_clock_delivers_each_reminder_at_its_own_time(console: Console) -> None:
    token = await _signed_in(console)
    patient = await add_sandbox(console.sessions)
    for hours in ("24", "24", "24"):
        answer = await console.client.post(
            f"/admin/simulator/{patient.id}/jump", data={"csrf_token": token, "hours": hours}
        )
        assert answer.status_code == 303
    async with console.sessions() as session:
        rows = list(
            await session.scalars(
                select(ScheduledMessage)
                .where(
                    ScheduledMessage.patient_id == patient.id, ScheduledMessage.status == MessageStatus.SENT
                )
                .order_by(ScheduledMessage.due_at)
            )
        )
        log = list(await session.scalars(select(MessageLog).where(MessageLog.patient_id == patient.id)))
        jumps = list(
            await session.scalars(select(AuditLog.detail).where(AuditLog.action == "simulator.clock_jump"))
        )
    # the 7-day reminder was overdue but still in its catch-up window: it goes at once
    assert [row.touchpoint_id for row in rows] == [
        "reminder_7_days",
        "reminder_day_before",
        "reminder_morning_of",
    ]
    assert rows[0].sent_at == NOW
    future = rows[1:]
    assert all(row.sent_at == row.due_at and row.due_at > NOW for row in future)  # on the sandbox clock
    assert all(row.channel is Channel.WEB for row in rows)
    assert len(log) == 3 and all(entry.channel is Channel.WEB for entry in log)
    assert jumps == [{"hours": 24}] * 3
    page = await console.client.get(f"/admin/simulator/{patient.id}")
    assert "72 h ahead of real time" in page.text
    assert console.clock.now() == NOW  # the real clock never moved
    assert (
        await console.client.post(
            f"/admin/simulator/{patient.id}/jump", data={"csrf_token": token, "hours": "5"}
        )
    ).status_code == 422
    assert timedelta(hours=72) == timedelta(hours=sum(jump["hours"] for jump in jumps))
