"""An operator reading and setting a patient's quiet hours (console form and JSON API).

Owns the body (`QuietHoursIn`: "HH:MM" start and end, both or neither; neither means the reminder plan's
usual hours; "00:00" to "00:00" means none; at most 18 hours), the answer (`QuietHoursOut`) and
`set_quiet_hours`: the patient's columns, the rewritten outbox (pending messages move out of the new window)
and an audit row commit together. The window is in the patient's wall clock, so it stays put when their
time zone changes. Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.actions import NotFound, locked_patient
from care.plan import ReminderPlan
from care.quiet_hours import QuietHours
from storage import plans
from storage.models import Patient

AUDIT_ACTION = "patient.quiet_hours"


class QuietHoursIn(BaseModel):
    """Quiet hours for one patient: both times, or neither for the usual ones."""

    start: str | None = Field(default=None, examples=["22:00"], description="local HH:MM")
    end: str | None = Field(default=None, examples=["07:00"], description="local HH:MM")

    @field_validator("start", "end")
    @classmethod
    def _wall_time(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be a time like 22:00") from None
        if parsed.second or parsed.microsecond or len(value.strip()) != 5:
            raise ValueError("must be a time like 22:00")
        return value.strip()

    @model_validator(mode="after")
    def _window(self) -> QuietHoursIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither for the usual quiet hours")
        if self.start is not None and self.end is not None:
            QuietHours.parse(f"{self.start}-{self.end}")  # raises ValueError past 18 hours
        return self

    def quiet_hours(self) -> QuietHours | None:
        """Returns the window asked for, or None for the plan's usual one."""
        if self.start is None or self.end is None:
            return None
        return QuietHours.parse(f"{self.start}-{self.end}")


class QuietHoursOut(BaseModel):
    """A patient's quiet hours: their own (`default` false) or the usual ones, and what they are now."""

    patient_id: int
    timezone: str
    default: bool
    start: str
    end: str
    moved_messages: int = 0


def quiet_hours_of(patient: Patient, plan: ReminderPlan, moved: int = 0) -> QuietHoursOut:
    """Returns the quiet hours in force for the patient."""
    own = patient.quiet_hours_start is not None and patient.quiet_hours_end is not None
    quiet = QuietHours(patient.quiet_hours_start, patient.quiet_hours_end) if own else plan.quiet_hours  # type: ignore[arg-type]
    return QuietHoursOut(
        patient_id=patient.id,
        timezone=patient.timezone,
        default=not own,
        start=f"{quiet.start:%H:%M}",
        end=f"{quiet.end:%H:%M}",
        moved_messages=moved,
    )


async def read_quiet_hours(session: AsyncSession, patient_id: int, plan: ReminderPlan) -> QuietHoursOut:
    """Returns the patient's quiet hours; NotFound when there is no such patient."""
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} does not exist")
    return quiet_hours_of(patient, plan)


async def set_quiet_hours(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    quiet: QuietHours | None,
    *,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> QuietHoursOut:
    """Sets (None: resets) the patient's quiet hours, replans and audits in one transaction; NotFound."""
    async with sessions() as session, session.begin():
        patient = await locked_patient(session, patient_id)
        patient.quiet_hours_start = None if quiet is None else quiet.start
        patient.quiet_hours_end = None if quiet is None else quiet.end
        patient.updated_at = now
        await session.flush()
        report = await plans.replan_patient(session, patient_id, plan, now)
        await audit(
            session,
            now,
            operator_id=operator_id,
            patient_id=patient_id,
            action=AUDIT_ACTION,
            detail={"quiet_hours": "default" if quiet is None else str(quiet), "moved": report.updated},
        )
        return quiet_hours_of(patient, plan, report.updated)
