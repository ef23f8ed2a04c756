"""Rows, fakes of our own ports and a test renderer for the jobs tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Option, SendResult
from care.formulation import Formulation, dose_kind
from care.plan import ReminderPlan
from storage import outbox
from storage.models import (
    Channel,
    ChannelAddress,
    Dose,
    DoseStatus,
    Language,
    MessageLog,
    Patient,
    PatientStatus,
    ScheduledMessage,
    TreatmentCourse,
)
from storage.outbox import ClaimedMessage, NewMessage
from storage.plans import replan_patient

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
APPOINTMENT = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)  # 15:00 in Madrid


@dataclass(frozen=True)
class Rendered:
    text: str
    options: Sequence[Option] = ()


class TestRenderer:
    """Renders "<kind> <touchpoint> #<id>"; check-ins get two options. Records (message id, channel)."""

    __test__ = False

    def __init__(self) -> None:
        self.calls: list[tuple[int, Channel]] = []

    async def __call__(
        self, session: AsyncSession, message: ClaimedMessage, patient: Patient, channel: Channel
    ) -> Rendered:
        self.calls.append((message.id, channel))
        options = [Option("fine", "Fine"), Option("unwell", "Unwell")] if message.kind == "check_in" else []
        return Rendered(f"{message.kind} {message.touchpoint_id} #{message.id}", options)


@dataclass
class RecordingSender:
    """Our own port's fake (an SMS stand-in): answers `results` in turn, then success; records every call."""

    results: list[SendResult] = field(default_factory=list)
    calls: list[tuple[str, str, Sequence[Option]]] = field(default_factory=list)

    async def send(self, address: str, text: str, options: Sequence[Option]) -> SendResult:
        self.calls.append((address, text, options))
        return self.results.pop(0) if self.results else SendResult.sent(f"SM{len(self.calls)}")


async def add_patient(
    session: AsyncSession, *, chat_id: int | None = None, phone: str | None = None, **fields: Any
) -> Patient:
    """Adds an active Madrid patient, reachable in Telegram at `chat_id` and by SMS at `phone` if given."""
    values: dict[str, Any] = {
        "language": Language.EN,
        "timezone": "Europe/Madrid",
        "status": PatientStatus.ACTIVE,
        "sms_consent": phone is not None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    patient = Patient(**(values | fields))
    session.add(patient)
    await session.flush()
    for channel, address in ((Channel.TELEGRAM, chat_id), (Channel.SMS, phone)):
        if address is not None:
            session.add(
                ChannelAddress(
                    patient_id=patient.id, channel=channel, address=str(address), state_changed_at=NOW
                )
            )
    await session.flush()
    return patient


async def add_one_off(
    session: AsyncSession, patient_id: int, due_at: datetime = NOW, key: str = "one-off"
) -> int:
    """Adds a message outside the plan (no touchpoint, so no catch-up window) and returns its id."""
    await outbox.replace_pending(session, patient_id, [NewMessage(key, "one_off", due_at)], NOW)
    query = select(ScheduledMessage.id).where(
        ScheduledMessage.patient_id == patient_id, ScheduledMessage.dedupe_key == key
    )
    return (await session.scalars(query)).one()


async def book(
    session: AsyncSession,
    plan: ReminderPlan,
    patient: Patient,
    appointment: datetime = APPOINTMENT,
    *,
    last_given: datetime | None = None,
    now: datetime = NOW,
) -> Dose:
    """Gives the patient an IV course with dose 3 planned at `appointment` (dose 2 given) and replans."""
    course = TreatmentCourse(
        patient_id=patient.id, formulation=Formulation.IV, started_at=NOW - timedelta(days=400)
    )
    session.add(course)
    await session.flush()
    given_at = last_given or appointment - timedelta(days=182)
    doses = [
        Dose(
            course_id=course.id,
            number=number,
            kind=str(dose_kind(Formulation.IV, number)),
            amount_mg=dose_kind(Formulation.IV, number).amount_mg,
            planned_at=at,
            given_at=at if status is DoseStatus.GIVEN else None,
            status=status,
            source="clinic",
        )
        for number, at, status in ((2, given_at, DoseStatus.GIVEN), (3, appointment, DoseStatus.PLANNED))
    ]
    session.add_all(doses)
    await session.flush()
    await replan_patient(session, patient.id, plan, now)
    return doses[1]


async def _read(session: AsyncSession, query: Any) -> list[Any]:
    """Runs a query and ends the transaction: on SQLite an open one would hold the single write lock."""
    result = list(await session.scalars(query.execution_options(populate_existing=True)))
    await session.commit()
    return result


async def row(session: AsyncSession, message_id: int) -> ScheduledMessage:
    """The row as stored now."""
    [found] = await _read(session, select(ScheduledMessage).where(ScheduledMessage.id == message_id))
    return found


async def row_of(session: AsyncSession, patient_id: int, touchpoint_id: str) -> ScheduledMessage:
    """The patient's latest row of a touchpoint."""
    query = (
        select(ScheduledMessage)
        .where(ScheduledMessage.patient_id == patient_id, ScheduledMessage.touchpoint_id == touchpoint_id)
        .order_by(ScheduledMessage.id.desc())
        .limit(1)
    )
    [found] = await _read(session, query)
    return found


async def address(session: AsyncSession, patient_id: int, channel: Channel) -> ChannelAddress:
    """The patient's address on `channel`."""
    query = select(ChannelAddress).where(
        ChannelAddress.patient_id == patient_id, ChannelAddress.channel == channel
    )
    [found] = await _read(session, query)
    return found


async def logs(session: AsyncSession) -> list[MessageLog]:
    """Every message_log row, oldest first."""
    return await _read(session, select(MessageLog).order_by(MessageLog.id))
