"""`GET /metrics`: the outbox, inbound messages, lag, flagged check-ins and HTTP requests; no patient data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from care.clock import FakeClock
from care.plan import load_plan
from ocrebot.app import create_app
from ocrebot.settings import load_settings
from storage.db import session_factory
from storage.models import Channel, CheckIn, CheckInLevel, Direction, MessageLog, ScheduledMessage
from storage.stats import outbox_counts
from tests.jobs.builders import APPOINTMENT, NOW, add_patient, book
from tests.ocrebot.test_app import serving


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_the_outbox_inbound_lag_and_flags_without_patient_data(
    engine: AsyncEngine, database_url: str, clean_env: Path
) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        patient = await add_patient(session, chat_id=4242, display_name="Zelda Quux")
        await book(session, load_plan(), patient)
        session.add(
            MessageLog(
                patient_id=patient.id,
                channel=Channel.TELEGRAM,
                direction=Direction.INBOUND,
                text="I feel odd",
                created_at=NOW,
            )
        )
        session.add(
            CheckIn(
                patient_id=patient.id,
                answer="rash",
                level=CheckInLevel.CLINIC_TODAY,
                flagged=True,
                created_at=NOW,
            )
        )
    clock = FakeClock(NOW)  # nothing due yet, so the dispatcher leaves every row pending
    app = create_app(load_settings(env_file=None, database_url=database_url), clock=clock)
    async with serving(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    pending = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "ocrebot_messages" and ("status", "pending") in labels
    }
    assert sum(pending.values()) == 6  # three reminders, two check-ins, the dose confirmation
    assert (("channel", "none"), ("kind", "reminder"), ("status", "pending")) in pending
    assert samples[("ocrebot_inbound_messages_total", (("channel", "telegram"),))] == 1
    assert samples[("ocrebot_check_ins_awaiting_acknowledgement", ())] == 1
    assert samples[("ocrebot_dispatcher_lag_seconds", ())] == 0
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("ocrebot_http_requests_total", healthz)] == 1
    for secret in ("Zelda", "4242", "odd", "rash"):
        assert secret not in response.text


async def test_the_lag_is_measured_from_the_oldest_row_already_due(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        patient = await add_patient(session, chat_id=1)
        await book(session, load_plan(), patient)
    later = APPOINTMENT + timedelta(days=1)
    async with sessions() as session:
        counts = await outbox_counts(session, later)
        first_due = min(row.due_at for row in await session.scalars(select(ScheduledMessage)))
    assert counts.oldest_due_at == first_due
    async with sessions() as session:
        assert (await outbox_counts(session, first_due - timedelta(seconds=1))).oldest_due_at is None
