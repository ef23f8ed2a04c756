"""The models: UTC instants, vocabularies the database enforces, cascades, optimistic dialog state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from storage.models import (
    ActorType,
    AddressState,
    AuditLog,
    Channel,
    ChannelAddress,
    CheckIn,
    CheckInLevel,
    DialogState,
    Direction,
    Dose,
    Invite,
    MessageLog,
    Patient,
    ScheduledMessage,
    TreatmentCourse,
)
from tests.storage.builders import NOW, add_patient

KOLKATA = timezone(timedelta(hours=5, minutes=30))


async def test_instants_come_back_aware_in_utc_to_the_microsecond(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    written = datetime(2026, 3, 29, 7, 30, 15, 123456, tzinfo=KOLKATA)
    async with sessions() as session, session.begin():
        patient_id = (await add_patient(session, created_at=written)).id
    async with sessions() as session:
        read = await session.scalar(select(Patient.created_at).where(Patient.id == patient_id))
    assert read == written
    assert read.tzinfo is UTC
    assert read.hour == 2 and read.microsecond == 123456


async def test_naive_datetimes_are_rejected_on_write_and_in_queries(session: AsyncSession) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await add_patient(session, created_at=datetime(2026, 1, 1, 9, 0))  # noqa: DTZ001
    await session.rollback()
    with pytest.raises(StatementError, match="naive datetime"):
        await session.scalar(select(Patient.id).where(Patient.created_at < datetime(2026, 1, 1)))  # noqa: DTZ001


async def test_a_value_outside_a_vocabulary_is_refused_by_the_model_and_by_the_database(
    session: AsyncSession,
) -> None:
    with pytest.raises(StatementError, match="zombie"):
        await add_patient(session, status="zombie")
    await session.rollback()
    with pytest.raises(IntegrityError):
        await session.execute(
            text(
                "INSERT INTO patient"
                " (language, timezone, status, sandbox, sms_consent, created_at, updated_at)"
                " VALUES ('en', 'UTC', 'zombie', false, false, :now, :now)"
            ),
            {"now": NOW},
        )


async def test_erasing_a_patient_deletes_their_rows_and_logs_keep_theirs_without_the_patient(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        patient = await add_patient(session)
        other = await add_patient(session)
        address = ChannelAddress(
            patient_id=patient.id, channel=Channel.SMS, address="+34600000001", state_changed_at=NOW
        )
        course = TreatmentCourse(patient_id=patient.id, formulation="iv", started_at=NOW)
        session.add_all([address, course])
        await session.flush()
        dose = Dose(
            course_id=course.id, number=1, kind="iv_600mg", amount_mg=600, planned_at=NOW, source="clinic"
        )
        session.add_all([dose, DialogState(channel_address_id=address.id, flow="signup", updated_at=NOW)])
        await session.flush()
        message = ScheduledMessage(
            patient_id=patient.id,
            dose_id=dose.id,
            kind="reminder",
            due_at=NOW,
            dedupe_key="reminder:1",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(message)
        await session.flush()
        session.add_all(
            [
                MessageLog(
                    patient_id=patient.id,
                    channel=Channel.SMS,
                    direction=Direction.OUTBOUND,
                    text="See you tomorrow",
                    scheduled_message_id=message.id,
                    created_at=NOW,
                ),
                CheckIn(
                    patient_id=patient.id,
                    dose_id=dose.id,
                    scheduled_message_id=message.id,
                    level=CheckInLevel.FINE,
                    created_at=NOW,
                ),
                AuditLog(at=NOW, actor_type=ActorType.SYSTEM, patient_id=patient.id, action="enrolled"),
                Invite(
                    code="ABC123", patient_id=patient.id, created_at=NOW, expires_at=NOW + timedelta(days=7)
                ),
                ChannelAddress(
                    patient_id=other.id, channel=Channel.SMS, address="+34600000002", state_changed_at=NOW
                ),
            ]
        )
    async with sessions() as session, session.begin():
        # a Core DELETE: the database cascades, the ORM does nothing
        await session.execute(delete(Patient).where(Patient.id == patient.id))
    async with sessions() as session:
        for model in (ChannelAddress, DialogState, TreatmentCourse, Dose, ScheduledMessage, CheckIn, Invite):
            owned = select(func.count()).select_from(model)
            if hasattr(model, "patient_id"):
                owned = owned.where(model.patient_id == patient.id)
            assert await session.scalar(owned) == 0, model.__tablename__
        log = (await session.scalars(select(MessageLog))).one()
        assert (log.patient_id, log.scheduled_message_id, log.text) == (None, None, "See you tomorrow")
        audit = (await session.scalars(select(AuditLog))).one()
        assert (audit.patient_id, audit.action) == (None, "enrolled")
        assert (await session.scalars(select(ChannelAddress))).one().patient_id == other.id


async def test_a_second_writer_of_the_same_dialog_state_version_fails(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        patient = await add_patient(session)
        address = ChannelAddress(
            patient_id=patient.id, channel=Channel.TELEGRAM, address="4242", state_changed_at=NOW
        )
        session.add(address)
        await session.flush()
        session.add(
            DialogState(channel_address_id=address.id, flow="signup", step="language", updated_at=NOW)
        )
    async with sessions() as first, sessions() as second:
        mine = (await first.scalars(select(DialogState))).one()
        await first.commit()
        theirs = (await second.scalars(select(DialogState))).one()
        await second.commit()
        assert mine.version == theirs.version == 1
        mine.step, mine.data = "timezone", {"language": "es"}
        await first.commit()
        theirs.step = "consent"
        with pytest.raises(StaleDataError):
            await second.commit()
    async with sessions() as session:
        state = (await session.scalars(select(DialogState))).one()
        assert (state.step, state.data, state.version) == ("timezone", {"language": "es"}, 2)


async def test_an_address_belongs_to_one_patient_per_channel(session: AsyncSession) -> None:
    first, second = await add_patient(session), await add_patient(session)
    session.add(
        ChannelAddress(patient_id=first.id, channel=Channel.SMS, address="+1555", state_changed_at=NOW)
    )
    await session.flush()
    session.add(
        ChannelAddress(
            patient_id=second.id,
            channel=Channel.SMS,
            address="+1555",
            state=AddressState.ACTIVE,
            state_changed_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        await session.flush()
