"""An operator sets or removes a patient's SMS number (API and patient page): the new number is texted by
the real dispatcher through the real twilio client to the fake Twilio, and its YES through the signed
webhook turns SMS on; the old number gets nothing more; refusals are 4xx and change nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from admin.sms_number import ADDED, CHANGED, REMOVED
from bot.dialog import texts
from storage.models import (
    AuditLog,
    Channel,
    ChannelAddress,
    MessageStatus,
    OperatorRole,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from storage.outbox import SMS_CONFIRM
from tests.admin.console import NOW, Console, add_operator, add_sandbox, add_token, seed, signed_in
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.jobs.builders import add_patient
from tests.ocrebot.twilio_app import PUBLIC, SmsPhone

OLD, NEW, OTHER = "+34611000111", "+34611000222", "+34611000333"
REQUEST = texts.say("en", "sms_confirm_request")


async def _auth(console: Console, role: OperatorRole = OperatorRole.OPERATOR) -> dict[str, str]:
    email = f"{role.value}@clinic.example"
    await add_operator(console.sessions, email, role)
    return {"Authorization": f"Bearer {await add_token(console.sessions, email)}"}


async def _patient(console: Console, phone: str | None = None, chat_id: int = 5151, **fields: object) -> int:
    """An active patient who consented, on Telegram, with SMS consent at `phone` if given."""
    values: dict[str, object] = {"consented_at": NOW, "display_name": "Dee"} | fields
    async with console.sessions() as session, session.begin():
        return (await add_patient(session, chat_id=chat_id, phone=phone, **values)).id


async def _state(console: Console, patient_id: int) -> tuple[list[str], bool]:
    """The patient's SMS numbers and their SMS consent."""
    async with console.sessions() as session:
        numbers = await session.scalars(
            select(ChannelAddress.address).where(
                ChannelAddress.patient_id == patient_id, ChannelAddress.channel == Channel.SMS
            )
        )
        patient = await session.get_one(Patient, patient_id)
        return list(numbers), patient.sms_consent


async def _audits(console: Console, patient_id: int) -> list[tuple[str, dict]]:
    async with console.sessions() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.patient_id == patient_id, AuditLog.action.like("patient.sms_number%"))
            .order_by(AuditLog.id)
        )
        return [(row.action, dict(row.detail or {})) for row in rows]


async def _dispatch(console: Console) -> None:
    report = await console.app.state.services.dispatcher.run_once(console.clock.now())
    assert report.failed == 0


async def _yes(console: Console, twilio: FakeTwilio, number: str) -> list[str]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=console.app), base_url=PUBLIC) as http:
        return await SmsPhone(http, twilio, number=number).text("YES")


async def test_a_number_set_by_an_operator_is_texted_and_its_yes_turns_sms_on(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    patient_id = await _patient(live)
    auth = await _auth(live)
    answer = await live.client.put(
        f"/api/patients/{patient_id}/sms-number", json={"phone": "+34 611 000 222"}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"patient_id": patient_id, "phone": NEW, "state": "awaiting_yes", "changed": True}
    assert await _state(live, patient_id) == ([NEW], False)  # no consent until the phone says YES
    await _dispatch(live)
    assert [(m["to"], m["body"]) for m in twilio.sent] == [(NEW, REQUEST)]
    assert await _audits(live, patient_id) == [
        ("patient.sms_number_set", {"ends_with": "22", "replaced": False})
    ]
    async with live.sessions() as session:
        causes = [
            row.detail.get("cause")
            for row in await session.scalars(select(AuditLog).where(AuditLog.patient_id == patient_id))
        ]
    assert ADDED in causes  # the timeline says an operator gave it

    await _yes(live, twilio, NEW)
    assert await _state(live, patient_id) == ([NEW], True)
    seen = await live.client.get(f"/api/patients/{patient_id}", headers=auth)
    assert seen.json()["sms_consent"] is True

    again = await live.client.put(f"/api/patients/{patient_id}/sms-number", json={"phone": NEW}, headers=auth)
    assert again.status_code == 200 and again.json()["changed"] is False and again.json()["state"] == "on"
    await _dispatch(live)
    assert [m["to"] for m in twilio.sent if m["body"] == REQUEST] == [NEW]  # no second request
    assert await _state(live, patient_id) == ([NEW], True)
    assert len(await _audits(live, patient_id)) == 1


async def test_a_changed_number_replaces_the_old_one_which_gets_nothing_more(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    patient_id = await _patient(live)
    auth = await _auth(live)
    url = f"/api/patients/{patient_id}/sms-number"
    assert (await live.client.put(url, json={"phone": OLD}, headers=auth)).status_code == 200
    changed = await live.client.put(url, json={"phone": NEW}, headers=auth)  # before OLD's request went
    assert changed.status_code == 200 and changed.json()["phone"] == NEW
    assert await _state(live, patient_id) == ([NEW], False)
    await _dispatch(live)
    assert [m["to"] for m in twilio.sent] == [NEW]  # OLD's pending request was cancelled
    async with live.sessions() as session:
        requests = list(
            await session.scalars(
                select(ScheduledMessage)
                .where(ScheduledMessage.patient_id == patient_id, ScheduledMessage.kind == SMS_CONFIRM)
                .order_by(ScheduledMessage.id)
            )
        )
        causes = [
            row.detail.get("cause")
            for row in await session.scalars(select(AuditLog).where(AuditLog.patient_id == patient_id))
        ]
    assert [row.status for row in requests] == [MessageStatus.CANCELLED, MessageStatus.SENT]
    assert CHANGED in causes
    assert [detail for _, detail in await _audits(live, patient_id)] == [
        {"ends_with": "11", "replaced": False},
        {"ends_with": "22", "replaced": True},
    ]
    assert await _yes(live, twilio, OLD) is not None
    assert await _state(live, patient_id) == ([NEW], False)  # the old phone's YES turns nothing on
    await _yes(live, twilio, NEW)
    assert await _state(live, patient_id) == ([NEW], True)


async def test_a_consented_number_changed_loses_consent_until_the_new_yes(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    patient_id = await _patient(live, phone=OLD)
    auth = await _auth(live)
    answer = await live.client.put(
        f"/api/patients/{patient_id}/sms-number", json={"phone": NEW}, headers=auth
    )
    assert answer.json()["state"] == "awaiting_yes"
    assert await _state(live, patient_id) == ([NEW], False)
    one_off = await live.client.post(
        f"/api/patients/{patient_id}/messages", json={"text": "See you Thursday"}, headers=auth
    )
    assert one_off.status_code == 202
    await _dispatch(live)
    assert [m["to"] for m in twilio.sent] == [NEW]  # the one-off went by Telegram, nothing to OLD


async def test_an_operator_removes_the_number(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    patient_id = await _patient(live, phone=OLD)
    auth = await _auth(live)
    url = f"/api/patients/{patient_id}/sms-number"
    removed = await live.client.delete(url, headers=auth)
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"patient_id": patient_id, "phone": None, "state": "none", "changed": True}
    assert await _state(live, patient_id) == ([], False)
    assert await _audits(live, patient_id) == [("patient.sms_number_removed", {"ends_with": "11"})]
    again = await live.client.delete(url, headers=auth)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert len(await _audits(live, patient_id)) == 1
    async with live.sessions() as session:
        causes = [
            row.detail.get("cause")
            for row in await session.scalars(select(AuditLog).where(AuditLog.patient_id == patient_id))
        ]
    assert REMOVED in causes
    await _dispatch(live)
    assert twilio.sent == []


async def test_refusals_change_nothing(live: Console, channels: tuple[FakeTelegram, FakeTwilio]) -> None:
    _, twilio = channels
    seeded = await seed(live.sessions)  # Bea: paused, SMS +34600111222; Carl: stopped
    patient_id = await _patient(live, phone=OLD)
    async with live.sessions() as session, session.begin():
        signing_up = (await add_patient(session, status=PatientStatus.SIGNING_UP)).id
    sandbox = (await add_sandbox(live.sessions)).id
    auth = await _auth(live)

    def url(pid: int) -> str:
        return f"/api/patients/{pid}/sms-number"

    bad = await live.client.put(url(patient_id), json={"phone": "611 000 222"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "phone"]
    invalid = await live.client.put(url(patient_id), json={"phone": "+3461"}, headers=auth)
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["body", "phone"]
    assert (await live.client.put(url(99999), json={"phone": NEW}, headers=auth)).status_code == 404
    assert (await live.client.delete(url(99999), headers=auth)).status_code == 404
    taken = await live.client.put(url(patient_id), json={"phone": "+34600111222"}, headers=auth)
    assert taken.status_code == 409 and "another patient" in taken.json()["detail"]
    assert "Bea" not in taken.text and str(seeded.paused) not in taken.text
    for pid, word in (
        (sandbox, "sandbox"), (seeded.stopped, "stopped"), (seeded.paused, "paused"),
        (signing_up, "signing up"),
    ):  # fmt: skip
        refused = await live.client.put(url(pid), json={"phone": NEW}, headers=auth)
        assert refused.status_code == 409 and word in refused.json()["detail"], refused.text
    for pid in (sandbox, seeded.stopped):
        assert (await live.client.delete(url(pid), headers=auth)).status_code == 409
    assert await _state(live, patient_id) == ([OLD], True)
    assert await _audits(live, patient_id) == []
    await _dispatch(live)
    assert twilio.sent == []


async def test_without_sms_a_number_cannot_be_set_but_can_be_removed(console: Console) -> None:
    async with console.sessions() as session, session.begin():
        patient_id = (await add_patient(session, chat_id=5151, phone=OLD, consented_at=NOW)).id
    auth = await _auth(console)
    url = f"/api/patients/{patient_id}/sms-number"
    refused = await console.client.put(url, json={"phone": NEW}, headers=auth)
    assert refused.status_code == 409 and "SMS is not configured" in refused.json()["detail"]
    assert (await console.client.delete(url, headers=auth)).status_code == 200
    assert await _state(console, patient_id) == ([], False)


async def test_viewers_are_refused_and_see_no_form(live: Console) -> None:
    patient_id = await _patient(live, phone=OLD)
    auth = await _auth(live, OperatorRole.VIEWER)
    url = f"/api/patients/{patient_id}/sms-number"
    assert (await live.client.put(url, json={"phone": NEW}, headers=auth)).status_code == 403
    assert (await live.client.delete(url, headers=auth)).status_code == 403
    await add_operator(live.sessions, "viewer2@clinic.example", OperatorRole.VIEWER)
    async with signed_in(live, "viewer2@clinic.example") as (client, token):
        page = await client.get(f"/admin/patients/{patient_id}")
        assert page.status_code == 200 and 'id="sms-state"' in page.text and OLD in page.text
        assert "Change number" not in page.text and "Remove number" not in page.text
        base = f"/admin/patients/{patient_id}/sms-number"
        posted = await client.post(base, data={"csrf_token": token, "phone": NEW})
        assert posted.status_code == 403
        assert (await client.post(f"{base}/remove", data={"csrf_token": token})).status_code == 403
    assert await _state(live, patient_id) == ([OLD], True)


async def test_the_patient_page_sets_and_removes_the_number(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    patient_id = await _patient(live)
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    page_url = f"/admin/patients/{patient_id}"
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        page = await client.get(page_url)
        assert "Add number" in page.text and "Remove number" not in page.text
        bad = await client.post(f"{page_url}/sms-number", data={"csrf_token": token, "phone": "12345"})
        assert bad.status_code == 422 and "The number must be an international number" in bad.text
        posted = await client.post(f"{page_url}/sms-number", data={"csrf_token": token, "phone": NEW})
        assert posted.status_code == 303
        assert posted.headers["location"] == f"{page_url}?notice=sms_number_set#sms-number"
        page = await client.get(posted.headers["location"])
        assert "it was texted to reply YES" in page.text and NEW in page.text
        assert ">awaiting YES</span>" in page.text and "Change number" in page.text
        await _dispatch(live)
        assert [m["to"] for m in twilio.sent] == [NEW]
        await _yes(live, twilio, NEW)
        page = await client.get(page_url)
        assert 'id="sms-state">on</span>' in page.text
        same = await client.post(f"{page_url}/sms-number", data={"csrf_token": token, "phone": NEW})
        assert same.headers["location"] == f"{page_url}?notice=sms_number_same#sms-number"
        await _patient(live, phone=OTHER, chat_id=6161, display_name="Zed")
        taken = await client.post(f"{page_url}/sms-number", data={"csrf_token": token, "phone": OTHER})
        assert taken.status_code == 409 and "another patient" in taken.text
        assert "Zed" not in taken.text
        removed = await client.post(f"{page_url}/sms-number/remove", data={"csrf_token": token})
        assert removed.headers["location"] == f"{page_url}?notice=sms_number_removed#sms-number"
        page = await client.get(removed.headers["location"])
        assert "SMS number removed" in page.text and 'id="sms-state">none</span>' in page.text
    assert await _state(live, patient_id) == ([], False)


async def test_an_sms_only_patients_new_number_takes_over_after_its_yes(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    async with live.sessions() as session, session.begin():
        patient_id = (await add_patient(session, phone=OLD, consented_at=NOW)).id  # no Telegram
    auth = await _auth(live)
    answer = await live.client.put(
        f"/api/patients/{patient_id}/sms-number", json={"phone": NEW}, headers=auth
    )
    assert answer.status_code == 200 and answer.json()["state"] == "awaiting_yes"
    await _dispatch(live)
    await _yes(live, twilio, NEW)
    assert await _state(live, patient_id) == ([NEW], True)
    text = "The day unit is on floor 2 now."
    sent = await live.client.post(f"/api/patients/{patient_id}/messages", json={"text": text}, headers=auth)
    assert sent.status_code == 202
    await _dispatch(live)
    assert [(m["to"], m["body"]) for m in twilio.sent] == [(NEW, REQUEST), (NEW, text)]  # OLD: nothing
