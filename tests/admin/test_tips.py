"""An operator sees and switches a patient's weekly tips: GET/PUT /api/patients/{id}/tips (viewers read,
operators change, every change audited, bad bodies a 422 naming the field) and a line on the patient page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

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


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def test_an_operator_turns_tips_on_and_off_and_each_change_is_audited(console: Console) -> None:
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
    on = await console.client.put(url, json={"on": True}, headers=auth)
    assert on.status_code == 200, on.text
    assert on.json()["weekly_tips"] is True and _instant(on.json()["next_tip_at"]) == _instant(FIRST_TIP)
    assert _instant((await console.client.get(url, headers=auth)).json()["next_tip_at"]) == _instant(
        FIRST_TIP
    )
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
        ("patient.tips_on", {"from": False, "to": True, "cancelled": 0}),
        ("patient.tips_off", {"from": True, "to": False, "cancelled": 1}),
    ]
    assert all(row.operator_id is not None for row in rows)


async def test_a_paused_patient_keeps_the_choice_but_gets_no_tip_row(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.OPERATOR)
    answer = await console.client.put(f"/api/patients/{seeded.paused}/tips", json={"on": True}, headers=auth)
    assert answer.json()["weekly_tips"] is True and answer.json()["next_tip_at"] is None
    assert await _tip_statuses(console, seeded.paused) == []


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


async def test_a_cookie_change_needs_the_csrf_header_and_the_patient_page_shows_the_state(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    await add_operator(console.sessions, "nurse@clinic.example")
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303
    url = f"/api/patients/{seeded.active}/tips"
    assert (await console.client.put(url, json={"on": True})).status_code == 403
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert '<dt>Weekly tips</dt><dd id="weekly-tips">off</dd>' in page.text
    token = await csrf_of(console.client)
    assert (
        await console.client.put(url, json={"on": True}, headers={"X-CSRF-Token": token})
    ).status_code == 200
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert '<dd id="weekly-tips">on</dd>' in page.text
