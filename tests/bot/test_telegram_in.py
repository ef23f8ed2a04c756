"""The Telegram adapter translates only: updates from the real PTB Application become dialog events,
replies become messages and buttons, against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.channels.telegram_in import GROUP_DECLINE, TelegramChannel
from bot.dialog.events import Attachment, InboundEvent, Reply
from bot.options import Option
from storage.models import Channel
from tests.fakes.telegram_api import FakeTelegram, private_message


class RecordingDialog:
    """Our own port faked: records events, answers with a canned reply."""

    def __init__(self) -> None:
        self.events: list[InboundEvent] = []
        self.replies: list[Reply] = [Reply("ok", (Option("yes", "Yes"), Option("no", "No")))]
        self.arrived = asyncio.Event()

    async def __call__(self, event: InboundEvent) -> list[Reply]:
        self.events.append(event)
        self.arrived.set()
        return self.replies


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def dialog_and_channel(fake: FakeTelegram) -> AsyncIterator[tuple[RecordingDialog, TelegramChannel]]:
    dialog = RecordingDialog()
    blocked: list[tuple[str, bool]] = []

    async def on_blocked(address: str, is_blocked: bool) -> None:
        blocked.append((address, is_blocked))

    channel = TelegramChannel(
        token=fake.token,
        base_url=fake.base_url,
        step=dialog,
        commands={"en": [("next", "Your next appointment")], "es": [("next", "Tu próxima cita")]},
        on_blocked=on_blocked,
        poll_timeout_s=1,
    )
    channel.blocked = blocked  # type: ignore[attr-defined]
    await channel.start()
    yield dialog, channel
    await channel.stop()


async def _next_event(dialog: RecordingDialog) -> InboundEvent:
    await asyncio.wait_for(dialog.arrived.wait(), 5)
    dialog.arrived.clear()
    return dialog.events[-1]


async def _wait_for(condition, timeout_s: float = 5.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def test_a_deep_link_start_carries_its_invite_code_and_the_language(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    dialog, _ = dialog_and_channel
    fake.push_text(501, "/start AbC-123", language_code="es")
    event = await _next_event(dialog)
    assert (event.channel, event.address, event.text) == (Channel.TELEGRAM, "501", "/start")
    assert event.start_payload == "AbC-123" and event.language_hint == "es"
    await _wait_for(lambda: fake.sent)
    reply = fake.sent[-1]
    assert reply["text"] == "ok"
    buttons = [row[0]["callback_data"] for row in reply["reply_markup"]["inline_keyboard"]]
    assert buttons == ["yes", "no"]


async def test_commands_are_registered_in_both_languages(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    registered = [call.params for call in fake.calls if call.method == "setMyCommands"]
    assert [params.get("language_code") for params in registered] == [None, "es"]
    assert registered[1]["commands"] == [{"command": "next", "description": "Tu próxima cita"}]


async def test_a_tapped_button_is_an_option_and_is_acknowledged(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    dialog, _ = dialog_and_channel
    fake.push_callback(502, "41:mild")
    event = await _next_event(dialog)
    assert (event.option, event.text, event.address) == ("41:mild", None, "502")  # the engine untags it
    await _wait_for(lambda: any(call.method == "answerCallbackQuery" for call in fake.calls))
    fake.push_callback(502, "cmd:language:es")
    assert (await _next_event(dialog)).option == "cmd:language:es"


async def test_stickers_and_shared_contacts_reach_the_dialog_as_what_they_are(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    dialog, _ = dialog_and_channel
    sticker = {
        "file_id": "s",
        "file_unique_id": "s",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    fake.push_update({"message": private_message(503, sticker=sticker)})
    event = await _next_event(dialog)
    assert (event.text, event.option) == (None, None)
    contact = {"phone_number": "+34 600 123 456", "first_name": "Ana", "user_id": 503}
    fake.push_update({"message": private_message(503, contact=contact)})
    event = await _next_event(dialog)
    assert event.contact_phone == "+34 600 123 456"


async def test_edited_messages_are_ignored_and_groups_declined(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    dialog, _ = dialog_and_channel
    fake.push_update({"edited_message": {**private_message(504, "changed my mind"), "edit_date": 1}})
    group = private_message(-100, "/start", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    group["chat"] = {"id": -100, "type": "group", "title": "MS friends"}
    fake.push_update({"message": group})
    await _wait_for(lambda: fake.sent)
    assert (fake.sent[-1]["chat_id"], fake.sent[-1]["text"]) == (-100, GROUP_DECLINE)
    assert dialog.events == []


async def test_a_calendar_attachment_is_sent_as_a_document(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    dialog, _ = dialog_and_channel
    dialog.replies = [
        Reply("Your appointments", attachment=Attachment("ocrevus.ics", "text/calendar", b"BEGIN"))
    ]
    fake.push_text(505, "/calendar")
    await _next_event(dialog)
    await _wait_for(lambda: any(call.method == "sendDocument" for call in fake.calls))


async def test_blocking_the_bot_is_reported_at_once_and_a_new_start_unblocks(
    fake: FakeTelegram, dialog_and_channel: tuple[RecordingDialog, TelegramChannel]
) -> None:
    _, channel = dialog_and_channel
    user = {"id": 506, "is_bot": False, "first_name": "Ana"}
    bot = {"id": 1, "is_bot": True, "first_name": "Ocrebot"}
    change = {
        "chat": {"id": 506, "type": "private"},
        "from": user,
        "date": 1,
        "old_chat_member": {"status": "member", "user": bot},
        "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
    }
    fake.push_update({"my_chat_member": change})
    await _wait_for(lambda: channel.blocked == [("506", True)])  # type: ignore[attr-defined]
    fake.push_update(
        {
            "my_chat_member": {
                **change,
                "old_chat_member": change["new_chat_member"],
                "new_chat_member": {"status": "member", "user": bot},
            }
        }
    )
    await _wait_for(lambda: channel.blocked[-1] == ("506", False))  # type: ignore[attr-defined]
