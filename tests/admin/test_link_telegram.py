"""A Telegram link invite for a patient already signed up: the patient page's form and the API make it
(audited, once per form or Idempotency-Key), show its deep link and QR code, and refuse stopped or sandbox
patients and a phone."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from storage.invites import LINK_INVITE_TTL
from storage.models import AuditLog, Invite, OperatorRole, Patient, PatientStatus
from tests.admin.console import Console, add_operator, add_token, seed, signed_in
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.fakes.twilio_api import FakeTwilio


async def _created(console: Console, patient_id: int) -> list[dict]:
    async with console.sessions() as session:
        rows = await session.scalars(
            select(AuditLog.detail)
            .where(AuditLog.patient_id == patient_id, AuditLog.action == "invite.create")
            .order_by(AuditLog.id)
        )
        return list(rows)


async def test_the_patient_page_makes_a_link_invite_and_shows_its_deep_link_and_qr_code(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    seeded = await seed(live.sessions)  # Bea: paused, reached by SMS
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    url = f"/admin/patients/{seeded.paused}"
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        page = await client.get(url)
        assert "Link a Telegram chat" in page.text and "Make a link invite" in page.text
        assert 'id="link-code"' not in page.text  # none made yet
        (nonce,) = re.findall(r'name="link_nonce" value="([^"]+)"', page.text)
        form = {"csrf_token": token, "link_nonce": nonce}
        answers = await asyncio.gather(*(client.post(f"{url}/link-telegram", data=form) for _ in range(2)))
        again = await client.post(f"{url}/link-telegram", data=form)  # a retry after both came back
        for answer in (*answers, again):
            assert answer.status_code == 303
            assert answer.headers["location"] == f"{url}?notice=telegram_link#link-telegram"
        page = await client.get(answer.headers["location"])
    async with live.sessions() as session:
        [invite] = list(await session.scalars(select(Invite).where(Invite.patient_id == seeded.paused)))
    link = f"https://t.me/{BOT_USERNAME}?start={invite.code}"
    assert "Link invite made" in page.text and f'id="link-telegram-link">{link}</a>' in page.text
    assert 'class="qr"' in page.text and "Make a new link" in page.text
    assert await _created(live, seeded.paused) == [{"invite": invite.id, "link": True, "key": nonce}]
    assert twilio.sent == []


async def test_the_api_makes_a_link_invite_once_per_key_and_refuses_a_phone(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    _, twilio = channels
    seeded = await seed(live.sessions)  # Ana: active, Telegram
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    auth = {"Authorization": f"Bearer {await add_token(live.sessions, 'nurse@clinic.example')}"}
    url = f"/api/patients/{seeded.active}/invites"
    keyed = auth | {"Idempotency-Key": "link-ana-0001"}
    first, retry = [await live.client.post(url, json={}, headers=keyed) for _ in range(2)]
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    body = first.json()
    assert body["telegram_link"] == f"https://t.me/{BOT_USERNAME}?start={body['code']}"
    assert body["sms"] is None
    async with live.sessions() as session:
        made = await session.scalar(select(Invite).where(Invite.code == body["code"]))
    assert made is not None and made.expires_at - made.created_at == LINK_INVITE_TTL  # a week, not 30 days
    other = await live.client.post(url, json={}, headers=auth | {"Idempotency-Key": "link-ana-0002"})
    assert other.status_code == 201 and other.json()["code"] != body["code"]  # a new key: a new invite
    texted = await live.client.post(url, json={"phone": "+34611222888"}, headers=auth)
    assert texted.status_code == 409 and "phone is already known" in texted.json()["detail"]
    created = await _created(live, seeded.active)
    assert [detail["link"] for detail in created] == [True, True]
    assert twilio.sent == []


async def test_no_link_form_for_a_patient_stopped_signing_up_or_in_the_sandbox_and_a_post_is_refused(
    live: Console, channels: tuple[FakeTelegram, FakeTwilio]
) -> None:
    seeded = await seed(live.sessions)  # Carl: stopped
    await add_operator(live.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    async with live.sessions() as session, session.begin():
        sandbox = await session.get_one(Patient, seeded.paused)
        sandbox.sandbox, sandbox.status = True, PatientStatus.ACTIVE
    async with signed_in(live, "nurse@clinic.example") as (client, token):
        enrolled = await client.post("/admin/enroll", data={"csrf_token": token, "display_name": "Noa"})
        signing_up = enrolled.headers["location"].split("?")[0]
        for url in (f"/admin/patients/{seeded.stopped}", f"/admin/patients/{seeded.paused}", signing_up):
            page = await client.get(url)
            assert page.status_code == 200 and "Link a Telegram chat" not in page.text, url
        for patient_id in (seeded.stopped, seeded.paused):
            refused = await client.post(
                f"/admin/patients/{patient_id}/link-telegram", data={"csrf_token": token}
            )
            assert refused.status_code == 409, patient_id
        missing = await client.post("/admin/patients/999/link-telegram", data={"csrf_token": token})
        assert missing.status_code == 404
    for patient_id in (seeded.stopped, seeded.paused):
        assert await _created(live, patient_id) == []


async def test_without_telegram_the_page_says_no_chat_can_be_linked(console: Console) -> None:
    seeded = await seed(console.sessions)
    await add_operator(console.sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    async with signed_in(console, "nurse@clinic.example") as (client, _):
        page = await client.get(f"/admin/patients/{seeded.active}")
    assert 'id="telegram-off"' in page.text and "link_nonce" not in page.text
