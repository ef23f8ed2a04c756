"""An operator sets a patient's quiet hours (JSON API and patient page): pending messages move, bad hours
are a 422 naming the field and change nothing; the page lists channel switches; the dashboard, expiries."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage import reachability
from storage.models import (
    AddressState,
    AuditLog,
    Channel,
    MessageStatus,
    OperatorRole,
    Patient,
    ScheduledMessage,
)
from tests.admin.console import NOW, Console, add_operator, add_token, csrf_of, seed, sign_in

MADRID = ZoneInfo("Europe/Madrid")


async def _bearer(console: Console, role: OperatorRole = OperatorRole.OPERATOR) -> dict[str, str]:
    await add_operator(console.sessions, f"{role.value}@clinic.example", role)
    return {"Authorization": f"Bearer {await add_token(console.sessions, f'{role.value}@clinic.example')}"}


async def _day_before(console: Console, patient_id: int) -> time:
    async with console.sessions() as session:
        due = await session.scalar(
            select(ScheduledMessage.due_at).where(
                ScheduledMessage.patient_id == patient_id,
                ScheduledMessage.touchpoint_id == "reminder_day_before",
            )
        )
    assert due is not None
    return due.astimezone(MADRID).time()


async def _quiet(console: Console, patient_id: int) -> tuple[time | None, time | None]:
    async with console.sessions() as session:
        patient = await session.get_one(Patient, patient_id)
        return patient.quiet_hours_start, patient.quiet_hours_end


async def test_an_operator_sets_quiet_hours_and_the_pending_reminders_move(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    assert await _day_before(console, seeded.active) == time(18, 0)
    shown = await console.client.get(f"/api/patients/{seeded.active}/quiet-hours", headers=auth)
    assert shown.json() == {
        "patient_id": seeded.active,
        "timezone": "Europe/Madrid",
        "default": True,
        "start": "21:00",
        "end": "08:00",
        "moved_messages": 0,
    }

    answer = await console.client.put(
        f"/api/patients/{seeded.active}/quiet-hours", json={"start": "17:00", "end": "09:00"}, headers=auth
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["default"] is False and answer.json()["moved_messages"] >= 1
    assert await _quiet(console, seeded.active) == (time(17, 0), time(9, 0))
    assert await _day_before(console, seeded.active) == time(16, 45)
    async with console.sessions() as session:
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "patient.quiet_hours"))
    assert (
        audit is not None and audit.detail["quiet_hours"] == "17:00-09:00" and audit.operator_id is not None
    )

    back = await console.client.put(
        f"/api/patients/{seeded.active}/quiet-hours", json={"start": None, "end": None}, headers=auth
    )
    assert back.json()["default"] is True
    assert await _quiet(console, seeded.active) == (None, None)
    assert await _day_before(console, seeded.active) == time(18, 0)


async def test_bad_quiet_hours_are_a_422_naming_the_field_and_change_nothing(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    url = f"/api/patients/{seeded.active}/quiet-hours"
    cases = [
        ({"start": "25:00", "end": "07:00"}, ("body", "start")),
        ({"start": "22:00", "end": "7"}, ("body", "end")),
        ({"start": "22:00"}, ("body",)),  # both or neither
        ({"start": "06:00", "end": "01:00"}, ("body",)),  # 19 hours
    ]
    for body, loc in cases:
        answer = await console.client.put(url, json=body, headers=auth)
        assert answer.status_code == 422, (body, answer.text)
        assert tuple(answer.json()["detail"][0]["loc"]) == loc, (body, answer.json())
    assert await _quiet(console, seeded.active) == (None, None)
    assert await _day_before(console, seeded.active) == time(18, 0)
    missing = await console.client.put("/api/patients/99999/quiet-hours", json={}, headers=auth)
    assert missing.status_code == 404


async def test_a_viewer_may_read_but_not_set_quiet_hours(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.VIEWER)
    url = f"/api/patients/{seeded.active}/quiet-hours"
    assert (await console.client.get(url, headers=auth)).status_code == 200
    refused = await console.client.put(url, json={"start": "22:00", "end": "07:00"}, headers=auth)
    assert refused.status_code == 403
    assert await _quiet(console, seeded.active) == (None, None)


async def test_the_patient_page_form_sets_quiet_hours_and_the_history_lists_channel_switches(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    async with console.sessions() as session, session.begin():
        cause = "telegram: the patient blocked the bot"
        await reachability.set_state_of(session, Channel.TELEGRAM, "4242", AddressState.BLOCKED, NOW, cause)
    await add_operator(console.sessions, "nurse@clinic.example")
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303
    token = await csrf_of(console.client)

    saved = await console.client.post(
        f"/admin/patients/{seeded.active}/quiet-hours",
        data={"csrf_token": token, "start": "22:30", "end": "07:30"},
    )
    refused = await console.client.post(
        f"/admin/patients/{seeded.active}/quiet-hours",
        data={"csrf_token": token, "start": "22:30", "end": ""},
    )

    assert saved.status_code == 303
    page = (await console.client.get(saved.headers["location"])).text
    assert "Quiet hours saved" in page and "22:30-07:30" in page
    assert "channel blocked" in page and "telegram: the patient blocked the bot; now via nothing" in page
    assert refused.status_code == 422 and "give both start and end" in refused.text
    assert await _quiet(console, seeded.active) == (time(22, 30), time(7, 30))


async def test_the_dashboard_counts_messages_that_expired_unsent(console: Console) -> None:
    seeded = await seed(console.sessions)
    async with console.sessions() as session, session.begin():
        row = await session.scalar(
            select(ScheduledMessage).where(
                ScheduledMessage.patient_id == seeded.active,
                ScheduledMessage.touchpoint_id == "reminder_7_days",
            )
        )
        assert row is not None
        row.status, row.last_error, row.updated_at = MessageStatus.EXPIRED, "catch-up window ended", NOW
    await add_operator(console.sessions, "nurse@clinic.example")
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303

    page = (await console.client.get("/admin/")).text

    assert 'Expired unsent (7 days) <span class="count">1</span>' in page
    assert "reminder 7 days: 1" in page


async def test_a_flag_without_an_answer_says_why_on_the_dashboard_and_the_patient_page(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    async with console.sessions() as session, session.begin():
        cause = "telegram: the patient blocked the bot"
        _, flag = await reachability.set_state_of(
            session, Channel.TELEGRAM, "4242", AddressState.BLOCKED, NOW, cause
        )
    assert flag is not None
    await add_operator(console.sessions, "nurse@clinic.example")
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303

    board = (await console.client.get("/admin/")).text
    page = (await console.client.get(f"/admin/patients/{seeded.active}")).text

    assert '<span class="tag reason">unreachable</span>' in board
    assert '<span class="tag reason">unreachable</span>' in page
