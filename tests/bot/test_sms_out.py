"""The SMS sender: the real twilio client against the fake Twilio API, every error as a value."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.base import Option, SendResult, tag_option
from bot.channels.sms import SmsSender
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    SERVICE_SID,
    SPEC_PATH,
    FakeTwilio,
    load_spec,
)

TO = "+15005550009"
CALLBACK = "https://bot.example.org/webhooks/twilio/status"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    server = FakeTwilio()
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], server.calls


@pytest.fixture
async def sender(twilio: FakeTwilio) -> AsyncIterator[SmsSender]:
    sender = SmsSender(
        ACCOUNT_SID,
        AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url=twilio.base_url,
        status_callback_url=CALLBACK,
    )
    yield sender
    await sender.aclose()


async def test_a_message_goes_out_from_our_number_with_the_status_callback(
    twilio: FakeTwilio, sender: SmsSender
) -> None:
    result = await sender.send(TO, "Your infusion is tomorrow at 9:30.", [])

    [message] = twilio.sent
    assert (message["to"], message["from"], message["body"]) == (
        TO,
        FROM_NUMBER,
        "Your infusion is tomorrow at 9:30.",
    )
    assert message["status_callback"] == CALLBACK and message["status"] == "queued"
    assert result.ok and result.provider_id == message["sid"] and result.provider_id.startswith("SM")


async def test_a_messaging_service_sends_when_configured(twilio: FakeTwilio) -> None:
    sender = SmsSender(
        ACCOUNT_SID, AUTH_TOKEN, messaging_service_sid=SERVICE_SID, api_base_url=twilio.base_url
    )
    try:
        assert (await sender.send(TO, "Hi.", [])).ok
    finally:
        await sender.aclose()
    [message] = twilio.sent
    assert message["messaging_service_sid"] == SERVICE_SID and message["from"] is None
    assert message["status"] == "accepted" and message["status_callback"] is None


async def test_spanish_goes_as_gsm7_without_the_accents_gsm7_lacks(
    twilio: FakeTwilio, sender: SmsSender
) -> None:
    await sender.send(TO, "¿Recibió su infusión? Mañana, “a la 1”…", [])
    assert twilio.sent[0]["body"] == '¿Recibio su infusion? Mañana, "a la 1"...'


async def test_options_the_text_does_not_number_are_listed(twilio: FakeTwilio, sender: SmsSender) -> None:
    options = [tag_option(7, Option("fine", "fine")), tag_option(7, Option("help_now", "help now"))]
    await sender.send(TO, "How are you?", options)
    await sender.send(TO, "How are you? Reply 1 for fine or 2 for help now.", options)
    assert [m["body"] for m in twilio.sent] == ["How are you? Reply 1 for fine or 2 for help now."] * 2


async def test_wrong_credentials_are_a_transient_failure(twilio: FakeTwilio) -> None:
    sender = SmsSender(ACCOUNT_SID, "wrong", from_number=FROM_NUMBER, api_base_url=twilio.base_url)
    try:
        result = await sender.send(TO, "Hi.", [])
    finally:
        await sender.aclose()
    assert result.transient_failure and "20003" in (result.error or "")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            lambda t: t.opted_out.add(TO),
            SendResult.blocked_by_recipient("twilio 21610: Attempt to send to unsubscribed recipient"),
        ),
        (
            lambda t: t.invalid.add(TO),
            SendResult.rejected("twilio 21211: Invalid 'To' Phone Number: +###########"),
        ),
        (
            lambda t: t.landlines.add(TO),
            SendResult.rejected("twilio 21614: 'To' number +########### is not a valid mobile number"),
        ),
        (lambda t: t.fail_next(20429), SendResult.rate_limited(5.0, "twilio 20429: Too Many Requests")),
        (lambda t: t.fail_next(20500), SendResult.transient("twilio 20500: Internal Server Error")),
    ],
    ids=[
        "opted_out_21610_blocked",
        "invalid_21211_rejected",
        "landline_21614_rejected",
        "429_later",
        "500_transient",
    ],
)
async def test_twilio_errors_become_values(
    twilio: FakeTwilio, sender: SmsSender, setup, expected: SendResult
) -> None:  # type: ignore[no-untyped-def]
    setup(twilio)
    assert await sender.send(TO, "Hi.", []) == expected
    assert twilio.sent == []


async def test_a_network_failure_is_transient(twilio: FakeTwilio) -> None:
    sender = SmsSender(ACCOUNT_SID, AUTH_TOKEN, from_number=FROM_NUMBER, api_base_url="http://127.0.0.1:9")
    try:
        result = await sender.send(TO, "Hi.", [])
    finally:
        await sender.aclose()
    assert result.transient_failure and result.error is not None and result.error.startswith("twilio: ")


async def test_the_fake_answers_unknown_paths_with_twilios_envelope(
    twilio: FakeTwilio, sender: SmsSender
) -> None:
    from twilio.base.exceptions import TwilioRestException

    sender.client.api.base_url = twilio.base_url + "/nowhere"
    with pytest.raises(TwilioRestException) as caught:
        await sender.client.messages.create_async(to=TO, from_=FROM_NUMBER, body="x")
    assert (caught.value.status, caught.value.code) == (404, 20404)


def test_the_fake_is_held_to_twilios_openapi_description() -> None:
    spec = load_spec()
    if spec is None:
        pytest.skip(f"{SPEC_PATH} is absent: the fake's requests and replies are not checked against it")
    spec.check_message(dict(spec.example["value"]))  # the spec's own example passes our check
    spec.check_request({"To": [TO], "From": [FROM_NUMBER], "Body": ["hi"], "StatusCallback": [CALLBACK]})
    with pytest.raises(AssertionError, match="not in CreateMessageRequest"):
        spec.check_request({"To": [TO], "Bodyy": ["hi"]})
    with pytest.raises(AssertionError, match="missing required"):
        spec.check_request({"Body": ["hi"]})
