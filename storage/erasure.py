"""Erasing a patient: every record of theirs goes, the message log included.

Owns `delete_patient`, used by the patient's own /delete (`bot.dialog.records`), by a redeemed invite that
discards a half-done sign-up, and by the console's erase (`admin.messages`). Audit rows are the caller's:
each names who erased and never the patient.
Nothing here commits; the caller owns the transaction. Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MessageLog, Patient


async def delete_patient(session: AsyncSession, patient: Patient) -> None:
    """Deletes the patient and, by cascade, their addresses, states, courses, doses, outbox rows and invites.

    Message-log rows are deleted too: they would keep message text after the patient's id is cleared.
    """
    await session.execute(delete(MessageLog).where(MessageLog.patient_id == patient.id))
    await session.delete(patient)
    await session.flush()
