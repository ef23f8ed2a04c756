"""What an operator changes: pause, resume, unsubscribe a patient; acknowledge an alert. Each is audited.

Each action runs in one transaction of its own: the change, the rewritten outbox (`replan_patient`, so
the dispatcher follows at once) and the audit row commit together or not at all. Audit rows carry ids and
status words only. Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from care.plan import ReminderPlan
from storage import alerts, plans
from storage.models import CheckIn, Patient, PatientStatus


class StatusAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    UNSUBSCRIBE = "unsubscribe"


# action -> (statuses it applies to, the status it sets)
_MOVES = {
    StatusAction.PAUSE: ((PatientStatus.ACTIVE,), PatientStatus.PAUSED),
    StatusAction.RESUME: ((PatientStatus.PAUSED,), PatientStatus.ACTIVE),
    StatusAction.UNSUBSCRIBE: (
        (PatientStatus.SIGNING_UP, PatientStatus.ACTIVE, PatientStatus.PAUSED),
        PatientStatus.STOPPED,
    ),
}


class NotFound(LookupError):
    """No such patient or alert."""


async def locked_patient(session: AsyncSession, patient_id: int) -> Patient:
    """Returns the patient row locked for this transaction, as the database holds it; NotFound otherwise."""
    patient = await session.scalar(
        select(Patient)
        .where(Patient.id == patient_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if patient is None:
        raise NotFound(f"patient {patient_id} does not exist")
    return patient


class Conflict(ValueError):
    """The action does not apply to the row as it is now; the message says why in one line."""


@dataclass(frozen=True)
class StatusChange:
    """A patient's status before and after an action, and how many outbox rows were cancelled."""

    patient_id: int
    before: PatientStatus
    after: PatientStatus
    cancelled: int


async def change_status(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    action: StatusAction,
    *,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> StatusChange:
    """Moves the patient's status, replans the outbox and audits; NotFound or Conflict when it cannot."""
    allowed, after = _MOVES[action]
    async with sessions() as session, session.begin():
        patient = await locked_patient(session, patient_id)
        before = patient.status
        if before not in allowed:
            raise Conflict(f"cannot {action.value} a patient who is {before.value}")
        patient.status = after
        patient.updated_at = now
        await session.flush()
        report = await plans.replan_patient(session, patient_id, plan, now)
        await audit(
            session,
            now,
            operator_id=operator_id,
            patient_id=patient_id,
            action=f"patient.{action.value}",
            detail={"from": before.value, "to": after.value, "cancelled": report.cancelled},
        )
    return StatusChange(patient_id, before, after, report.cancelled)


async def acknowledge_alert(
    sessions: async_sessionmaker[AsyncSession],
    check_in_id: int,
    note: str,
    *,
    operator_id: int,
    now: datetime,
) -> CheckIn:
    """Acknowledges a flagged check-in with a note (audited by `storage.alerts`); NotFound or Conflict."""
    async with sessions() as session, session.begin():
        row = await session.get(CheckIn, check_in_id)
        if row is None or not row.flagged:
            raise NotFound(f"no flagged check-in {check_in_id}")
        if not await alerts.acknowledge(session, check_in_id, operator_id, note, now):
            raise Conflict("this alert was already acknowledged")
        await session.refresh(row)
        return row
