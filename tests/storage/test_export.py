"""A patient's export holds every row stored about them, and nothing of anyone else, on both databases."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from care.formulation import Formulation
from storage.export import FORMAT, export_patient, to_json
from storage.models import (
    ActorType,
    AuditLog,
    Base,
    Channel,
    ChannelAddress,
    CheckIn,
    CheckInLevel,
    DialogState,
    Direction,
    Dose,
    DoseStatus,
    Invite,
    MessageLog,
    MessageStatus,
    Patient,
    ScheduledMessage,
    TreatmentCourse,
)
from tests.storage.builders import NOW, add_patient


async def _full_patient(session: AsyncSession, tag: str, chat: str, phone: str) -> Patient:
    """A patient with one row in every table that holds patient data; `tag` marks their words."""
    patient = await add_patient(
        session, display_name=f"Name {tag}", consent_version="2026-11", consented_at=NOW, sms_consent=True
    )
    telegram = ChannelAddress(
        patient_id=patient.id, channel=Channel.TELEGRAM, address=chat, state_changed_at=NOW
    )
    sms = ChannelAddress(patient_id=patient.id, channel=Channel.SMS, address=phone, state_changed_at=NOW)
    course = TreatmentCourse(patient_id=patient.id, formulation=Formulation.IV, started_at=NOW)
    session.add_all([telegram, sms, course])
    await session.flush()
    session.add(
        DialogState(
            channel_address_id=telegram.id,
            flow="main",
            step=f"step-{tag}",
            data={"k": tag},
            version=1,
            updated_at=NOW,
        )
    )
    dose = Dose(
        course_id=course.id,
        number=1,
        kind="initial_first",
        amount_mg=300,
        planned_at=NOW + timedelta(days=3),
        location=f"Clinic {tag}",
        status=DoseStatus.PLANNED,
        source="clinic",
    )
    session.add(dose)
    await session.flush()
    message = ScheduledMessage(
        patient_id=patient.id,
        dose_id=dose.id,
        kind="reminder",
        touchpoint_id="reminder_day_before",
        due_at=NOW + timedelta(days=2),
        status=MessageStatus.SENT,
        attempts=1,
        channel=Channel.TELEGRAM,
        dedupe_key=f"dedupe-{tag}",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(message)
    await session.flush()
    session.add_all(
        [
            MessageLog(
                patient_id=patient.id,
                channel=Channel.TELEGRAM,
                direction=Direction.INBOUND,
                text=f"words of {tag}",
                scheduled_message_id=message.id,
                created_at=NOW,
            ),
            CheckIn(
                patient_id=patient.id,
                dose_id=dose.id,
                scheduled_message_id=message.id,
                answer=f"answer of {tag}",
                level=CheckInLevel.FINE,
                created_at=NOW,
            ),
            AuditLog(
                at=NOW,
                actor_type=ActorType.PATIENT,
                patient_id=patient.id,
                action="consent_given",
                detail={"version": "2026-11"},
            ),
            Invite(
                code=f"INV{tag}",
                patient_id=patient.id,
                created_at=NOW,
                expires_at=NOW + timedelta(days=7),
            ),
        ]
    )
    await session.flush()
    return patient


async def test_the_export_holds_every_row_about_the_patient(session: AsyncSession) -> None:
    patient = await _full_patient(session, "alpha", "700000001", "+34600000001")
    await session.commit()

    document = await export_patient(session, patient.id, NOW)

    assert document is not None
    assert document["format"] == FORMAT and document["exported_at"] == NOW.isoformat()
    assert document["patient"]["display_name"] == "Name alpha"
    assert document["consent"] == {"version": "2026-11", "consented_at": NOW.isoformat(), "sms_consent": True}
    assert {row["address"] for row in document["channel_address"]} == {"700000001", "+34600000001"}
    assert [row["step"] for row in document["dialog_state"]] == ["step-alpha"]
    assert [row["formulation"] for row in document["treatment_course"]] == ["iv"]
    assert [row["location"] for row in document["dose"]] == ["Clinic alpha"]
    assert [row["touchpoint_id"] for row in document["scheduled_message"]] == ["reminder_day_before"]
    assert [row["text"] for row in document["message_log"]] == ["words of alpha"]
    assert [row["answer"] for row in document["check_in"]] == ["answer of alpha"]
    assert [row["action"] for row in document["audit_log"]] == ["consent_given"]
    assert [row["code"] for row in document["invite"]] == ["INValpha"]
    json.loads(to_json(document))  # every value is JSON


async def test_every_table_that_can_hold_a_patients_rows_is_a_section(session: AsyncSession) -> None:
    patient = await add_patient(session)
    await session.commit()

    document = await export_patient(session, patient.id, NOW)

    assert document is not None
    not_about_patients = {"patient", "operator", "api_token", "alembic_version"}
    for table in Base.metadata.sorted_tables:
        names = {key.column.table.name for key in table.foreign_keys}
        if table.name in not_about_patients or names <= {"operator"} and "patient_id" not in table.c:
            continue
        assert table.name in document, f"{table.name} is missing from the export"
    # Operators' secrets are never part of it.
    assert "operator" not in document and "api_token" not in document


async def test_the_export_holds_nothing_of_another_patient(session: AsyncSession) -> None:
    mine = await _full_patient(session, "alpha", "700000001", "+34600000001")
    other = await _full_patient(session, "omega", "799999999", "+34699999999")
    await session.commit()

    document = await export_patient(session, mine.id, NOW)

    assert document is not None
    text = to_json(document).decode()
    for trace in ("omega", "799999999", "+34699999999", "Name omega"):
        assert trace not in text
    for section, rows in document.items():
        if isinstance(rows, list):
            assert all(row.get("patient_id", mine.id) == mine.id for row in rows), section
    assert other.id != mine.id


async def test_an_unknown_patient_has_no_export(session: AsyncSession) -> None:
    assert await export_patient(session, 4040, NOW) is None
