"""An operator's view of a patient's weekly tips, and the switch: operators may only turn them off.

Owns `tips_state` and `switch_tips` (one transaction: the switch through `storage.tips`, so the outbox
follows at once, and an audit row with ids and the new state only) and their JSON shapes. Turning tips on
is the patient's own choice (/tips, or TIPS by SMS, through the same `storage.tips.set_weekly_tips`): the
patient would not be told of an operator's opt-in, so `switch_tips` refuses `on` (Conflict, a 409).
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.actions import Conflict, NotFound, locked_patient
from care.plan import ReminderPlan
from storage import tips
from storage.models import Patient

OPT_IN_REFUSED = (
    "weekly tips are the patient's own choice: they turn them on with /tips (TIPS by SMS); "
    "the console can only turn them off"
)


class TipsIn(BaseModel):
    """Turn a patient's weekly tips off (false); true is refused: turning them on is the patient's choice."""

    model_config = ConfigDict(extra="forbid")

    on: bool


class TipsOut(BaseModel):
    """A patient's weekly tips: on or off, the next one pending (when), and rows this change cancelled."""

    patient_id: int
    weekly_tips: bool
    next_tip_at: datetime | None
    cancelled_messages: int = 0


async def tips_state(sessions: async_sessionmaker[AsyncSession], patient_id: int) -> TipsOut:
    """Returns whether the patient gets weekly tips and when the next is due; NotFound when no patient."""
    async with sessions() as session:
        patient = await session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"patient {patient_id} does not exist")
        pending = await tips.next_pending_tip(session, patient_id)
        return TipsOut(
            patient_id=patient_id,
            weekly_tips=patient.weekly_tips,
            next_tip_at=pending.due_at if pending is not None else None,
        )


async def switch_tips(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    on: bool,
    *,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> TipsOut:
    """Turns the patient's weekly tips off (tip rows cancelled), audited; NotFound, or Conflict for on."""
    async with sessions() as session, session.begin():
        patient = await locked_patient(session, patient_id)
        if on:
            raise Conflict(OPT_IN_REFUSED)
        before = patient.weekly_tips
        change = await tips.set_weekly_tips(session, patient, on, plan.quiet_hours, now, slot=plan.tip_slot)
        await audit(
            session,
            now,
            operator_id=operator_id,
            patient_id=patient_id,
            action="patient.tips_on" if on else "patient.tips_off",
            detail={"from": before, "to": on, "cancelled": change.cancelled},
        )
    return TipsOut(
        patient_id=patient_id,
        weekly_tips=on,
        next_tip_at=change.due_at,
        cancelled_messages=change.cancelled,
    )
