"""A patient's weekly tips in the outbox: the opt-in switch, the next tip's row, and the tips they have had.

Owns `set_weekly_tips` (the one way `patient.weekly_tips` changes: on writes the next tip at once when the
patient is active; off cancels their pending tips), `plan_next_tip` (the next weekly slot as one `tip` row,
keyed by its ISO week so a week never gets two, whoever writes it and however often; a pending tip not yet
due follows the patient's current time zone and quiet hours) and `tips_had` (what the next topic follows
from). Tip rows have no plan touchpoint: `storage.plans` leaves them out of replans and knows their catch-up
window. Nothing here commits; the caller owns the transaction. Must not import `bot`, `jobs`, `admin` or
`ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from care.quiet_hours import QuietHours
from care.tips import DEFAULT_SLOT, TIP_KIND, TipSlot, next_tip
from storage.models import MessageStatus, Patient, PatientStatus, ScheduledMessage

SM = ScheduledMessage
# A tip in these states was (or may have been) read: the next one moves on to another topic.
_HAD = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNCERTAIN)


@dataclass(frozen=True)
class TipChange:
    """What a switch or a planning run did: the tip row now pending (None: none), rows cancelled."""

    pending_id: int | None = None
    due_at: datetime | None = None
    cancelled: int = 0


async def set_weekly_tips(
    session: AsyncSession,
    patient: Patient,
    on: bool,
    quiet: QuietHours,
    now: datetime,
    *,
    slot: TipSlot = DEFAULT_SLOT,
) -> TipChange:
    """Turns the patient's weekly tips on (the next tip planned at once if they are active) or off (their
    pending tips cancelled); quiet: the plan's quiet hours, for a patient who set none."""
    patient.weekly_tips = on
    patient.updated_at = now
    await session.flush()
    if not on:
        return TipChange(cancelled=await cancel_tips(session, patient.id, now))
    return await plan_next_tip(session, patient, quiet, now, slot=slot)


async def plan_next_tip(
    session: AsyncSession,
    patient: Patient,
    quiet: QuietHours,
    now: datetime,
    *,
    slot: TipSlot = DEFAULT_SLOT,
) -> TipChange:
    """Makes the patient's next weekly tip one pending row; idempotent. A patient who is not active or
    opted out gets nothing (and no pending tip). Pending tips not yet due for another week are cancelled
    (their time zone moved them past the slot); a row of the week already sent, failed or expired stays."""
    if patient.status is not PatientStatus.ACTIVE or not patient.weekly_tips:
        return TipChange(cancelled=await cancel_tips(session, patient.id, now))
    wanted = next_tip(now, ZoneInfo(patient.timezone), _quiet_of(patient, quiet), slot)
    rows = await session.scalars(
        select(SM)
        .where(
            SM.patient_id == patient.id,
            SM.kind == TIP_KIND,
            (SM.status == MessageStatus.PENDING) | (SM.dedupe_key == wanted.dedupe_key),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row, cancelled = None, 0
    for existing in rows:
        if existing.dedupe_key == wanted.dedupe_key:
            row = existing
        elif existing.due_at >= now:  # a future tip of another week: this one replaces it
            existing.status, existing.updated_at = MessageStatus.CANCELLED, now
            cancelled += 1
    if row is None:
        row = SM(
            patient_id=patient.id,
            dedupe_key=wanted.dedupe_key,
            kind=TIP_KIND,
            due_at=wanted.due_at,
            status=MessageStatus.PENDING,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    elif row.status in (MessageStatus.PENDING, MessageStatus.CANCELLED):
        if row.status is not MessageStatus.PENDING or row.due_at != wanted.due_at:
            row.status, row.due_at, row.next_attempt_at, row.updated_at = (
                MessageStatus.PENDING,
                wanted.due_at,
                None,
                now,
            )
    else:
        await session.flush()
        return TipChange(cancelled=cancelled)  # this week's went (or failed) already: never twice
    await session.flush()
    return TipChange(row.id, row.due_at, cancelled)


async def cancel_tips(session: AsyncSession, patient_id: int, now: datetime) -> int:
    """Cancels the patient's pending tips, overdue ones too; returns how many."""
    result = await session.execute(
        update(SM)
        .where(SM.patient_id == patient_id, SM.kind == TIP_KIND, SM.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, updated_at=now)
    )
    return int(result.rowcount)


async def tips_had(session: AsyncSession, patient_id: int) -> int:
    """Returns how many tips the patient has had (sent, delivered, or perhaps sent)."""
    count = await session.scalar(
        select(func.count())
        .select_from(SM)
        .where(SM.patient_id == patient_id, SM.kind == TIP_KIND, SM.status.in_(_HAD))
    )
    return int(count or 0)


async def next_pending_tip(session: AsyncSession, patient_id: int) -> ScheduledMessage | None:
    """Returns the patient's soonest pending tip, if any."""
    return await session.scalar(
        select(SM)
        .where(SM.patient_id == patient_id, SM.kind == TIP_KIND, SM.status == MessageStatus.PENDING)
        .order_by(SM.due_at)
        .limit(1)
    )


def _quiet_of(patient: Patient, default: QuietHours) -> QuietHours:
    if patient.quiet_hours_start is None or patient.quiet_hours_end is None:
        return default
    return QuietHours(patient.quiet_hours_start, patient.quiet_hours_end)
