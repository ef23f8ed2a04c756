"""200 patients signing up over Telegram at the same moment: each ends with their own name, time zone,
treatment and appointment, in the database and in every message their chat received."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan
from storage.models import (
    Channel,
    ChannelAddress,
    Dose,
    DoseStatus,
    Language,
    Patient,
    PatientStatus,
    TreatmentCourse,
)
from tests.bot.telegram_e2e.harness import Bot, SignUp, sign_up_as
from tests.bot.telegram_e2e.phones import phones
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

PATIENTS = 200
# Telegram's ~30/s is for bulk sends spread over hours; 200 people answering within the same second is a
# burst it would spread out. Both sides get a higher figure so the test stays seconds long; the per-chat
# bucket is scaled as in conftest (answers 100 times faster than a person types).
OVERALL_PER_S = 2_000


@pytest.fixture
async def busy_bot(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> AsyncIterator[Bot]:
    fake = FakeTelegram(overall_per_s=OVERALL_PER_S, overall_burst=200, chat_per_s=100, chat_burst=20)
    await fake.start()
    running = Bot(fake, sessions, plan, clock, overall_per_s=OVERALL_PER_S, wait_s=60)
    await running.start()
    yield running
    await running.stop()
    await fake.stop()
    assert running.errors == []


@pytest.mark.timeout(600)  # 2,400 answers through real HTTP on both sides: CPU-bound, slow on a busy machine
async def test_200_patients_sign_up_at_once_and_nothing_is_mixed_up(
    busy_bot: Bot, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    plans = [SignUp(index) for index in range(PATIENTS)]
    users = [busy_bot.user(plan.chat_id, plan.language) for plan in plans]
    started = time.perf_counter()
    await asyncio.gather(*(sign_up_as(user, plan) for user, plan in zip(users, plans, strict=True)))
    elapsed = time.perf_counter() - started
    async with phones(
        sessions, busy_bot.plan, clock, FakeTwilio()
    ) as phone:  # each typed number confirms: SMS on
        answers = await asyncio.gather(*(phone(p.phone).text("YES") for p in plans if p.phone is not None))
    assert all(len(answer) == 1 and "Thanks" in answer[0] for answer in answers), answers

    async with sessions() as session:
        rows = (
            await session.execute(
                select(ChannelAddress.address, Patient)
                .join(Patient, Patient.id == ChannelAddress.patient_id)
                .where(ChannelAddress.channel == Channel.TELEGRAM)
            )
        ).all()
        patients = {int(address): patient for address, patient in rows}
        doses = (
            await session.execute(
                select(TreatmentCourse.patient_id, Dose).join(Dose, Dose.course_id == TreatmentCourse.id)
            )
        ).all()
        sms = dict(
            (
                await session.execute(
                    select(ChannelAddress.patient_id, ChannelAddress.address).where(
                        ChannelAddress.channel == Channel.SMS
                    )
                )
            ).all()
        )
    assert len(patients) == PATIENTS
    for plan in plans:
        patient = patients[plan.chat_id]
        assert (
            patient.display_name,
            patient.timezone,
            patient.language,
            patient.formulation,
            patient.status,
        ) == (
            plan.name,
            plan.zone,
            Language(plan.language),
            plan.formulation,
            PatientStatus.ACTIVE,
        ), plan
        mine = [dose for owner, dose in doses if owner == patient.id]
        planned = [dose for dose in mine if dose.status is DoseStatus.PLANNED]
        assert [(dose.planned_at, dose.location) for dose in planned] == [(plan.appointment, plan.place)], (
            plan
        )
        assert len(mine) == (2 if plan.last_dose else 1), plan
        expected_sms = plan.phone.replace(" ", "") if plan.phone else None
        assert sms.get(patient.id) == expected_sms, plan
        assert patient.sms_consent is (expected_sms is not None), plan  # only after that phone's YES

        texts = [reply.get("text", "") for reply in busy_bot.sent_to(plan.chat_id)]
        joined = "\n".join(texts)
        assert set(re.findall(r"Patient \d{3}", joined)) == {plan.name}, plan
        assert set(re.findall(r"Clinic \d{3}", joined)) == {plan.place}, plan
        done = "¡Todo listo, " if plan.language == "es" else "You're all set, "
        assert texts[-1].startswith(done + plan.name), (plan, texts[-1])

    latencies = sorted(latency for user in users for latency in user.latencies_s)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(  # noqa: T201
        f"\n{PATIENTS} Telegram sign-ups: {elapsed:.1f} s, {len(latencies)} replies, "
        f"first reply p50 {p50 * 1000:.0f} ms p99 {p99 * 1000:.0f} ms, 429s {busy_bot.fake.rate_limited}"
    )
    assert elapsed < 300, f"{PATIENTS} sign-ups took {elapsed:.1f} s"
