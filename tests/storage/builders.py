"""Rows for storage tests, built with only the fields a test cares about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Language, Patient, PatientStatus

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def add_patient(session: AsyncSession, now: datetime = NOW, **fields: Any) -> Patient:
    """Adds and flushes an active English patient in Madrid, with `fields` overriding."""
    values: dict[str, Any] = {
        "language": Language.EN,
        "timezone": "Europe/Madrid",
        "status": PatientStatus.ACTIVE,
        "created_at": now,
        "updated_at": now,
    }
    patient = Patient(**(values | fields))
    session.add(patient)
    await session.flush()
    return patient
