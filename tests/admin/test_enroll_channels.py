"""Enrolling with Telegram and SMS on: the deep link names the bot from getMe, the SMS goes by the real
twilio client to the fake Twilio, and the texted code signs the patient up over SMS."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from admin.enroll import CODE_MASK, MAX_SMS_SEGMENTS, BotName, invite_sms, qr_svg
from bot.sms_text import fold_to_gsm7
from care.sms_segments import segments
from storage.invites import new_code
from storage.models import (
    AddressState,
    AuditLog,
    Channel,
    ChannelAddress,
    Invite,
    MessageLog,
    MessageStatus,
    OperatorRole,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from tests.admin.console import NOW, Console, add_operator, add_token, seed, signed_in
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.ocrebot.twilio_app import PUBLIC, SmsPhone


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("link", [None, f"https://t.me/{BOT_USERNAME}?start=ABCDEFGH"])
def test_the_invite_sms_fits_two_segments_and_carries_the_code(language: str, link: str | None) -> None:
    code = new_code()
    text = invite_sms(language, code, link)
    assert segments(fold_to_gsm7(text)) <= MAX_SMS_SEGMENTS and code in text and "STOP" in text
    assert (link in text) if link else "t.me" not in text
    assert "Ocrevus" not in text and "MS" not in text.split()  # a mistyped number learns nothing


def test_the_qr_code_is_an_inline_svg_of_the_link() -> None:
    svg = qr_svg("https://t.me/bot?start=ABCDEFGH")
    assert svg.startswith("<svg") and "<?xml" not in svg and 'class="qr"' in svg


async def test_an_invite_by_sms_links_to_the_bot_and_its_code_signs_the_patient_up(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(live.sessions, 'nurse@clinic.example')}"}
    answer = await live.client.post(
        "/api/patients",
        json={"display_name": "Gil Soto", "formulation": "iv", "phone": "+34 611 222 333"},
        headers=auth,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    code = body["code"]
    assert body["telegram_link"] == f"https://t.me/{BOT_USERNAME}?start={code}"
    assert body["sms"] == "sent" and body["sms_error"] is None
    assert [(m["to"], m["body"]) for m in twilio.sent] == [
        ("+34611222333", invite_sms("en", code, body["telegram_link"]))
    ]
    async with live.sessions() as session:
        logged = list(
            await session.scalars(select(MessageLog).where(MessageLog.patient_id == body["patient_id"]))
        )
    assert [(entry.channel, entry.text) for entry in logged] == [
        (Channel.SMS, invite_sms("en", CODE_MASK, None))
    ]
    await add_operator(live.sessions, "viewer@clinic.example", OperatorRole.VIEWER)
    seen = await live.client.get(
        f"/api/patients/{body['patient_id']}",
        headers={"Authorization": f"Bearer {await add_token(live.sessions, 'viewer@clinic.example')}"},
    )
    assert seen.status_code == 200 and "JOIN" in seen.text
    assert code not in seen.text and "t.me" not in seen.text  # a viewer never reads the code

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=live.app), base_url=PUBLIC) as http:
        phone = SmsPhone(http, twilio, number="+34611222333")
        await phone.text(f"JOIN {code}")
    async with live.sessions() as session:
        address = await session.scalar(select(ChannelAddress).where(ChannelAddress.address == "+34611222333"))
        invite = await session.scalar(select(Invite).where(Invite.code == code))
        patient = await session.get(Patient, body["patient_id"])
    assert address is not None and address.patient_id == body["patient_id"]  # the clinic's patient
    assert invite is not None and invite.used_at == NOW
    assert (
        patient is not None
        and patient.status is PatientStatus.SIGNING_UP
        and patient.display_name == "Gil Soto"
    )


async def test_a_number_that_texted_stop_gets_no_invite(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(live.sessions, 'nurse@clinic.example')}"}
    async with live.sessions() as session, session.begin():
        other = Patient(
            language="en", timezone="UTC", status=PatientStatus.STOPPED, created_at=NOW, updated_at=NOW
        )
        session.add(other)
        await session.flush()
        session.add(
            ChannelAddress(
                patient_id=other.id,
                channel=Channel.SMS,
                address="+34611222444",
                state=AddressState.OPTED_OUT,
                state_changed_at=NOW,
            )
        )
    answer = await live.client.post(
        "/api/patients", json={"display_name": "Hal", "phone": "+34611222444"}, headers=auth
    )
    assert answer.status_code == 201 and answer.json()["sms"] == "opted_out"
    assert twilio.sent == []


async def test_the_enrol_form_texts_the_invite_and_the_page_shows_the_link_and_its_qr_code(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        form = await client.get("/admin/enroll")
        assert 'name="phone"' in form.text and "SMS is not configured" not in form.text
        bad = await client.post(
            "/admin/enroll", data={"csrf_token": token, "display_name": "Ivo", "phone": "12345"}
        )
        assert bad.status_code == 422 and "international number" in bad.text and twilio.sent == []
        done = await client.post(
            "/admin/enroll",
            data={
                "csrf_token": token,
                "display_name": "Ivo Paz",
                "language": "es",
                "phone": "+34 611 222 555",
            },
        )
        assert done.status_code == 303 and "notice=invite_sms_sent" in done.headers["location"]
        page = await client.get(done.headers["location"].split("#")[0])
        async with live.sessions() as session:
            invite = await session.scalar(select(Invite))
        assert invite is not None
        link = f"https://t.me/{BOT_USERNAME}?start={invite.code}"
        assert "Invite sent by SMS." in page.text and f'href="{link}"' in page.text
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text and 'class="qr"' in page.text
        assert [m["body"] for m in twilio.sent] == [fold_to_gsm7(invite_sms("es", invite.code, link))]
        assert "Tu clinica te invita" in twilio.sent[0]["body"] and "responde ALTA" in twilio.sent[0]["body"]
        assert "ALTA " + invite.code in twilio.sent[0]["body"]


async def test_a_one_off_goes_to_telegram_as_written_through_the_dispatcher(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    telegram, _ = channels
    seeded = await seed(live.sessions)  # Ana: Telegram chat 4242; her 7-day reminder is overdue too
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(live.sessions, 'nurse@clinic.example')}"}
    text = "Hola Ana: the day unit is on floor 2 now.\nSee you Thursday!"
    answer = await live.client.post(
        f"/api/patients/{seeded.active}/messages", json={"text": text}, headers=auth
    )
    assert answer.status_code == 202
    message_id = answer.json()["message_id"]
    report = await live.app.state.services.dispatcher.run_once(live.clock.now())
    assert report.failed == 0 and report.sent >= 1
    assert [m["text"] for m in telegram.sent if int(m["chat_id"]) == 4242 and m.get("text") == text] == [text]
    async with live.sessions() as session:
        row = await session.get(ScheduledMessage, message_id)
        log = list(
            await session.scalars(select(MessageLog).where(MessageLog.scheduled_message_id == message_id))
        )
    assert row is not None and row.status is MessageStatus.SENT and row.channel is Channel.TELEGRAM
    assert [(entry.text, entry.delivery_status, entry.channel) for entry in log] == [
        (text, None, Channel.TELEGRAM)
    ]


async def test_the_bot_name_is_asked_once_and_an_unreachable_bot_api_is_not_asked_on_every_page(
    channels: tuple[FakeTelegram, FakeTwilio],
) -> None:
    telegram, _ = channels
    name = BotName(telegram.token, telegram.base_url)
    assert await name.username() == BOT_USERNAME and await name.username() == BOT_USERNAME
    assert [call.method for call in telegram.calls].count("getMe") == 1
    telegram.fail_next("getMe", 500, "Internal Server Error")
    down = BotName(telegram.token, telegram.base_url, retry_s=3600)
    assert await down.username() is None and await down.username() is None
    assert [call.method for call in telegram.calls].count("getMe") == 2  # the failed one, not retried
    assert await BotName(None, telegram.base_url).username() is None  # Telegram off: nothing asked


async def test_no_invite_is_made_or_texted_for_a_patient_past_sign_up_or_in_the_sandbox(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(live.sessions, 'nurse@clinic.example')}"}
    enrolled = await live.client.post("/api/patients", json={"display_name": "Kai"}, headers=auth)
    signed_up = enrolled.json()["patient_id"]
    async with live.sessions() as session, session.begin():
        patient = await session.get_one(Patient, signed_up)
        patient.status = PatientStatus.ACTIVE  # signed up with the code; the invite left open
        sandbox = Patient(
            language="en", timezone="UTC", status=PatientStatus.SIGNING_UP, sandbox=True,
            display_name="Sandy", created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        session.add(sandbox)
        await session.flush()
        session.add(
            Invite(code="SANDBOX1", patient_id=sandbox.id, created_at=NOW, expires_at=NOW + timedelta(9))
        )
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        for patient_id in (signed_up, sandbox.id):
            url = f"/admin/patients/{patient_id}"
            texted = await client.post(f"{url}/invite", data={"csrf_token": token, "phone": "+34611222666"})
            assert texted.status_code == 409, patient_id
            api = f"/api{url.removeprefix('/admin')}/invites"
            made = await live.client.post(api, json={"phone": "+34611222666"}, headers=auth)
            assert made.status_code == 409, patient_id
            page = await client.get(url)
            assert page.status_code == 200 and 'id="invite"' not in page.text
            assert "SANDBOX1" not in page.text and 'id="link-code"' not in page.text  # the code left open
        assert "sandbox" in made.json()["detail"]
        made = await live.client.post(f"/api/patients/{sandbox.id}/invites", json={}, headers=auth)
        assert made.status_code == 409 and "sandbox" in made.json()["detail"]
    assert twilio.sent == []
    async with live.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Invite)) == 2  # nothing new


async def test_the_invite_form_posted_twice_texts_the_invite_once(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        done = await client.post("/admin/enroll", data={"csrf_token": token, "display_name": "Lia"})
        url = done.headers["location"].split("?")[0]
        page = await client.get(url)
        (nonce,) = re.findall(r'name="nonce" value="([^"]+)"', page.text)
        form = {"csrf_token": token, "phone": "+34611222777", "nonce": nonce}
        answers = await asyncio.gather(*(client.post(f"{url}/invite", data=form) for _ in range(2)))
        again = await client.post(f"{url}/invite", data=form)  # a retry after both came back
        for answer in (*answers, again):
            assert answer.status_code == 303 and "notice=invite_sms_sent" in answer.headers["location"]
        assert len(twilio.sent) == 1
        fresh = re.findall(r'name="nonce" value="([^"]+)"', (await client.get(url)).text)
        assert (await client.post(f"{url}/invite", data=form | {"nonce": fresh[0]})).status_code == 303
        assert len(twilio.sent) == 2  # a new form is a new send
    async with live.sessions() as session:
        texted = list(await session.scalars(select(AuditLog).where(AuditLog.action == "invite.sms")))
    assert len(texted) == 2 and {row.detail["key"] for row in texted} == {nonce, fresh[0]}


async def test_an_api_invite_retried_with_its_idempotency_key_is_made_and_texted_once(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(live.sessions, 'nurse@clinic.example')}"}
    enrolled = await live.client.post("/api/patients", json={"display_name": "Mia"}, headers=auth)
    url = f"/api/patients/{enrolled.json()['patient_id']}/invites"
    retry = auth | {"Idempotency-Key": "invite-retry-01"}
    first = await live.client.post(url, json={"phone": "+34611222888"}, headers=retry)
    again = await live.client.post(url, json={"phone": "+34611222888"}, headers=retry)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert first.json() == again.json() and first.json()["sms"] == "sent"
    assert [m["body"] for m in twilio.sent] == [
        invite_sms("en", first.json()["code"], first.json()["telegram_link"])
    ]
    async with live.sessions() as session:
        codes = list(await session.scalars(select(Invite.code).order_by(Invite.id)))
    assert len(codes) == 2 and codes[-1] == first.json()["code"]  # the enrolment's and this one
    bad = await live.client.post(
        url, json={"phone": "+34611222888"}, headers=auth | {"Idempotency-Key": "x y"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
