"""Many patients at once, quick double taps, and a writer in another process: no state is ever mixed up."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine
from care.clock import FakeClock
from care.plan import ReminderPlan
from storage.models import ChannelAddress, Dose, Patient, PatientStatus
from tests.bot.dialog.helpers import Chat, patient_of, sign_up, snapshot

PATIENTS = 200


async def test_200_patients_sign_up_at_once_without_mixing_anything(
    dialog: DialogEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chats = [Chat(dialog, address=f"tg-{index:04d}") for index in range(PATIENTS)]
    started = time.perf_counter()
    await asyncio.gather(*(sign_up(chat, name=f"Patient {index:04d}") for index, chat in enumerate(chats)))
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        rows = (
            await session.execute(
                select(ChannelAddress.address, Patient.display_name, Patient.status).join(
                    Patient, Patient.id == ChannelAddress.patient_id
                )
            )
        ).all()
        assert await session.scalar(select(func.count()).select_from(Patient)) == PATIENTS
        assert await session.scalar(select(func.count()).select_from(Dose)) == 2 * PATIENTS
    assert len(rows) == PATIENTS
    for address, name, status in rows:
        assert name == f"Patient {address.removeprefix('tg-')}" and status is PatientStatus.ACTIVE
    assert elapsed < 45, f"{PATIENTS} sign-ups took {elapsed:.1f} s"


async def test_two_quick_taps_on_one_address_never_corrupt_its_state(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    before = await snapshot(sessions, chat.address)
    first, second = await asyncio.gather(chat.choose("yes"), chat.choose("yes"))
    assert "What name" in first[-1].text
    assert "earlier question" in second[0].text  # the second tap found the question already answered
    after = await snapshot(sessions, chat.address)
    assert (after.step, after.version) == ("name", before.version + 1)
    await asyncio.gather(chat.send("Ana"), chat.send("Bea"))
    patient = await patient_of(sessions, chat.address)
    assert patient.display_name == "Ana"  # the first answered the name; the second answered the next question
    assert (await snapshot(sessions, chat.address)).step == "timezone"  # "Bea" is no place: asked again


async def test_two_engines_on_one_database_serialize_one_address(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> None:
    engines = [
        DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en") for _ in "ab"
    ]
    chats = [Chat(engine, address="tg-shared") for engine in engines]
    await asyncio.gather(*(chat.send("hi") for chat in chats))  # a concurrent first contact
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1
    await asyncio.gather(*(chat.choose("yes") for chat in chats))
    snap = await snapshot(sessions, "tg-shared")
    assert snap.step == "name"
    replies = [chat.text for chat in chats]
    assert sum("What name" in reply for reply in replies) >= 1


class _SessionWithRival(AsyncSession):
    """A session whose first commit finds that another process has just written the dialog state."""

    rival: AsyncEngine | None = None

    async def commit(self) -> None:
        rival, _SessionWithRival.rival = _SessionWithRival.rival, None
        if rival is not None:
            async with rival.begin() as connection:
                await connection.execute(text("UPDATE dialog_state SET version = version + 1"))
        await super().commit()


async def test_a_step_that_loses_to_another_process_is_retried_on_fresh_state(
    engine: AsyncEngine, database_url: str, plan: ReminderPlan, clock: FakeClock
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite takes its write lock at BEGIN (storage.db), so no other writer can interleave")
    sessions = async_sessionmaker(engine, class_=_SessionWithRival, expire_on_commit=False)
    chat = Chat(
        DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en"), "tg-rival"
    )
    await chat.send("hi")
    before = await snapshot(sessions, "tg-rival")
    _SessionWithRival.rival = engine
    await chat.choose("yes")
    assert "What name" in chat.text
    after = await snapshot(sessions, "tg-rival")
    assert (after.step, after.version) == ("name", before.version + 2)  # the rival's write, then ours


async def test_a_step_takes_milliseconds(dialog: DialogEngine) -> None:
    durations: list[float] = []
    for index in range(17):  # 17 sign-ups of 12 steps: 204 steps, the first sign-up warms up
        chat = Chat(dialog, address=f"tg-timed-{index}")
        started = time.perf_counter()
        await sign_up(chat)
        durations.append((time.perf_counter() - started) / 12)
    median_ms = statistics.median(durations[1:]) * 1000
    assert median_ms < 50, f"a step takes {median_ms:.1f} ms (median over sign-ups)"
