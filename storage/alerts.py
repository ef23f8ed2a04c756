"""The operators' queue: flagged check-ins not yet acknowledged, and their alerts.

Owns `add_check_in` (the one way a check-in row is written), `open_alerts` (the queue the console shows,
most severe first, then oldest first), `acknowledge` (an operator took it; audited), the alert
bookkeeping (`mark_alerted`, `unalerted`) and the reads and writes of the follow-ups (`jobs.followups`):
sent messages still unanswered, their one nudge, and whether a silence was flagged already. Nothing here
commits; the caller owns the transaction.
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActorType,
    AuditLog,
    CheckIn,
    CheckInLevel,
    CheckInReason,
    MessageStatus,
    Patient,
    ScheduledMessage,
)

NUDGE_KIND = "check_in_nudge"  # the outbox kind of the one reminder an unanswered check-in gets
_NUDGE_PREFIX = f"{NUDGE_KIND}:"

_SEVERITY = case({level.value: rank for rank, level in enumerate(CheckInLevel)}, value=CheckIn.level, else_=0)


@dataclass(frozen=True)
class OpenAlert:
    """A flagged, unacknowledged check-in and its patient."""

    check_in: CheckIn
    patient: Patient


def nudge_key(check_in_message_id: int) -> str:
    """Returns the dedupe key of the nudge about a check-in message: one nudge per check-in, ever."""
    return f"{_NUDGE_PREFIX}{check_in_message_id}"


def nudged_message_id(dedupe_key: str) -> int | None:
    """Returns the check-in message a nudge's dedupe key is about, or None when it is not a nudge's key."""
    tail = dedupe_key.removeprefix(_NUDGE_PREFIX)
    return int(tail) if tail != dedupe_key and tail.isdigit() else None


async def add_check_in(
    session: AsyncSession,
    *,
    patient_id: int,
    level: CheckInLevel,
    flagged: bool,
    now: datetime,
    answer: str | None = None,
    dose_id: int | None = None,
    scheduled_message_id: int | None = None,
    reason: CheckInReason = CheckInReason.ANSWER,
) -> CheckIn:
    """Adds a check-in row and flushes it (so it has its id)."""
    row = CheckIn(
        patient_id=patient_id,
        dose_id=dose_id,
        scheduled_message_id=scheduled_message_id,
        answer=answer,
        level=level,
        flagged=flagged,
        reason=reason,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def open_alerts(session: AsyncSession, *, limit: int | None = None) -> list[OpenAlert]:
    """Returns the flagged check-ins no operator has acknowledged: most severe first, then oldest first."""
    query = (
        select(CheckIn, Patient)
        .join(Patient, Patient.id == CheckIn.patient_id)
        .where(CheckIn.flagged.is_(True), CheckIn.acknowledged_at.is_(None))
        .order_by(_SEVERITY.desc(), CheckIn.created_at, CheckIn.id)
        .limit(limit)
    )
    return [OpenAlert(check_in, patient) for check_in, patient in (await session.execute(query)).all()]


async def acknowledge(
    session: AsyncSession, check_in_id: int, operator_id: int | None, note: str | None, now: datetime
) -> bool:
    """Marks a flagged check-in as taken by an operator, with an audit row; False when already taken or
    not a flagged check-in."""
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == check_in_id, CheckIn.flagged.is_(True), CheckIn.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=operator_id, ack_note=(note or "").strip() or None)
        .returning(CheckIn.patient_id),
        execution_options={"synchronize_session": "fetch"},
    )
    patient_id = result.scalar_one_or_none()
    if patient_id is None:
        return False
    session.add(
        AuditLog(
            at=now,
            actor_type=ActorType.OPERATOR,
            operator_id=operator_id,
            patient_id=patient_id,
            action="check_in_acknowledged",
            detail={"check_in_id": check_in_id},
        )
    )
    await session.flush()
    return True


async def mark_alerted(session: AsyncSession, check_in_ids: Iterable[int], now: datetime) -> int:
    """Records that these check-ins' alerts reached the operators' channel; returns how many rows changed."""
    ids = list(check_in_ids)
    if not ids:
        return 0
    result = await session.execute(
        update(CheckIn).where(CheckIn.id.in_(ids), CheckIn.alerted_at.is_(None)).values(alerted_at=now)
    )
    return int(result.rowcount)


async def unalerted(
    session: AsyncSession, *, created_before: datetime, created_after: datetime
) -> list[tuple[CheckIn, Patient]]:
    """Returns flagged, unacknowledged check-ins whose alert never went out, created in the window, oldest
    first."""
    query = (
        select(CheckIn, Patient)
        .join(Patient, Patient.id == CheckIn.patient_id)
        .where(
            CheckIn.flagged.is_(True),
            CheckIn.acknowledged_at.is_(None),
            CheckIn.alerted_at.is_(None),
            CheckIn.created_at <= created_before,
            CheckIn.created_at > created_after,
        )
        .order_by(CheckIn.created_at, CheckIn.id)
    )
    return [(check_in, patient) for check_in, patient in (await session.execute(query)).all()]


# ------------------------------------------------------------------------------------------------ follow-ups
async def unanswered(
    session: AsyncSession, kind: str, *, sent_before: datetime, sent_after: datetime
) -> list[ScheduledMessage]:
    """Returns sent messages of `kind` nobody answered, sent in the window, oldest first; locks them
    (PostgreSQL), so two workers following up never both act on one."""
    query = (
        select(ScheduledMessage)
        .where(
            ScheduledMessage.kind == kind,
            ScheduledMessage.status.in_((MessageStatus.SENT, MessageStatus.DELIVERED)),
            ScheduledMessage.answered_at.is_(None),
            ScheduledMessage.sent_at <= sent_before,
            ScheduledMessage.sent_at > sent_after,
        )
        .order_by(ScheduledMessage.sent_at, ScheduledMessage.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(query))


async def answered_since(session: AsyncSession, patient_id: int, since: datetime) -> bool:
    """Tells whether the patient answered any check-in at or after `since` (a later answer covers earlier)."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    CheckIn.patient_id == patient_id,
                    CheckIn.reason == CheckInReason.ANSWER,
                    CheckIn.created_at >= since,
                )
            )
        )
    )


async def silence_flagged(
    session: AsyncSession, message_id: int, reason: CheckInReason, *, dose_id: int | None = None
) -> bool:
    """Tells whether a silence was flagged already for this message (or, given `dose_id`, for its dose)."""
    about = [CheckIn.scheduled_message_id == message_id]
    if dose_id is not None:
        about.append(CheckIn.dose_id == dose_id)
    return bool(await session.scalar(select(exists().where(CheckIn.reason == reason, or_(*about)))))


async def nudge_of(session: AsyncSession, message: ScheduledMessage) -> ScheduledMessage | None:
    """Returns the nudge written about a check-in message, in any state, or None."""
    return await session.scalar(
        select(ScheduledMessage).where(
            ScheduledMessage.patient_id == message.patient_id,
            ScheduledMessage.dedupe_key == nudge_key(message.id),
        )
    )


async def add_nudge(
    session: AsyncSession, message: ScheduledMessage, due_at: datetime, now: datetime
) -> ScheduledMessage:
    """Adds the one nudge about a check-in message to the outbox (outside the plan: no touchpoint)."""
    row = ScheduledMessage(
        patient_id=message.patient_id,
        dose_id=message.dose_id,
        kind=NUDGE_KIND,
        touchpoint_id=None,
        due_at=due_at,
        status=MessageStatus.PENDING,
        attempts=0,
        channel=message.channel,
        dedupe_key=nudge_key(message.id),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row
