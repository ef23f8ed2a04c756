"""An operator sees a patient's weekly tips and may turn them off: GET/PUT /api/patients/{id}/tips (viewers
read, operators turn off, every change audited, bad bodies a 422 naming the field, an opt-in a 409: it is the
patient's own choice) and a line on the patient page with an off button."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage import tips
from storage.models import AuditLog, MessageStatus, OperatorRole, Patient, ScheduledMessage
from tests.admin.console import Console, add_operator, add_token, csrf_of, seed, sign_in

FIRST_TIP = "2026-12-08T10:00:00Z"  # Tuesday 11:00 in Madrid: the plan's slot after the console's Monday


async def _bearer(console: Console, role: OperatorRole) -> dict[str, str]:
    await add_operator(console.sessions, f"{role.value}@clinic.example", role)
    return {"Authorization": f"Bearer {await add_token(console.sessions, f'{role.value}@clinic.example')}"}


async def _tip_statuses(console: Console, patient_id: int) -> list[MessageStatus]:
    async with console.sessions() as session:
        query = select(ScheduledMessage.status).where(
            ScheduledMessage.patient_id == patient_id, ScheduledMessage.kind == "tip"
        )
        return list(await session.scalars(query))


async def _patient_opts_in(console: Console, patient_id: int) -> None:
    """The patient's own /tips: the same storage switch the bot uses."""
    plan = console.app.state.services.plan
    async with console.sessions() as session, session.begin():
        patient = await session.get_one(Patient, patient_id)
        await tips.set_weekly_tips(
            session, patient, True, plan.quiet_hours, console.clock.now(), slot=plan.tip_slot
        )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def test_an_operator_turns_the_patients_tips_off_and_the_change_is_audited(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.OPERATOR)
    url = f"/api/patients/{seeded.active}/tips"
    before = await console.client.get(url, headers=auth)
    assert before.json() == {
        "patient_id": seeded.active,
        "weekly_tips": False,
        "next_tip_at": None,
        "cancelled_messages": 0,
    }
    await _patient_opts_in(console, seeded.active)
    on = await console.client.get(url, headers=auth)
    assert on.json()["weekly_tips"] is True and _instant(on.json()["next_tip_at"]) == _instant(FIRST_TIP)
    assert await _tip_statuses(console, seeded.active) == [MessageStatus.PENDING]

    off = await console.client.put(url, json={"on": False}, headers=auth)
    assert off.json() == {
        "patient_id": seeded.active,
        "weekly_tips": False,
        "next_tip_at": None,
        "cancelled_messages": 1,
    }
    assert await _tip_statuses(console, seeded.active) == [MessageStatus.CANCELLED]
    async with console.sessions() as session:
        rows = list(await session.scalars(select(AuditLog).where(AuditLog.patient_id == seeded.active)))
    assert [(row.action, row.detail) for row in rows] == [
        ("patient.tips_off", {"from": True, "to": False, "cancelled": 1}),
    ]
    assert all(row.operator_id is not None for row in rows)


async def test_an_operator_cannot_opt_a_patient_in_to_tips(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.OPERATOR)
    for patient_id in (seeded.active, seeded.paused):
        answer = await console.client.put(f"/api/patients/{patient_id}/tips", json={"on": True}, headers=auth)
        assert answer.status_code == 409 and "patient's own choice" in answer.json()["detail"], answer.text
        assert await _tip_statuses(console, patient_id) == []
    async with console.sessions() as session:
        opted = list(await session.scalars(select(Patient.weekly_tips).where(Patient.weekly_tips.is_(True))))
        audits = list(await session.scalars(select(AuditLog.action)))
    assert opted == [] and not [action for action in audits if "tips" in action]


async def test_viewers_read_but_cannot_switch_and_bad_input_changes_nothing(console: Console) -> None:
    seeded = await seed(console.sessions)
    viewer = await _bearer(console, OperatorRole.VIEWER)
    operator = await _bearer(console, OperatorRole.OPERATOR)
    url = f"/api/patients/{seeded.active}/tips"
    assert (await console.client.get(url, headers=viewer)).status_code == 200
    assert (await console.client.put(url, json={"on": True}, headers=viewer)).status_code == 403
    assert (await console.client.get(url)).status_code == 401
    for body, field in (({"on": "maybe"}, "on"), ({}, "on"), ({"on": True, "every": 2}, "every")):
        answer = await console.client.put(url, json=body, headers=operator)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", field], body
    missing = await console.client.put("/api/patients/999/tips", json={"on": True}, headers=operator)
    assert missing.status_code == 404
    assert (await console.client.get("/api/patients/999/tips", headers=viewer)).status_code == 404
    async with console.sessions() as session:
        patient = await session.get_one(Patient, seeded.active)
        audits = list(await session.scalars(select(AuditLog.action)))
    assert patient.weekly_tips is False and await _tip_statuses(console, seeded.active) == []
    assert not [action for action in audits if "tips" in action]


async def test_a_cookie_change_needs_the_csrf_header_and_the_patient_page_has_only_an_off_button(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    await add_operator(console.sessions, "nurse@clinic.example")
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303
    url = f"/api/patients/{seeded.active}/tips"
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert (
        '<dt>Weekly tips</dt><dd id="weekly-tips">off</dd>' in page.text and 'id="tips-off"' not in page.text
    )
    await _patient_opts_in(console, seeded.active)
    assert (await console.client.put(url, json={"on": False})).status_code == 403
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert '<dd id="weekly-tips">on</dd>' in page.text and 'id="tips-off"' in page.text
    assert "tips-on" not in page.text
    token = await csrf_of(console.client)
    done = await console.client.post(f"/admin/patients/{seeded.active}/tips-off", data={"csrf_token": token})
    assert done.status_code == 303 and "notice=tips_off" in done.headers["location"]
    page = await console.client.get(done.headers["location"])
    assert '<dd id="weekly-tips">off</dd>' in page.text and "Weekly tips turned off." in page.text
    assert await _tip_statuses(console, seeded.active) == [MessageStatus.CANCELLED]
    assert (
        await console.client.put(url, json={"on": True}, headers={"X-CSRF-Token": token})
    ).status_code == 409
