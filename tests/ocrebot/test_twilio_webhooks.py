"""Twilio's webhooks on our app: signatures, STOP/START/HELP, the SMS sign-up, delivery statuses, and STOP
honoured by the real dispatcher sending through the real twilio client to the fake Twilio API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.sms import STATUS_CALLBACK_PATH, SmsSender
from bot.sms_text import count_segments
from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from care.triage import load_policy
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from storage.models import (
    AddressState,
    AuditLog,
    Channel,
    ChannelAddress,
    CheckIn,
    CheckInReason,
    MessageLog,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from tests.bot.dialog.test_invites import enroll
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.ocrebot.twilio_app import (
    PUBLIC,
    START,
    SmsPhone,
    build_app,
    client_for,
    messages_of,
    post_signed,
    sms_settings,
)

SMS_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
NUMBER = "+34600123456"


@pytest.fixture(scope="module")
def plan() -> ReminderPlan:
    return load_plan()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], server.calls


@pytest.fixture
async def http(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(build_app(sessions, plan, clock, sms_settings())) as client:
        yield client


@pytest.fixture
def phone(http: httpx.AsyncClient, twilio: FakeTwilio) -> SmsPhone:
    return SmsPhone(http, twilio, NUMBER)


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def sms_address(sessions: async_sessionmaker[AsyncSession], number: str = NUMBER) -> ChannelAddress:
    async with sessions() as session:
        return await session.scalar(
            select(ChannelAddress).where(
                ChannelAddress.channel == Channel.SMS, ChannelAddress.address == number
            )
        )


async def sign_up_by_sms(phone: SmsPhone) -> None:
    """JOIN, YES, name, Madrid, IV on 6-monthly doses, last 3 June, next 12 March 2027 09:30, confirm."""
    for body in ("JOIN", "YES", "Ana", "Madrid", "yes", "1", "3", "3 June", "12 March 9:30", "La Paz", "1"):
        await phone.text(body)
    assert "all set" in phone.said, phone.said


# signatures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forgery",
    ["missing", "garbage", "other_body", "other_url", "other_token"],
)
async def test_a_request_without_twilios_signature_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, twilio: FakeTwilio, sessions: async_sessionmaker[AsyncSession], forgery: str
) -> None:
    params = twilio.inbound_params(NUMBER, "JOIN")
    kwargs: dict[str, object] = {
        "missing": {"signature": ""},
        "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"},
        "other_body": {"signed_params": {**params, "Body": "hello"}},
        "other_url": {"signed_url": "https://evil.example.org" + SMS_PATH},
        "other_token": {"signature": FakeTwilio(auth_token="e" * 32).sign(PUBLIC + SMS_PATH, params)},
    }[forgery]
    for path in (SMS_PATH, STATUS_PATH):
        response = await post_signed(http, twilio, path, params, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 403
    assert await count(sessions, Patient) == 0 and await count(sessions, ChannelAddress) == 0


async def test_a_forged_stop_does_not_opt_out(
    phone: SmsPhone, http: httpx.AsyncClient, twilio: FakeTwilio, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)
    params = twilio.inbound_params(NUMBER, "STOP")
    response = await post_signed(http, twilio, SMS_PATH, params, signed_params={**params, "Body": "hi"})
    assert response.status_code == 403
    assert (await sms_address(sessions)).state is AddressState.ACTIVE


async def test_the_signature_covers_the_query_string(http: httpx.AsyncClient, twilio: FakeTwilio) -> None:
    params = twilio.inbound_params(NUMBER, "HELP")
    signed = await http.post(
        SMS_PATH + "?clinic=1",
        data=params,
        headers={"X-Twilio-Signature": twilio.sign(PUBLIC + SMS_PATH + "?clinic=1", params)},
    )
    unsigned_query = await http.post(
        SMS_PATH + "?clinic=1",
        data=params,
        headers={"X-Twilio-Signature": twilio.sign(PUBLIC + SMS_PATH, params)},
    )
    assert signed.status_code == 200 and unsigned_query.status_code == 403


# strangers, JOIN and the sign-up --------------------------------------------------------------------------


async def test_a_stranger_is_told_how_to_join_and_nothing_is_stored(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    [answer] = await phone.text("hello, is this the clinic?")
    assert "JOIN" in answer
    assert await count(sessions, Patient) == 0 and await count(sessions, ChannelAddress) == 0


async def test_an_unreadable_number_gets_a_clear_message_and_nothing_is_stored(
    http: httpx.AsyncClient, twilio: FakeTwilio, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await post_signed(http, twilio, SMS_PATH, twilio.inbound_params("12", "JOIN"))
    assert "could not read your phone number" in messages_of(response)[0]
    assert await count(sessions, Patient) == 0


async def test_the_whole_sms_sign_up_needs_join_and_a_yes_before_any_reminder(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await phone.text("JOIN")
    assert "Agree to get texts?" in phone.said and "Reply 1 for Yes or 2 for No" in phone.said
    async with sessions() as session:
        patient = await session.scalar(select(Patient))
        assert patient is not None and not patient.sms_consent and patient.consented_at is None
    assert await count(sessions, ScheduledMessage) == 0

    await phone.text("yes")
    for body in ("Ana", "Madrid", "yes", "1", "3", "3 June", "12 March 9:30", "La Paz"):
        await phone.text(body)
    assert "Is this right?" in phone.said
    await phone.text("1")

    assert "all set" in phone.said and "Text NEXT for" in phone.said
    async with sessions() as session:
        patient = await session.scalar(select(Patient))
        assert patient is not None and patient.status is PatientStatus.ACTIVE and patient.sms_consent
        pending = await session.scalar(
            select(func.count()).where(ScheduledMessage.status == MessageStatus.PENDING)
        )
    assert pending and (await sms_address(sessions)).state is AddressState.ACTIVE


async def test_declining_consent_by_sms_keeps_nothing(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await phone.text("join")
    await phone.text("2")
    assert await count(sessions, Patient) == 0


async def test_keywords_drive_the_dialog_after_sign_up(phone: SmsPhone) -> None:
    await sign_up_by_sms(phone)
    await phone.text("next")
    assert "Your next appointment" in phone.said
    await phone.text("Pause!")
    assert "paused" in phone.said and "RESUME" in phone.said and "/resume" not in phone.said
    await phone.text(" resume ")
    assert "back on" in phone.said


async def test_help_says_who_we_are_and_how_to_stop(phone: SmsPhone) -> None:
    [answer] = await phone.text("help")
    assert "Ocrebot" in answer and "STOP" in answer and "clinic" in answer and "emergency" in answer


# STOP and START ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit"]
)
async def test_every_opt_out_keyword_opts_the_number_out(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession], body: str
) -> None:
    await sign_up_by_sms(phone)
    assert await phone.text(body) == []
    address = await sms_address(sessions)
    assert address.state is AddressState.OPTED_OUT
    async with sessions() as session:
        patient = await session.get_one(Patient, address.patient_id)
        pending = await session.scalar(
            select(func.count()).where(ScheduledMessage.status == MessageStatus.PENDING)
        )
    assert not patient.sms_consent and pending == 0


async def test_twilios_opt_out_type_opts_out_whatever_the_word(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)
    assert await phone.text("Parar por favor", OptOutType="STOP") == []
    assert (await sms_address(sessions)).state is AddressState.OPTED_OUT


async def test_an_opted_out_number_gets_no_answer_until_start(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)
    await phone.text("STOP")
    assert await phone.text("next") == []
    [answer] = await phone.text("Start")
    assert "STOP" in answer
    address = await sms_address(sessions)
    async with sessions() as session:
        patient = await session.get_one(Patient, address.patient_id)
        pending = await session.scalar(
            select(func.count()).where(ScheduledMessage.status == MessageStatus.PENDING)
        )
    assert address.state is AddressState.ACTIVE and patient.sms_consent and pending
    await phone.text("next")
    assert "Your next appointment" in phone.said


async def dispatcher_for(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock, sender: SmsSender
) -> Dispatcher:
    renderer = OutboxRenderer(clock, load_policy(), None)
    return Dispatcher(sessions, {Channel.SMS: sender}, plan, renderer, clock, "test-worker")


@pytest.fixture
async def sender(twilio: FakeTwilio) -> AsyncIterator[SmsSender]:
    sender = SmsSender(
        ACCOUNT_SID,
        AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url=twilio.base_url,
        status_callback_url=PUBLIC + STATUS_CALLBACK_PATH,
    )
    yield sender
    await sender.aclose()


async def first_due(sessions: async_sessionmaker[AsyncSession]) -> ScheduledMessage:
    async with sessions() as session:
        row = await session.scalar(
            select(ScheduledMessage)
            .where(ScheduledMessage.status == MessageStatus.PENDING)
            .order_by(ScheduledMessage.due_at)
            .limit(1)
        )
    assert row is not None
    return row


async def test_a_due_reminder_goes_by_sms_and_its_delivery_is_recorded(
    phone: SmsPhone,
    http: httpx.AsyncClient,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    await sign_up_by_sms(phone)
    row = await first_due(sessions)
    clock.set(row.due_at)
    report = await (await dispatcher_for(sessions, plan, clock, sender)).run_once(clock.now())

    assert report.sent == 1
    [message] = twilio.sent
    assert message["to"] == NUMBER and message["status_callback"] == PUBLIC + STATUS_PATH
    for status in ("sent", "delivered", "sent"):  # the late "sent" must not undo "delivered"
        response = await post_signed(http, twilio, STATUS_PATH, twilio.status_params(message["sid"], status))
        assert response.status_code == 204
    async with sessions() as session:
        log = await session.scalar(select(MessageLog).where(MessageLog.provider_id == message["sid"]))
        stored = await session.get_one(ScheduledMessage, row.id)
    assert log is not None and (log.delivery_status, log.error_code) == ("delivered", None)
    assert stored.status is MessageStatus.DELIVERED


async def test_an_undelivered_message_records_the_error_code(
    phone: SmsPhone,
    http: httpx.AsyncClient,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    await sign_up_by_sms(phone)
    row = await first_due(sessions)
    clock.set(row.due_at)
    await (await dispatcher_for(sessions, plan, clock, sender)).run_once(clock.now())
    [message] = twilio.sent
    params = twilio.status_params(message["sid"], "undelivered", error_code=30003)
    assert (await post_signed(http, twilio, STATUS_PATH, params)).status_code == 204
    async with sessions() as session:
        log = await session.scalar(select(MessageLog).where(MessageLog.provider_id == message["sid"]))
        stored = await session.get_one(ScheduledMessage, row.id)
    assert log is not None and (log.delivery_status, log.error_code) == ("undelivered", "30003")
    assert stored.status is MessageStatus.FAILED and stored.last_error == "twilio undelivered 30003"
    assert (await sms_address(sessions)).state is AddressState.ACTIVE


async def test_21610_in_a_status_callback_opts_the_number_out(
    phone: SmsPhone,
    http: httpx.AsyncClient,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    await sign_up_by_sms(phone)
    row = await first_due(sessions)
    clock.set(row.due_at)
    await (await dispatcher_for(sessions, plan, clock, sender)).run_once(clock.now())
    [message] = twilio.sent
    params = twilio.status_params(message["sid"], "failed", error_code=21610)
    assert (await post_signed(http, twilio, STATUS_PATH, params)).status_code == 204
    assert (await sms_address(sessions)).state is AddressState.OPTED_OUT


async def test_stop_is_honoured_before_the_next_due_reminder(
    phone: SmsPhone,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    await sign_up_by_sms(phone)
    row = await first_due(sessions)
    await phone.text("STOP")
    clock.set(row.due_at)
    dispatcher = await dispatcher_for(sessions, plan, clock, sender)
    report = await dispatcher.run_once(clock.now())
    clock.set(row.due_at.replace(year=row.due_at.year + 1))
    later = await dispatcher.run_once(clock.now())
    assert twilio.sent == [] and report.sent == 0 and later.sent == 0


async def test_twilio_refusing_an_opted_out_number_blocks_the_address(
    phone: SmsPhone,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
) -> None:
    await sign_up_by_sms(phone)
    twilio.opted_out.add(NUMBER)  # the patient opted out with the carrier; we never heard the STOP
    row = await first_due(sessions)
    clock.set(row.due_at)
    report = await (await dispatcher_for(sessions, plan, clock, sender)).run_once(clock.now())
    assert report.sent == 0 and report.failed == 1
    assert (await sms_address(sessions)).state is not AddressState.ACTIVE


async def send_due_check_in(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock, sender: SmsSender
) -> ScheduledMessage:
    async with sessions() as session:
        row = await session.scalar(
            select(ScheduledMessage)
            .where(ScheduledMessage.status == MessageStatus.PENDING, ScheduledMessage.kind == "check_in")
            .order_by(ScheduledMessage.due_at)
            .limit(1)
        )
    assert row is not None
    clock.set(row.due_at)
    dispatcher = await dispatcher_for(sessions, plan, clock, sender)
    assert (await dispatcher.run_once(clock.now())).sent >= 1
    return row


@pytest.mark.parametrize(("answer", "level"), [("1", "fine"), ("Fine", "fine"), ("3", "emergency")])
async def test_a_check_in_is_answered_by_number_or_words(
    phone: SmsPhone,
    twilio: FakeTwilio,
    sender: SmsSender,
    sessions: async_sessionmaker[AsyncSession],
    plan: ReminderPlan,
    clock: FakeClock,
    answer: str,
    level: str,
) -> None:
    await sign_up_by_sms(phone)
    row = await send_due_check_in(sessions, plan, clock, sender)
    assert "Reply 1 for fine, 2 for mild symptoms or 3 for help now" in twilio.sent[-1]["body"]
    await phone.text(answer)
    async with sessions() as session:
        check_in = await session.scalar(select(CheckIn).where(CheckIn.scheduled_message_id == row.id))
    assert check_in is not None and check_in.level.value == level, phone.said
    for reply in phone.last:
        assert count_segments(reply).count <= 2, reply


@pytest.mark.parametrize("body", ["abc123", "JOIN ABC123"])
async def test_an_invite_code_texted_links_the_number_to_the_invited_patient(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession], body: str
) -> None:
    invited = await enroll(sessions)
    await phone.text(body)
    assert "Tu clinica te ha invitado" in phone.said, phone.said  # Spanish, folded to GSM-7
    assert (await sms_address(sessions)).patient_id == invited
    await phone.text("si")  # the YES of the double opt-in: consent, and SMS with it
    async with sessions() as session:
        patient = await session.get_one(Patient, invited)
    assert patient.consented_at is not None and patient.sms_consent


async def test_a_wrong_code_from_a_stranger_stores_nothing(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await enroll(sessions)
    [answer] = await phone.text("XYZ999")
    assert "JOIN" in answer
    assert await count(sessions, ChannelAddress) == 0 and await count(sessions, Patient) == 1


# QUIET, and a STOP that leaves no channel ----------------------------------------------------------------


async def test_quiet_by_sms_shows_and_sets_the_patients_quiet_hours_in_two_segments(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)

    shown = await phone.text("QUIET")
    changed = await phone.text("quiet 22:30-07:00")
    refused = await phone.text("QUIET 30:00-01:00")

    assert "Quiet hours: 21:00-08:00 (Madrid time)" in shown[0] and "QUIET 22:00-07:00" in shown[0]
    assert "quiet hours are now 22:30-07:00 (Madrid time)" in changed[0]
    assert refused[0].startswith("Please send the hours like this: QUIET 22:00-07:00")
    assert all(count_segments(body).count <= 2 for body in (*shown, *changed, *refused))
    address = await sms_address(sessions)
    async with sessions() as session:
        patient = await session.get_one(Patient, address.patient_id)
    assert (f"{patient.quiet_hours_start:%H:%M}", f"{patient.quiet_hours_end:%H:%M}") == ("22:30", "07:00")


async def test_stop_from_an_sms_only_patient_is_in_their_timeline_and_flags_the_clinic(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)
    await phone.text("STOP")
    address = await sms_address(sessions)
    async with sessions() as session:
        audit = await session.scalar(select(AuditLog).where(AuditLog.action == "channel_opted_out"))
        flags = list(
            await session.scalars(select(CheckIn).where(CheckIn.reason == CheckInReason.UNREACHABLE))
        )
    assert audit is not None and audit.patient_id == address.patient_id
    assert audit.detail == {"channel": "sms", "cause": "sms: the patient texted STOP", "now_via": []}
    assert [(flag.patient_id, flag.acknowledged_at) for flag in flags] == [(address.patient_id, None)]

    await phone.text("START")

    async with sessions() as session:
        flag = await session.get_one(CheckIn, flags[0].id)
    assert flag.acknowledged_at is not None and flag.ack_note == "cleared: reachable again by sms"


async def test_yes_from_a_number_that_already_consented_gets_a_calm_answer_and_changes_nothing(
    phone: SmsPhone, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up_by_sms(phone)
    before = await count(sessions, AuditLog)
    [answer] = await phone.text("Yes!")
    assert "already on" in answer and "STOP" in answer
    address = await sms_address(sessions)
    async with sessions() as session:
        patient = await session.get_one(Patient, address.patient_id)
    assert patient.sms_consent and address.state is AddressState.ACTIVE
    assert await count(sessions, AuditLog) == before
