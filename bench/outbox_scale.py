"""Benchmark (b) of the outbox at scale: claim latency, plan rewrite latency, next wake time, peak memory.

Fills a database with `--patients` patients and `--rows` pending rows (a tenth of them due now), then times
`claim_due` batches of 100, `replace_pending` of one patient's plan, and `next_due_at` (which the dispatcher
asks after every run to set its next wake): `next_due_*` as the claims left the table, `next_due_retrying_*`
after every claimed row went back to pending with a retry ten minutes on (a provider outage: early rows
that are not claimable yet). Prints one JSON object; targets are reported beside the numbers, never
asserted. Run on PostgreSQL for the real figures:
`BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python -m bench outbox`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, select, text, update

from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import Language, MessageStatus, Patient, PatientStatus, ScheduledMessage
from storage.outbox import NewMessage, claim_due, next_due_at, replace_pending

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
CHUNK = 5_000
TARGETS = {
    "claim_100_p50_ms": 10.0,
    "replan_one_patient_p50_ms": 5.0,
    "next_due_p50_ms": 5.0,
    "next_due_retrying_p50_ms": 5.0,
    "peak_rss_mb": 200.0,
}
NEXT_DUE_CALLS = 50
RETRY_AFTER = timedelta(minutes=10)


async def _reset(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _fill(sessions: Any, patients: int, rows: int) -> float:
    started = time.perf_counter()
    async with sessions() as session:
        for first in range(0, patients, CHUNK):
            batch = [
                {
                    "id": first + i + 1,
                    "language": Language.EN,
                    "timezone": "Europe/Madrid",
                    "status": PatientStatus.ACTIVE,
                    "sandbox": False,
                    "sms_consent": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(min(CHUNK, patients - first))
            ]
            await session.execute(insert(Patient), batch)
            await session.commit()
        pending: list[dict[str, Any]] = []
        for n in range(rows):
            patient_id = n % patients + 1
            slot = n // patients
            due_now = n % 10 == 0
            due = (
                NOW - timedelta(seconds=n % 600)
                if due_now
                else NOW + timedelta(days=1 + slot, minutes=n % 997)
            )
            pending.append(
                {
                    "patient_id": patient_id,
                    "kind": "reminder",
                    "touchpoint_id": "reminder_7_days",
                    "due_at": due,
                    "status": MessageStatus.PENDING,
                    "attempts": 0,
                    "dedupe_key": f"bench:{slot}:{n}",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(pending) == CHUNK:
                await session.execute(insert(ScheduledMessage), pending)
                await session.commit()
                pending.clear()
        if pending:
            await session.execute(insert(ScheduledMessage), pending)
            await session.commit()
        await session.execute(text("ANALYZE"))
        await session.commit()
    return time.perf_counter() - started


async def _earliest_claimable(sessions: Any) -> datetime | None:
    """What `next_due_at` must answer, from every pending row (the formula before migration 0006)."""
    sm = ScheduledMessage
    claimable_at = case(
        (and_(sm.next_attempt_at.is_not(None), sm.next_attempt_at > sm.due_at), sm.next_attempt_at),
        else_=sm.due_at,
    )
    async with sessions() as session:
        found: datetime | None = await session.scalar(
            select(func.min(claimable_at)).where(sm.status == MessageStatus.PENDING)
        )
        return found


async def _time_next_due(sessions: Any, expected: datetime | None) -> list[float]:
    timings = []
    for _ in range(NEXT_DUE_CALLS):
        async with sessions() as session, session.begin():
            started = time.perf_counter()
            found = await next_due_at(session)
        timings.append((time.perf_counter() - started) * 1000)
        assert found == expected, f"next_due_at gave {found}, expected {expected}"
    return timings


async def _retry_every_claimed_row(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(ScheduledMessage)
            .where(ScheduledMessage.status == MessageStatus.CLAIMED)
            .values(
                status=MessageStatus.PENDING,
                next_attempt_at=NOW + RETRY_AFTER,
                claimed_by=None,
                lease_until=None,
                updated_at=NOW,
            )
        )
        await session.execute(text("ANALYZE scheduled_message"))


def _p50_p95(name: str, timings: list[float]) -> dict[str, float]:
    return {
        f"{name}_p50_ms": round(statistics.median(timings), 2),
        f"{name}_p95_ms": round(sorted(timings)[int(len(timings) * 0.95) - 1], 2),
    }


async def run(url: str, patients: int, rows: int, claims: int, replans: int) -> dict[str, Any]:
    """Fill, measure, and return the figures."""
    await _reset(url)
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    fill_s = await _fill(sessions, patients, rows)
    claim_ms = []
    for i in range(min(claims, rows // 10 // 100)):  # a tenth of the rows are due: never run dry
        async with sessions() as session, session.begin():
            started = time.perf_counter()
            claimed = await claim_due(session, NOW, 100, f"bench-{i}", 120)
        claim_ms.append((time.perf_counter() - started) * 1000)
        assert claimed, "the benchmark ran out of due rows"
    replan_ms = []
    for i in range(replans):
        patient_id = (i * 7919) % patients + 1
        planned = [
            NewMessage(
                f"replan:{k}", "reminder", NOW + timedelta(days=30 + k, hours=i % 5), "reminder_7_days"
            )
            for k in range(8)
        ]
        async with sessions() as session, session.begin():
            started = time.perf_counter()
            await replace_pending(session, patient_id, planned, NOW)
        replan_ms.append((time.perf_counter() - started) * 1000)
    next_due_ms = await _time_next_due(sessions, await _earliest_claimable(sessions))
    await _retry_every_claimed_row(sessions)
    next_due_retrying_ms = await _time_next_due(sessions, await _earliest_claimable(sessions))
    await engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "benchmark": "outbox_scale",
        "database": engine.dialect.name,
        "patients": patients,
        "pending_rows": rows,
        "fill_s": round(fill_s, 1),
        "claim_100_p50_ms": round(statistics.median(claim_ms), 2),
        "claim_100_p95_ms": round(sorted(claim_ms)[int(len(claim_ms) * 0.95) - 1], 2),
        "replan_one_patient_p50_ms": round(statistics.median(replan_ms), 2),
        "replan_one_patient_p95_ms": round(sorted(replan_ms)[int(len(replan_ms) * 0.95) - 1], 2),
        **_p50_p95("next_due", next_due_ms),
        **_p50_p95("next_due_retrying", next_due_retrying_ms),
        "peak_rss_mb": round(peak_mb, 1),
        "targets": TARGETS,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse arguments, run, return the result."""
    parser = argparse.ArgumentParser(prog="python -m bench outbox")
    parser.add_argument("--patients", type=int, default=125_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--replans", type=int, default=200)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    url = args.database_url
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite+aiosqlite:///{folder}/bench.db"
        return asyncio.run(run(url, args.patients, args.rows, args.claims, args.replans))
