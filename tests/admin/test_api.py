"""The JSON API: search and read patients, change their status (the outbox follows), acknowledge alerts."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditLog, MessageStatus, OperatorRole, ScheduledMessage
from tests.admin.console import Console, add_operator, add_token, seed


async def _bearer(console: Console, role: OperatorRole = OperatorRole.OPERATOR) -> dict[str, str]:
    await add_operator(console.sessions, f"{role.value}@clinic.example", role)
    return {"Authorization": f"Bearer {await add_token(console.sessions, f'{role.value}@clinic.example')}"}


async def _statuses(console: Console, patient_id: int) -> list[MessageStatus]:
    async with console.sessions() as session:
        query = select(ScheduledMessage.status).where(ScheduledMessage.patient_id == patient_id)
        return list(await session.scalars(query))


async def test_patients_are_searched_by_name_phone_and_chat_filtered_and_paged(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.VIEWER)

    async def ids(**params: object) -> list[int]:
        answer = await console.client.get("/api/patients", params=params, headers=auth)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert await ids(q="lopez") == [seeded.active]
    assert await ids(q="600111") == [seeded.paused]
    assert await ids(q="4242") == [seeded.active]
    assert await ids(status="stopped") == [seeded.stopped]
    assert await ids(formulation="sc") == [seeded.paused]
    page = (await console.client.get("/api/patients", params={"limit": 2, "offset": 2}, headers=auth)).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert page["items"][0]["channels"][0]["channel"] in ("telegram", "sms")


async def test_bad_input_is_a_422_naming_the_field(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    answer = await console.client.get("/api/patients", params={"status": "asleep", "limit": 0}, headers=auth)
    assert answer.status_code == 422
    assert {tuple(error["loc"]) for error in answer.json()["detail"]} == {
        ("query", "status"),
        ("query", "limit"),
    }
    ack = await console.client.post(f"/api/alerts/{seeded.check_in}/ack", json={"note": ""}, headers=auth)
    assert ack.status_code == 422 and ack.json()["detail"][0]["loc"] == ["body", "note"]


async def test_a_patient_record_has_channels_doses_timeline_and_check_ins(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.VIEWER)
    record = (await console.client.get(f"/api/patients/{seeded.active}", headers=auth)).json()
    assert record["display_name"] == "Ana Lopez"
    assert record["channels"] == [
        {
            "channel": "telegram",
            "address": "4242",
            "state": "active",
            "state_changed_at": record["channels"][0]["state_changed_at"],
        }
    ]
    assert [dose["status"] for dose in record["doses"]] == ["given", "planned"]
    assert "pending" in {item["status"] for item in record["timeline"]}
    assert "reminder" in record["timeline"][0]["kind"]
    assert record["check_ins"][0]["flagged"] is True
    assert (await console.client.get("/api/patients/999", headers=auth)).status_code == 404


async def test_pause_cancels_pending_messages_and_resume_plans_them_again_with_audit(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    paused = await console.client.post(f"/api/patients/{seeded.active}/pause", headers=auth)
    assert paused.status_code == 200
    assert paused.json()["after"] == "paused" and paused.json()["cancelled_messages"] > 0
    assert MessageStatus.PENDING not in await _statuses(console, seeded.active)
    assert MessageStatus.CANCELLED in await _statuses(console, seeded.active)
    again = await console.client.post(f"/api/patients/{seeded.active}/pause", headers=auth)
    assert again.status_code == 409
    resumed = await console.client.post(f"/api/patients/{seeded.active}/resume", headers=auth)
    assert resumed.json()["after"] == "active"
    assert MessageStatus.PENDING in await _statuses(console, seeded.active)
    stopped = await console.client.post(f"/api/patients/{seeded.active}/unsubscribe", headers=auth)
    assert stopped.json()["after"] == "stopped"
    assert MessageStatus.PENDING not in await _statuses(console, seeded.active)
    async with console.sessions() as session:
        rows = list(await session.scalars(select(AuditLog).where(AuditLog.patient_id == seeded.active)))
    assert [row.action for row in rows] == ["patient.pause", "patient.resume", "patient.unsubscribe"]
    assert all(row.operator_id is not None for row in rows)
    assert rows[0].detail["from"] == "active" and "Ana" not in str([row.detail for row in rows])


async def test_alerts_list_flagged_check_ins_and_an_acknowledgement_takes_one_off(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console)
    alerts = (await console.client.get("/api/alerts", headers=auth)).json()
    assert [(a["id"], a["level"], a["age_s"]) for a in alerts] == [
        (seeded.check_in, "clinic_today", 3 * 3600)
    ]
    url = f"/api/alerts/{seeded.check_in}/ack"
    answer = await console.client.post(url, json={"note": "called, booked for today"}, headers=auth)
    assert answer.status_code == 200 and answer.json()["ack_note"] == "called, booked for today"
    assert (await console.client.get("/api/alerts", headers=auth)).json() == []
    assert (await console.client.post(url, json={"note": "again"}, headers=auth)).status_code == 409
    assert (
        await console.client.post("/api/alerts/999/ack", json={"note": "x"}, headers=auth)
    ).status_code == 404
