"""The outbox port: plans rewrite only pending rows, claims are exclusive, leases end as uncertain."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import outbox
from storage.db import create_engine, session_factory
from storage.models import MessageStatus, ScheduledMessage
from storage.outbox import NewMessage, ReplaceReport
from tests.storage.builders import NOW, add_patient

HOUR = timedelta(hours=1)


def plan(*hours: int, kind: str = "reminder") -> list[NewMessage]:
    """Messages due `hours` after NOW, keyed by their hour."""
    return [NewMessage(dedupe_key=f"{kind}:{h}", kind=kind, due_at=NOW + h * HOUR) for h in hours]


async def rows(session: AsyncSession) -> dict[str, ScheduledMessage]:
    result = await session.scalars(select(ScheduledMessage).execution_options(populate_existing=True))
    return {row.dedupe_key: row for row in result}


async def test_replacing_with_the_same_plan_twice_changes_nothing_the_second_time(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    first = await outbox.replace_pending(session, patient.id, plan(1, 2, 3), NOW)
    second = await outbox.replace_pending(session, patient.id, plan(1, 2, 3), NOW)
    assert first == ReplaceReport(inserted=3)
    assert second == ReplaceReport(unchanged=3)
    assert sorted(await rows(session)) == ["reminder:1", "reminder:2", "reminder:3"]


async def test_a_new_plan_moves_pending_rows_cancels_dropped_ones_and_never_touches_sent_ones(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1, 2, 3, 4), NOW)
    later = NOW + 1 * HOUR
    [claimed] = await outbox.claim_due(session, later, limit=1, worker_id="w1", lease_s=60)
    assert await outbox.mark_sent(session, claimed.id, "SM123", later)

    moved = [
        NewMessage("reminder:1", "reminder", NOW + 9 * HOUR),
        NewMessage("reminder:2", "nudge", NOW + 5 * HOUR),
    ]
    report = await outbox.replace_pending(session, patient.id, [*moved, *plan(5)], later)

    assert report == ReplaceReport(inserted=1, updated=1, cancelled=2, kept=1)
    after = await rows(session)
    assert (after["reminder:1"].status, after["reminder:1"].due_at) == (MessageStatus.SENT, NOW + 1 * HOUR)
    assert (after["reminder:2"].status, after["reminder:2"].kind) == (MessageStatus.PENDING, "nudge")
    assert after["reminder:2"].due_at == NOW + 5 * HOUR
    assert {after[key].status for key in ("reminder:3", "reminder:4")} == {MessageStatus.CANCELLED}
    assert after["reminder:5"].status is MessageStatus.PENDING


async def test_a_long_lived_session_never_rewrites_a_row_another_worker_sent_meanwhile(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as planner:
        async with planner.begin():
            patient = await add_patient(planner)
            await outbox.replace_pending(planner, patient.id, plan(1), NOW)
            cached = (await planner.scalars(select(ScheduledMessage))).one()  # held, so not collected
        async with sessions() as worker, worker.begin():
            [claimed] = await outbox.claim_due(worker, NOW + HOUR, 1, "w", lease_s=60)
            await outbox.mark_sent(worker, claimed.id, "SM1", NOW + HOUR)
        async with planner.begin():  # the planner's cached row still says pending
            moved = [NewMessage("reminder:1", "reminder", NOW + 9 * HOUR)]
            report = await outbox.replace_pending(planner, patient.id, moved, NOW + HOUR)
    assert report == ReplaceReport(kept=1)
    assert cached.status is MessageStatus.SENT
    async with sessions() as session:
        row = (await rows(session))["reminder:1"]
    assert (row.status, row.due_at) == (MessageStatus.SENT, NOW + HOUR)


async def test_an_overdue_pending_row_is_left_for_the_dispatcher_and_a_cancelled_one_can_come_back(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1, 2), NOW)
    await outbox.replace_pending(session, patient.id, [], NOW + 90 * timedelta(minutes=1))
    after = await rows(session)
    assert after["reminder:1"].status is MessageStatus.PENDING  # due before `now`: the dispatcher's
    assert after["reminder:2"].status is MessageStatus.CANCELLED

    report = await outbox.replace_pending(session, patient.id, plan(2), NOW)
    assert report == ReplaceReport(updated=1, cancelled=1)
    after = await rows(session)
    assert after["reminder:2"].status is MessageStatus.PENDING


async def test_cancel_pending_stops_every_pending_row_overdue_ones_too(session: AsyncSession) -> None:
    patient = await add_patient(session)
    other = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1, 2), NOW)
    await outbox.replace_pending(session, other.id, plan(1), NOW)
    assert await outbox.cancel_pending(session, patient.id, NOW + 3 * HOUR) == 2
    assert [m.patient_id for m in await outbox.claim_due(session, NOW + 3 * HOUR, 10, "w", 60)] == [other.id]


async def test_a_plan_repeating_a_dedupe_key_is_refused(session: AsyncSession) -> None:
    patient = await add_patient(session)
    with pytest.raises(ValueError, match="dedupe_key"):
        await outbox.replace_pending(session, patient.id, plan(1, 1), NOW)


async def test_claim_due_takes_due_rows_oldest_first_up_to_the_limit_with_a_lease(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(3, 1, 2, 9), NOW)
    now = NOW + 5 * HOUR
    claimed = await outbox.claim_due(session, now, limit=2, worker_id="worker-a", lease_s=30)
    assert [m.due_at for m in claimed] == [NOW + 1 * HOUR, NOW + 2 * HOUR]
    assert {(m.attempts, m.claimed_by, m.lease_until) for m in claimed} == {
        (1, "worker-a", now + timedelta(seconds=30))
    }
    rest = await outbox.claim_due(session, now, limit=10, worker_id="worker-b", lease_s=30)
    assert [m.due_at for m in rest] == [NOW + 3 * HOUR]  # the 9 h one is not due yet
    stored = await rows(session)
    assert stored["reminder:1"].status is MessageStatus.CLAIMED
    assert stored["reminder:3"].claimed_by == "worker-b"


async def _claim_until_empty(engine: AsyncEngine, worker_id: str, limit: int) -> list[int]:
    sessions = session_factory(engine)
    mine: list[int] = []
    while True:
        async with sessions() as session, session.begin():
            batch = await outbox.claim_due(session, NOW + 100 * HOUR, limit, worker_id, lease_s=60)
            await asyncio.sleep(0.001)  # hold the claim open a moment, so the workers' transactions overlap
        if not batch:
            return mine
        mine.extend(message.id for message in batch)


async def test_three_concurrent_workers_never_claim_one_row_twice(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        for _ in range(6):
            patient = await add_patient(session)
            await outbox.replace_pending(session, patient.id, plan(*range(1, 51)), NOW)
    workers = [create_engine(database_url) for _ in range(3)]
    try:
        claims = await asyncio.gather(
            *(_claim_until_empty(w, f"worker-{i}", 7) for i, w in enumerate(workers))
        )
    finally:
        for worker in workers:
            await worker.dispose()
    every_claim = [message_id for claim in claims for message_id in claim]
    assert len(every_claim) == len(set(every_claim)) == 300
    assert sum(1 for claim in claims if claim) >= 2, "the workers did not run side by side"
    async with sessions() as session:
        stored = (await session.scalars(select(ScheduledMessage))).all()
    assert {(row.status, row.attempts) for row in stored} == {(MessageStatus.CLAIMED, 1)}
    for index, claim in enumerate(claims):
        assert {row.claimed_by for row in stored if row.id in set(claim)} <= {f"worker-{index}"}


async def test_on_postgresql_an_open_claim_does_not_block_another_worker(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a second claimer waits for the first to commit")
    async with sessions() as session, session.begin():
        patient = await add_patient(session)
        await outbox.replace_pending(session, patient.id, plan(1, 2, 3, 4), NOW)
    async with sessions() as first, first.begin(), sessions() as second, second.begin():
        held = await outbox.claim_due(first, NOW + 5 * HOUR, 2, "first", 60)
        other = await asyncio.wait_for(outbox.claim_due(second, NOW + 5 * HOUR, 10, "second", 60), timeout=5)
    assert [m.due_at for m in held] == [NOW + 1 * HOUR, NOW + 2 * HOUR]
    assert [m.due_at for m in other] == [NOW + 3 * HOUR, NOW + 4 * HOUR]


async def test_an_expired_lease_makes_the_row_uncertain_and_it_is_never_claimed_again(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1, 2), NOW)
    now = NOW + 3 * HOUR
    first, second = await outbox.claim_due(session, now, 10, "w1", lease_s=30)
    assert await outbox.mark_sent(session, first.id, "SM1", now)
    assert await outbox.recover_expired_leases(session, now + timedelta(seconds=30)) == []
    assert await outbox.recover_expired_leases(session, now + timedelta(seconds=31)) == [second.id]
    stored = await rows(session)
    assert stored["reminder:2"].status is MessageStatus.UNCERTAIN
    assert stored["reminder:2"].last_error == outbox.LEASE_EXPIRED_ERROR
    assert stored["reminder:1"].status is MessageStatus.SENT
    assert await outbox.claim_due(session, now + 9 * HOUR, 10, "w2", lease_s=30) == []
    assert await outbox.next_due_at(session) is None
    # the worker was slow, not dead: its late outcome still lands
    assert await outbox.mark_sent(session, second.id, "SM2", now + timedelta(seconds=40))
    assert (await rows(session))["reminder:2"].status is MessageStatus.SENT


async def test_a_retried_row_waits_for_its_retry_time_and_counts_its_attempts(session: AsyncSession) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1), NOW)
    now = NOW + 1 * HOUR
    [message] = await outbox.claim_due(session, now, 10, "w", lease_s=30)
    retry_at = now + timedelta(minutes=5)
    assert await outbox.mark_retry(session, message.id, "429 Too Many Requests", retry_at, now)
    assert await outbox.next_due_at(session) == retry_at
    assert await outbox.claim_due(session, retry_at - timedelta(seconds=1), 10, "w", lease_s=30) == []
    [again] = await outbox.claim_due(session, retry_at, 10, "w", lease_s=30)
    assert (again.id, again.attempts) == (message.id, 2)
    assert await outbox.mark_failed(session, again.id, "21610 unsubscribed", retry_at)
    stored = (await rows(session))["reminder:1"]
    assert (stored.status, stored.last_error, stored.lease_until) == (
        MessageStatus.FAILED,
        "21610 unsubscribed",
        None,
    )


async def test_outcomes_only_land_on_claimed_or_uncertain_rows(session: AsyncSession) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1), NOW)
    [row] = (await rows(session)).values()
    assert not await outbox.mark_sent(session, row.id, "SM1", NOW)
    assert not await outbox.mark_retry(session, row.id, "x", NOW, NOW)
    assert not await outbox.mark_failed(session, row.id, "x", NOW)
    assert (await rows(session))["reminder:1"].status is MessageStatus.PENDING


async def test_next_due_at_is_the_earliest_pending_due_time_or_none(session: AsyncSession) -> None:
    assert await outbox.next_due_at(session) is None
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(4, 2, 7), NOW)
    due: datetime | None = await outbox.next_due_at(session)
    assert due == NOW + 2 * HOUR
    assert due is not None and due.utcoffset() == timedelta(0)
    await outbox.claim_due(session, NOW + 3 * HOUR, 10, "w", lease_s=30)
    assert await outbox.next_due_at(session) == NOW + 4 * HOUR


async def test_rows_a_replan_cancels_read_cancelled_in_its_own_session_and_nothing_is_left_to_flush(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1, 2), NOW)
    loaded = await rows(session)

    later = NOW + HOUR / 2
    report = await outbox.replace_pending(session, patient.id, plan(2, 3), later)

    assert report == ReplaceReport(inserted=1, cancelled=1, unchanged=1)
    assert loaded["reminder:1"].status is MessageStatus.CANCELLED  # no reload: the session's own object
    assert loaded["reminder:1"].updated_at == later
    assert loaded["reminder:2"].status is MessageStatus.PENDING
    assert not session.dirty and not session.new
    stored = await rows(session)
    assert {key: row.status for key, row in stored.items()} == {
        "reminder:1": MessageStatus.CANCELLED,
        "reminder:2": MessageStatus.PENDING,
        "reminder:3": MessageStatus.PENDING,
    }
    assert stored["reminder:1"].updated_at == later


async def test_a_row_loaded_before_the_claim_reads_claimed_in_the_claiming_session(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    await outbox.replace_pending(session, patient.id, plan(1, 2), NOW)
    loaded = await rows(session)

    [claimed] = await outbox.claim_due(session, NOW + HOUR, limit=5, worker_id="w1", lease_s=60)

    row = loaded["reminder:1"]
    assert claimed.id == row.id
    assert (row.status, row.claimed_by, row.lease_until, row.attempts) == (
        MessageStatus.CLAIMED,
        "w1",
        NOW + HOUR + timedelta(seconds=60),
        1,
    )
    assert loaded["reminder:2"].status is MessageStatus.PENDING
    assert not session.dirty
