"""The outbox port: every message the service will send is a `scheduled_message` row, and these are its moves.

Rules (DESIGN decisions 1 and 2):
- A plan writes rows with `replace_pending`; one row per (patient, dedupe_key), ever. Only `pending` rows
  (and `cancelled` ones the plan wants back) change; a row once claimed, sent, delivered, failed, uncertain
  or expired never changes again through a plan.
- `claim_due` moves due `pending` rows to `claimed` atomically, each row to exactly one worker, with a lease.
  Commit the claim at once, send outside the transaction, then record the outcome in a new transaction.
- A claimed row ends as `sent` (`mark_sent`), back to `pending` for a later try (`mark_retry`) or `failed`
  (`mark_failed`). A claimed row whose lease passed without an outcome becomes `uncertain`
  (`recover_expired_leases`): it may or may not have gone out, so it is never re-sent by itself; an operator
  decides. A late outcome still lands on an `uncertain` row.
- Nothing here commits; the caller owns the transaction (`async with session.begin(): ...`). Instants are
  aware UTC datetimes from the injected clock.
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, ScalarSelect, insert, literal_column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.models import (
    PENDING_AT_DUE,
    PENDING_AT_DUE_INDEX,
    PENDING_AT_RETRY,
    PENDING_AT_RETRY_INDEX,
    Channel,
    MessageStatus,
    Patient,
    ScheduledMessage,
)
from storage.types import UTCDateTime

SM = ScheduledMessage
_OUTCOME_FROM = (MessageStatus.CLAIMED, MessageStatus.UNCERTAIN)
LEASE_EXPIRED_ERROR = "lease expired before the outcome was recorded"
ONE_OFF = "one_off"  # an operator's message, its text queued in message_log (`storage.patients.queue_text`)
# The request for a typed number's own YES (`storage.sms.queue_confirmation`): its text queued as a one-off's,
# sent only by SMS to that one address, and before the SMS consent it asks for (`jobs.dispatcher`).
SMS_CONFIRM = "sms_confirm"
QUEUED_TEXT_KINDS = frozenset({ONE_OFF, SMS_CONFIRM})  # rows whose words were written when queued


@dataclass(frozen=True)
class NewMessage:
    """One message a plan wants sent.

    dedupe_key: unique per patient for this plan item and due instant; the same key is the same row.
    kind: what to render (reminder, check_in, ...); touchpoint_id: the plan item it comes from.
    dose_id: the dose it is about, if any; channel: a fixed channel, or None for the patient's current one.
    """

    dedupe_key: str
    kind: str
    due_at: datetime
    touchpoint_id: str | None = None
    dose_id: int | None = None
    channel: Channel | None = None


@dataclass(frozen=True)
class ReplaceReport:
    """What `replace_pending` did: rows inserted, pending rows updated, pending rows cancelled,
    rows already right, and planned rows left alone because they were already claimed or beyond."""

    inserted: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    kept: int = 0


@dataclass(frozen=True)
class ClaimedMessage:
    """A row a worker now holds until `lease_until`; `attempts` counts this one."""

    id: int
    patient_id: int
    dose_id: int | None
    kind: str
    touchpoint_id: str | None
    due_at: datetime
    channel: Channel | None
    attempts: int
    claimed_by: str
    lease_until: datetime


async def replace_pending(
    session: AsyncSession,
    patient_id: int,
    planned: Iterable[NewMessage],
    now: datetime,
    *,
    other_kinds: Collection[str] = (),
) -> ReplaceReport:
    """Makes the patient's pending rows match `planned`; idempotent.

    A planned key with no row is inserted; a pending (or cancelled) row with a planned key takes the
    planned values; a pending row due at or after `now` whose key is not planned is cancelled, unless its
    kind is one of `other_kinds` (rows another writer owns: `storage.plans.OFF_PLAN_KINDS`); a pending row
    already overdue is left for the dispatcher; a row in any other state is never touched.
    Rewrites of one patient are serialized by locking the patient row (PostgreSQL; SQLite has one writer).
    """
    items = list(planned)
    keys = [item.dedupe_key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("planned messages repeat a dedupe_key")
    await session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    rows = await session.scalars(
        select(SM)
        .where(SM.patient_id == patient_id, or_(SM.status == MessageStatus.PENDING, SM.dedupe_key.in_(keys)))
        .with_for_update()
        .execution_options(populate_existing=True)  # the locked values, not ones cached by this session
    )
    existing = {row.dedupe_key: row for row in rows}
    counts = {"inserted": 0, "updated": 0, "cancelled": 0, "unchanged": 0, "kept": 0}
    new_rows: list[dict[str, object]] = []
    for item in items:
        row = existing.pop(item.dedupe_key, None)
        if row is None:
            new_rows.append(_new_row(patient_id, item, now))
        elif row.status not in (MessageStatus.PENDING, MessageStatus.CANCELLED):
            counts["kept"] += 1
        elif _apply(row, item, now):
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    dropped = [  # pending rows the plan no longer has, but for rows another writer owns
        row for row in existing.values() if row.due_at >= now and row.kind not in other_kinds
    ]
    await session.flush()  # the changed rows (rarer), one UPDATE each
    await _cancel_and_insert(session, [row.id for row in dropped], new_rows, now)
    for row in dropped:  # this session's loaded rows say what the database now holds
        set_committed_value(row, "status", MessageStatus.CANCELLED)
        set_committed_value(row, "updated_at", now)
    counts["inserted"], counts["cancelled"] = len(new_rows), len(dropped)
    return ReplaceReport(**counts)


async def _cancel_and_insert(
    session: AsyncSession, dropped: list[int], new_rows: list[dict[str, object]], now: datetime
) -> None:
    """Cancels the locked `dropped` rows and inserts `new_rows`, one Core statement each (none per row).

    The INSERT takes its rows as parameters, not as a VALUES list in the statement: compiled once and cached.
    """
    table = SM.__table__
    if dropped:
        cancel = update(table).where(table.c.id.in_(dropped))
        await session.execute(cancel.values(status=MessageStatus.CANCELLED, updated_at=now))
    if new_rows:
        await session.execute(insert(table), new_rows)


def _new_row(patient_id: int, item: NewMessage, now: datetime) -> dict[str, object]:
    return {
        "patient_id": patient_id,
        "dedupe_key": item.dedupe_key,
        "kind": item.kind,
        "touchpoint_id": item.touchpoint_id,
        "dose_id": item.dose_id,
        "channel": item.channel,
        "due_at": item.due_at,
        "status": MessageStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _apply(row: ScheduledMessage, item: NewMessage, now: datetime) -> bool:
    wanted = {
        "kind": item.kind,
        "touchpoint_id": item.touchpoint_id,
        "dose_id": item.dose_id,
        "channel": item.channel,
        "due_at": item.due_at,
        "status": MessageStatus.PENDING,
    }
    changed = {name: value for name, value in wanted.items() if getattr(row, name) != value}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(row, name, value)
    if "due_at" in changed or "status" in changed:
        row.next_attempt_at = None  # a retry time belonged to the old plan
    row.updated_at = now
    return True


async def cancel_pending(session: AsyncSession, patient_id: int, now: datetime) -> int:
    """Cancels every pending row of the patient, overdue ones too (pause, stop, erase); returns how many."""
    result = await session.execute(
        update(SM)
        .where(SM.patient_id == patient_id, SM.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED, updated_at=now)
    )
    return int(result.rowcount)


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    worker_id: str,
    lease_s: float,
    *,
    patient_id: int | None = None,
) -> list[ClaimedMessage]:
    """Claims up to `limit` pending rows due by `now` (oldest first) for `worker_id`, leased for `lease_s`;
    only `patient_id`'s rows when given (the simulator runs one sandbox patient on their own clock).

    One statement, `WITH due AS MATERIALIZED (SELECT id ... LIMIT n FOR UPDATE SKIP LOCKED)
    UPDATE ... WHERE id IN (SELECT id FROM due) RETURNING ...`: on PostgreSQL concurrent workers skip each
    other's locked rows; SQLite drops FOR UPDATE, and the statement runs under the single write lock that
    `storage.db` takes at BEGIN, which is just as exclusive. Returns the claimed rows oldest first.
    """
    if limit < 1 or lease_s <= 0:
        raise ValueError(f"limit must be >= 1 and lease_s > 0, got {limit} and {lease_s}")
    lease_until = now + timedelta(seconds=lease_s)
    only = () if patient_id is None else (SM.patient_id == patient_id,)
    due = (
        select(SM.id)
        .where(
            SM.status == MessageStatus.PENDING,
            SM.due_at <= now,
            or_(SM.next_attempt_at.is_(None), SM.next_attempt_at <= now),
            *only,
        )
        .order_by(SM.due_at, SM.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # MATERIALIZED: PostgreSQL would otherwise run a LIMIT sub-select once per candidate row of a
        # nested-loop semi-join, and the UPDATE would take more than `limit` rows.
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    table = SM.__table__
    claim = (
        update(table)  # Core, not ORM: no per-row ORM bookkeeping on the hot path; see `_claimed_in_session`
        # the status test again: a row changed since the sub-select read it is not taken
        .where(table.c.id.in_(select(due.c.id)), table.c.status == MessageStatus.PENDING)
        .values(
            status=MessageStatus.CLAIMED,
            claimed_by=worker_id,
            lease_until=lease_until,
            attempts=table.c.attempts + 1,
            updated_at=now,
        )
        .returning(
            table.c.id,
            table.c.patient_id,
            table.c.dose_id,
            table.c.kind,
            table.c.touchpoint_id,
            table.c.due_at,
            table.c.channel,
            table.c.attempts,
        )
    )
    result = (await session.execute(claim)).all()
    _claimed_in_session(session, result, worker_id, lease_until, now)
    claimed = [
        ClaimedMessage(
            id=row.id,
            patient_id=row.patient_id,
            dose_id=row.dose_id,
            kind=row.kind,
            touchpoint_id=row.touchpoint_id,
            due_at=row.due_at,
            channel=row.channel,
            attempts=row.attempts,
            claimed_by=worker_id,
            lease_until=lease_until,
        )
        for row in result
    ]
    return sorted(claimed, key=lambda message: (message.due_at, message.id))


def _claimed_in_session(
    session: AsyncSession, rows: Sequence[Row[Any]], worker_id: str, lease_until: datetime, now: datetime
) -> None:
    """Brings rows this session had loaded in step with the claim (what the ORM's "fetch" sync did)."""
    if not session.identity_map:
        return
    for row in rows:
        loaded = session.identity_map.get(identity_key(SM, row.id))
        if loaded is None:
            continue
        for name, value in (
            ("status", MessageStatus.CLAIMED),
            ("claimed_by", worker_id),
            ("lease_until", lease_until),
            ("attempts", row.attempts),
            ("updated_at", now),
        ):
            set_committed_value(loaded, name, value)


async def _finish(session: AsyncSession, message_id: int, **values: object) -> bool:
    result = await session.execute(
        update(SM).where(SM.id == message_id, SM.status.in_(_OUTCOME_FROM)).values(**values)
    )
    return int(result.rowcount) == 1


async def mark_sent(
    session: AsyncSession,
    message_id: int,
    provider_id: str | None,
    now: datetime,
    channel: Channel | None = None,
) -> bool:
    """Records that the provider accepted the message (over `channel`, when given); False when the row is
    not claimed or uncertain."""
    extra = {} if channel is None else {"channel": channel}
    return await _finish(
        session,
        message_id,
        status=MessageStatus.SENT,
        provider_id=provider_id,
        **extra,
        sent_at=now,
        lease_until=None,
        updated_at=now,
    )


async def mark_retry(
    session: AsyncSession, message_id: int, error: str, retry_at: datetime, now: datetime
) -> bool:
    """Puts the row back to pending, claimable again from `retry_at`; False when not claimed or uncertain."""
    return await _finish(
        session,
        message_id,
        status=MessageStatus.PENDING,
        last_error=error,
        next_attempt_at=retry_at,
        claimed_by=None,
        lease_until=None,
        updated_at=now,
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str, now: datetime) -> bool:
    """Records that the message will not be sent; False when the row is not claimed or uncertain."""
    return await _finish(
        session, message_id, status=MessageStatus.FAILED, last_error=error, lease_until=None, updated_at=now
    )


async def recover_expired_leases(session: AsyncSession, now: datetime) -> list[int]:
    """Marks claimed rows whose lease ended before `now` as uncertain and returns their ids, ascending."""
    result = await session.execute(
        update(SM)
        .where(SM.status == MessageStatus.CLAIMED, SM.lease_until < now)
        .values(status=MessageStatus.UNCERTAIN, last_error=LEASE_EXPIRED_ERROR, updated_at=now)
        .returning(SM.id),
        execution_options={"synchronize_session": "fetch"},
    )
    return sorted(result.scalars())


async def next_due_at(session: AsyncSession) -> datetime | None:
    """Returns when the earliest pending row becomes claimable (its retry time if later), or None.

    One statement, two index lookups: the first pending row claimable at its due_at and the first claimable
    at a later next_attempt_at, each the first entry of its own partial index (migration 0006); the earlier
    wins. The cost grows neither with the pending rows nor with how many of them wait on a retry.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    at_due = _first_entry("due_at", PENDING_AT_DUE, PENDING_AT_DUE_INDEX, sqlite=sqlite)
    at_retry = _first_entry("next_attempt_at", PENDING_AT_RETRY, PENDING_AT_RETRY_INDEX, sqlite=sqlite)
    row = (await session.execute(select(at_due, at_retry))).one()
    return min((instant for instant in row if instant is not None), default=None)


def _first_entry(column: str, where: str, index: str, *, sqlite: bool) -> ScalarSelect[datetime]:
    # SQLite's planner takes the (status, due_at, id) index for `status = 'pending'` instead (by its
    # statistics, or with none: it then sorts every pending row for the retry query), so it is told;
    # INDEXED BY fails the statement if the index cannot serve it, rather than quietly scanning.
    source = f"scheduled_message INDEXED BY {index}" if sqlite else "scheduled_message"
    return (
        select(literal_column(column, UTCDateTime()))
        .select_from(text(source))
        .where(text(where))
        .order_by(text(column))
        .limit(1)
        .scalar_subquery()
    )
