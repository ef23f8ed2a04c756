"""The JSON API's patient actions: enroll (invite), next appointment, dose given, one-off message, erase.

Each runs on SQLite and PostgreSQL through the app's own lifespan; every change is checked in the database
(the outbox follows the plan, audit rows carry ids only) and every refusal leaves the database as it was.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import (
    AuditLog,
    Dose,
    DoseStatus,
    Invite,
    MessageLog,
    MessageStatus,
    OperatorRole,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from tests.admin.console import NOW, Console, add_operator, add_sandbox, add_token, seed
from tests.jobs.builders import APPOINTMENT


async def _bearer(console: Console, role: OperatorRole = OperatorRole.OPERATOR) -> dict[str, str]:
    email = f"{role.value}@clinic.example"
    await add_operator(console.sessions, email, role)
    return {"Authorization": f"Bearer {await add_token(console.sessions, email)}"}


async def _count(console: Console, model: Any) -> int:
    async with console.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _actions(console: Console) -> list[str]:
    """The audit log's actions on patients and invites (not the operators' own sign-ins and tokens)."""
    async with console.sessions() as session:
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    return [action for action in actions if action.startswith(("patient.", "invite."))]


async def _pending(console: Console, patient_id: int) -> list[ScheduledMessage]:
    async with console.sessions() as session:
        return list(
            await session.scalars(
                select(ScheduledMessage)
                .where(
                    ScheduledMessage.patient_id == patient_id,
                    ScheduledMessage.status == MessageStatus.PENDING,
                )
                .order_by(ScheduledMessage.due_at)
            )
        )


def _locs(answer: Any) -> set[tuple[str, ...]]:
    return {tuple(error["loc"]) for error in answer.json()["detail"]}


async def test_enrolling_makes_a_signing_up_patient_and_an_invite_without_telegram_or_sms(
    console: Console,
) -> None:
    auth = await _bearer(console)
    answer = await console.client.post(
        "/api/patients",
        json={"display_name": "Dora Vidal", "language": "es", "formulation": "sc"},
        headers=auth,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert len(body["code"]) == 8 and body["code"].isalnum() and body["code"].isupper()
    assert body["telegram_link"] is None and body["sms"] is None  # no bot token, no phone given
    async with console.sessions() as session:
        patient = await session.get(Patient, body["patient_id"])
        invite = await session.scalar(select(Invite).where(Invite.code == body["code"]))
    assert patient is not None and patient.status is PatientStatus.SIGNING_UP and not patient.sandbox
    assert (patient.language.value, patient.timezone) == ("es", "Europe/Madrid")  # the settings' zone
    assert (
        invite is not None
        and invite.patient_id == patient.id
        and invite.expires_at == NOW + timedelta(days=30)
    )
    assert await _actions(console) == ["patient.enroll"]


async def test_enrolling_with_a_phone_when_sms_is_off_says_so(console: Console) -> None:
    auth = await _bearer(console)
    answer = await console.client.post(
        "/api/patients", json={"display_name": "Eva", "phone": "+34 600 111 333"}, headers=auth
    )
    assert answer.status_code == 201 and answer.json()["sms"] == "sms_off"
    assert await _actions(console) == ["patient.enroll", "invite.sms"]


async def test_bad_enrolments_are_422s_naming_each_field_and_store_nothing(console: Console) -> None:
    auth = await _bearer(console)
    answer = await console.client.post(
        "/api/patients",
        json={"display_name": "", "timezone": "Mars/Olympus", "phone": "600111333", "language": "fr"},
        headers=auth,
    )
    assert answer.status_code == 422
    assert _locs(answer) == {
        ("body", "display_name"),
        ("body", "timezone"),
        ("body", "phone"),
        ("body", "language"),
    }
    blank = await console.client.post("/api/patients", json={"display_name": "   "}, headers=auth)
    assert blank.status_code == 422 and _locs(blank) == {("body", "display_name")}
    extra = await console.client.post(
        "/api/patients", json={"display_name": "X", "sms_consent": True}, headers=auth
    )
    assert extra.status_code == 422 and _locs(extra) == {("body", "sms_consent")}
    assert await _count(console, Patient) == 0 and await _count(console, Invite) == 0


async def test_viewers_read_but_every_patient_action_is_refused_to_them(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.VIEWER)
    base = f"/api/patients/{seeded.active}"
    calls = [
        ("post", "/api/patients", {"display_name": "Vic"}),
        ("post", f"{base}/invites", {}),
        ("put", f"{base}/appointment", {"starts_at": "2027-06-10T10:00:00"}),
        ("post", f"{base}/doses", {"given_at": "2026-12-06T10:00:00"}),
        ("post", f"{base}/messages", {"text": "hello"}),
        ("post", f"{base}/erase", {"confirm": str(seeded.active)}),
    ]
    for method, url, body in calls:
        answer = await console.client.request(method, url, json=body, headers=auth)
        assert answer.status_code == 403, (url, answer.text)
    assert (await console.client.get(base, headers=auth)).status_code == 200
    assert await _count(console, Patient) == 3 and await _actions(console) == []


async def test_a_new_invite_is_for_sign_up_or_a_telegram_link_never_for_a_stopped_patient(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    enrolled = (await console.client.post("/api/patients", json={"display_name": "Fay"}, headers=auth)).json()
    again = await console.client.post(
        f"/api/patients/{enrolled['patient_id']}/invites", json={}, headers=auth
    )
    assert again.status_code == 201 and again.json()["code"] != enrolled["code"]
    for signed_up in (seeded.active, seeded.paused):  # a link invite: a Telegram chat joins them
        link = await console.client.post(f"/api/patients/{signed_up}/invites", json={}, headers=auth)
        assert link.status_code == 201 and link.json()["sms"] is None
    stopped = await console.client.post(f"/api/patients/{seeded.stopped}/invites", json={}, headers=auth)
    assert stopped.status_code == 409
    assert (await console.client.post("/api/patients/999/invites", json={}, headers=auth)).status_code == 404


async def test_an_appointment_that_breaks_a_label_rule_needs_confirming_then_moves_the_reminders(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)  # Ana: IV, dose 2 given, dose 3 planned at APPOINTMENT
    auth = await _bearer(console)
    url = f"/api/patients/{seeded.active}/appointment"
    moved = await console.client.put(
        url, json={"starts_at": "2026-12-11T10:30:00", "location": "Day unit"}, headers=auth
    )
    assert moved.status_code == 200 and moved.json()["warnings"] == [], moved.text
    async with console.sessions() as session:
        dose = await session.get(Dose, seeded.dose)
    assert dose is not None and dose.location == "Day unit" and dose.source == "operator"
    assert dose.planned_at.isoformat() == "2026-12-11T09:30:00+00:00"  # 10:30 in Madrid is 09:30 UTC
    day_before = [
        row for row in await _pending(console, seeded.active) if row.touchpoint_id == "reminder_day_before"
    ]
    assert [row.due_at.isoformat() for row in day_before] == ["2026-12-10T17:00:00+00:00"]  # 18:00 Madrid

    given = await console.client.post(
        f"/api/patients/{seeded.active}/doses", json={"given_at": "2026-12-06T10:00:00"}, headers=auth
    )
    assert given.status_code == 201
    before = [(row.dedupe_key, row.due_at) for row in await _pending(console, seeded.active)]
    early = {"starts_at": "2027-03-01T10:30:00"}  # under 5 months after the dose just given (fact 25)
    refused = await console.client.put(url, json=early, headers=auth)
    assert refused.status_code == 409
    assert [w["code"] for w in refused.json()["detail"]["warnings"]] == ["under_minimum_interval"]
    assert [(row.dedupe_key, row.due_at) for row in await _pending(console, seeded.active)] == before

    booked = await console.client.put(url, json={**early, "confirm": True}, headers=auth)
    assert booked.status_code == 200, booked.text
    assert booked.json()["number"] == 4 and booked.json()["warnings"][0]["code"] == "under_minimum_interval"
    after = await _pending(console, seeded.active)
    assert any(
        row.touchpoint_id == "reminder_day_before" and row.dose_id == booked.json()["dose_id"]
        for row in after
    )
    assert await _actions(console) == ["patient.appointment", "patient.dose_given", "patient.appointment"]
    async with console.sessions() as session:
        details = list(
            await session.scalars(select(AuditLog.detail).where(AuditLog.action == "patient.appointment"))
        )
    assert details[-1]["warnings"] == ["under_minimum_interval"] and "Ana" not in str(details)


async def test_impossible_appointments_are_422s_on_starts_at_and_change_nothing(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    url = f"/api/patients/{seeded.active}/appointment"
    for starts_at in ("2026-12-01T10:00:00", "2029-01-01T10:00:00"):  # in the past; years ahead
        answer = await console.client.put(url, json={"starts_at": starts_at, "confirm": True}, headers=auth)
        assert answer.status_code == 422 and _locs(answer) == {("body", "starts_at")}, answer.text
    garbage = await console.client.put(url, json={"starts_at": "soon", "confirm": "maybe"}, headers=auth)
    assert garbage.status_code == 422 and _locs(garbage) == {("body", "starts_at"), ("body", "confirm")}
    async with console.sessions() as session:
        dose = await session.get(Dose, seeded.dose)
    assert dose is not None and dose.planned_at == APPOINTMENT and await _actions(console) == []
    stopped = await console.client.put(
        f"/api/patients/{seeded.stopped}/appointment", json={"starts_at": "2027-01-10T10:00:00"}, headers=auth
    )
    assert stopped.status_code == 409
    missing = await console.client.put(
        "/api/patients/999/appointment", json={"starts_at": "2027-01-10T10:00:00"}, headers=auth
    )
    assert missing.status_code == 404


async def test_a_recorded_dose_re_anchors_the_plan_like_the_patients_own_report(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    url = f"/api/patients/{seeded.active}/doses"
    answer = await console.client.post(url, json={"given_at": "2026-12-06T11:00:00"}, headers=auth)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["dose_id"] == seeded.dose and body["number"] == 3
    assert body["given_at"].startswith("2026-12-06T10:00:00")  # 11:00 Madrid
    assert body["suggested_next"].startswith("2027-06-06")  # six months on (facts 2, 24)
    async with console.sessions() as session:
        dose = await session.get(Dose, seeded.dose)
    assert dose is not None and dose.status is DoseStatus.GIVEN and dose.source == "operator"
    pending = await _pending(console, seeded.active)
    # the dose is given: its reminders are gone; only what follows a given dose is left
    assert pending and not any(row.kind == "reminder" and row.due_at >= NOW for row in pending)
    assert all(row.dose_id == seeded.dose for row in pending if row.kind == "check_in")
    assert await _actions(console) == ["patient.dose_given"]
    for given_at in ("2026-12-08T10:00:00", "2026-12-05T10:00:00", "2025-10-01T10:00:00"):
        refused = await console.client.post(url, json={"given_at": given_at}, headers=auth)
        assert refused.status_code == 422 and _locs(refused) == {("body", "given_at")}, given_at
    assert await _actions(console) == ["patient.dose_given"]


async def test_a_one_off_is_queued_now_survives_a_replan_and_is_refused_to_a_paused_patient(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    answer = await console.client.post(
        f"/api/patients/{seeded.active}/messages",
        json={"text": "  The day unit moves to floor 2.  "},
        headers=auth,
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending" and answer.json()["due_at"].startswith("2026-12-07T09:00:00")
    message_id = answer.json()["message_id"]
    # a replan at the same instant (the appointment moves) leaves the one-off alone
    moved = await console.client.put(
        f"/api/patients/{seeded.active}/appointment", json={"starts_at": "2026-12-11T10:00:00"}, headers=auth
    )
    assert moved.status_code == 200
    async with console.sessions() as session:
        row = await session.get(ScheduledMessage, message_id)
        log = list(
            await session.scalars(select(MessageLog).where(MessageLog.scheduled_message_id == message_id))
        )
    assert row is not None and row.kind == "one_off" and row.status is MessageStatus.PENDING
    assert [(entry.text, entry.delivery_status) for entry in log] == [
        ("The day unit moves to floor 2.", "queued")
    ]
    paused = await console.client.post(
        f"/api/patients/{seeded.paused}/messages", json={"text": "hi"}, headers=auth
    )
    assert paused.status_code == 409
    long = await console.client.post(
        f"/api/patients/{seeded.active}/messages", json={"text": "x" * 307}, headers=auth
    )
    empty = await console.client.post(
        f"/api/patients/{seeded.active}/messages", json={"text": ""}, headers=auth
    )
    assert long.status_code == 422 and _locs(long) == {("body", "text")}
    assert empty.status_code == 422 and _locs(empty) == {("body", "text")}
    assert await _actions(console) == ["patient.one_off", "patient.appointment"]


async def test_a_sandbox_patients_one_off_reaches_the_simulator_as_written(console: Console) -> None:
    sandbox = await add_sandbox(console.sessions)
    auth = await _bearer(console)
    answer = await console.client.post(
        f"/api/patients/{sandbox.id}/messages", json={"text": "Hola, ¿todo bien?"}, headers=auth
    )
    assert answer.status_code == 202
    async with console.sessions() as session:
        row = await session.get(ScheduledMessage, answer.json()["message_id"])
        log = list(await session.scalars(select(MessageLog).where(MessageLog.scheduled_message_id == row.id)))  # type: ignore[union-attr]
    assert row is not None and row.status is MessageStatus.SENT and row.channel is not None
    assert row.channel.value == "web"
    assert [(entry.text, entry.delivery_status, entry.channel.value) for entry in log] == [
        ("Hola, ¿todo bien?", None, "web")
    ]


@pytest.mark.parametrize("confirm", ["", "yes", "12345"])
async def test_erasing_needs_the_patients_number_typed(console: Console, confirm: str) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    answer = await console.client.post(
        f"/api/patients/{seeded.active}/erase", json={"confirm": confirm}, headers=auth
    )
    assert answer.status_code == 422 and _locs(answer) == {("body", "confirm")}
    assert await _count(console, Patient) == 3


async def test_erasing_removes_every_record_and_keeps_an_audit_row_naming_nobody(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    await console.client.post(f"/api/patients/{seeded.active}/pause", headers=auth)
    answer = await console.client.post(
        f"/api/patients/{seeded.active}/erase", json={"confirm": f"#{seeded.active}"}, headers=auth
    )
    assert answer.status_code == 204
    assert (await console.client.get(f"/api/patients/{seeded.active}", headers=auth)).status_code == 404
    async with console.sessions() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(ScheduledMessage)
            .where(ScheduledMessage.patient_id == seeded.active)
        )
        rows = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.action.like("patient.%")).order_by(AuditLog.id)
            )
        )
    assert left == 0
    assert [(row.action, row.patient_id) for row in rows] == [
        ("patient.pause", None),
        ("patient.erase", None),
    ]
    assert rows[-1].operator_id is not None and "Ana" not in str(rows[-1].detail)
    again = await console.client.post(
        f"/api/patients/{seeded.active}/erase", json={"confirm": str(seeded.active)}, headers=auth
    )
    assert again.status_code == 404


async def test_a_one_off_retried_with_the_same_idempotency_key_is_queued_once(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    url = f"/api/patients/{seeded.active}/messages"
    retry = auth | {"Idempotency-Key": "retry-7f3a9c01"}
    first = await console.client.post(url, json={"text": "Floor 2 today."}, headers=retry)
    again = await console.client.post(url, json={"text": "Floor 2 today."}, headers=retry)
    assert (first.status_code, again.status_code) == (202, 202), again.text
    assert first.json() == again.json()
    other = await console.client.post(url, json={"text": "Floor 2 today."}, headers=auth)  # no key: a new one
    assert other.status_code == 202 and other.json()["message_id"] != first.json()["message_id"]
    bad = await console.client.post(url, json={"text": "hi"}, headers=auth | {"Idempotency-Key": "a b"})
    assert bad.status_code == 422 and _locs(bad) == {("header", "Idempotency-Key")}
    async with console.sessions() as session:
        rows = list(await session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "one_off")))
        logged = await session.scalar(select(func.count()).select_from(MessageLog))
    assert len(rows) == 2 and logged == 2
    assert await _actions(console) == ["patient.one_off", "patient.one_off"]


async def test_a_wall_time_the_clocks_skip_is_refused_like_the_csv_import(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    async with console.sessions() as session:
        before = (await session.get_one(Dose, seeded.dose)).planned_at
    # Madrid springs forward on 28 March 2027: 02:00 becomes 03:00, so 02:30 never happens
    answer = await console.client.put(
        f"/api/patients/{seeded.active}/appointment",
        json={"starts_at": "2027-03-28T02:30:00", "confirm": True},
        headers=auth,
    )
    assert answer.status_code == 422 and _locs(answer) == {("body", "starts_at")}, answer.text
    assert "does not exist that day (the clocks go forward)" in answer.json()["detail"][0]["msg"]
    async with console.sessions() as session:
        assert (await session.get_one(Dose, seeded.dose)).planned_at == before
    assert await _actions(console) == []
