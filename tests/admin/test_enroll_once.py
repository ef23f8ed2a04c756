"""Enrolling is idempotent: a client's retry with its Idempotency-Key, or a double-posted enrolment form (its
nonce), answers the first enrolment (same patient, invite and SMS outcome), enrolls nobody new and texts
nothing again, also when the requests arrive together. Keys are each operator's own."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import func, select

from admin.enroll import invite_sms
from storage.models import AuditLog, Invite, OperatorRole, Patient, PatientStatus
from tests.admin.console import NOW, Console, add_operator, add_token, signed_in
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio


async def _bearer(console: Console, email: str) -> dict[str, str]:
    await add_operator(console.sessions, email, OperatorRole.OPERATOR)
    return {"Authorization": f"Bearer {await add_token(console.sessions, email)}"}


async def _count(console: Console, model: Any) -> int:
    async with console.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_api_enrolment_retried_with_its_key_answers_the_first_and_texts_once(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    auth = await _bearer(live, "nurse@clinic.example")
    body = {"display_name": "Noa Gil", "phone": "+34611222999"}
    retry = auth | {"Idempotency-Key": "enrol-noa-0001"}
    first = await live.client.post("/api/patients", json=body, headers=retry)
    again = await live.client.post("/api/patients", json=body, headers=retry)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json() and first.json()["sms"] == "sent"
    assert [m["body"] for m in twilio.sent] == [
        invite_sms("en", first.json()["code"], first.json()["telegram_link"])
    ]
    async with live.sessions() as session, session.begin():  # she texts JOIN before the client's last retry
        patient = await session.get(Patient, first.json()["patient_id"])
        invite = await session.scalar(select(Invite))
        assert patient is not None and invite is not None
        patient.status, invite.used_at = PatientStatus.ACTIVE, NOW
    late = await live.client.post("/api/patients", json=body, headers=retry)
    assert (late.status_code, late.json()) == (201, first.json())
    assert (await _count(live, Patient), await _count(live, Invite), len(twilio.sent)) == (1, 1, 1)
    async with live.sessions() as session:
        enrolments = list(await session.scalars(select(AuditLog).where(AuditLog.action == "patient.enroll")))
    assert [row.detail["key"] for row in enrolments] == [f"api:{enrolments[0].operator_id}:enrol-noa-0001"]
    bad = await live.client.post("/api/patients", json=body, headers=auth | {"Idempotency-Key": "x y"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await _count(live, Patient) == 1


async def test_identical_enrolments_arriving_together_make_one_patient_and_one_text(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    headers = await _bearer(live, "nurse@clinic.example") | {"Idempotency-Key": "together-0001"}
    body = {"display_name": "Oto Paz", "phone": "+34611222998"}
    answers = await asyncio.gather(
        *(live.client.post("/api/patients", json=body, headers=headers) for _ in range(3))
    )
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[1].json() == answers[0].json() == answers[2].json()
    assert (await _count(live, Patient), await _count(live, Invite), len(twilio.sent)) == (1, 1, 1)


async def test_another_operator_with_the_same_key_enrolls_their_own_patient(console: Console) -> None:
    nurse = await _bearer(console, "nurse@clinic.example")
    doctor = await _bearer(console, "doctor@clinic.example")
    key = {"Idempotency-Key": "shared-key-0001"}
    mine = await console.client.post("/api/patients", json={"display_name": "Pia"}, headers=nurse | key)
    theirs = await console.client.post("/api/patients", json={"display_name": "Quin"}, headers=doctor | key)
    again = await console.client.post("/api/patients", json={"display_name": "Pia"}, headers=nurse | key)
    assert (mine.status_code, theirs.status_code, again.status_code) == (201, 201, 201)
    assert mine.json()["patient_id"] != theirs.json()["patient_id"]
    assert again.json() == mine.json() and again.json()["sms"] is None
    assert await _count(console, Patient) == 2
    erase = {"confirm": str(mine.json()["patient_id"])}
    erased = await console.client.post(
        f"/api/patients/{mine.json()['patient_id']}/erase", json=erase, headers=nurse
    )
    assert erased.status_code == 204
    gone = await console.client.post("/api/patients", json={"display_name": "Pia"}, headers=nurse | key)
    assert (gone.status_code, gone.json()) == (
        409,
        {"detail": "the patient first enrolled with this key has since been erased"},
    )
    assert await _count(console, Patient) == 1


async def test_the_enrol_form_posted_twice_makes_one_patient_and_texts_once(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        (nonce,) = re.findall(r'name="nonce" value="([^"]+)"', (await client.get("/admin/enroll")).text)
        form = {"csrf_token": token, "display_name": "Rui Sol", "phone": "+34611222997", "nonce": nonce}
        answers = await asyncio.gather(*(client.post("/admin/enroll", data=form) for _ in range(2)))
        again = await client.post("/admin/enroll", data=form)  # a retry after both came back
        places = {answer.headers["location"] for answer in (*answers, again)}
        assert [answer.status_code for answer in (*answers, again)] == [303, 303, 303]
        assert len(places) == 1 and "notice=invite_sms_sent" in places.pop()
        assert (await _count(live, Patient), len(twilio.sent)) == (1, 1)
        (fresh,) = re.findall(r'name="nonce" value="([^"]+)"', (await client.get("/admin/enroll")).text)
        other = await client.post("/admin/enroll", data=form | {"nonce": fresh})
        assert other.status_code == 303 and other.headers["location"] not in {
            a.headers["location"] for a in answers
        }
        assert (await _count(live, Patient), len(twilio.sent)) == (2, 2)  # a new form is a new patient
