"""Drives the real `TelegramChannel` + `DialogEngine` through the fake Bot API, one Telegram user at a time.

`Bot` owns a running channel on a database; `bot.user(chat_id, "es")` plays one Telegram user: `await
user.send("Madrid")` or `await user.tap("yes")` push an update to the fake, wait until the Application has
handled it (a last-group handler marks it), and return the messages the fake accepted for that chat
meanwhile. `user.text` joins them, `user.keys` are the inline buttons of the last one. Errors reaching the
Application's error handlers are kept in `bot.errors`, so a test can say "never a crash".
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.channels.telegram_in import BlockedHook, TelegramChannel
from bot.dialog import COMMANDS, DialogEngine
from bot.dialog.timezones import SHORTLIST
from care.clock import Clock
from care.formulation import Formulation
from care.plan import ReminderPlan
from storage import reachability
from storage.models import AddressState, Channel
from tests.fakes.telegram_api import SEND_METHODS, FakeTelegram, private_message

OBSERVER_GROUP = 1_000  # after the channel's handlers (group 0): runs once an update is fully handled
WAIT_S = 15.0


def blocked_hook(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> BlockedHook:
    """The composition root's hook: a blocked (or unblocked) chat moves its address's state."""

    async def on_blocked(chat_id: str, blocked: bool) -> None:
        state = AddressState.BLOCKED if blocked else AddressState.ACTIVE
        cause = f"telegram: the patient {'blocked' if blocked else 'unblocked'} the bot"
        async with sessions() as session, session.begin():
            await reachability.set_state_of(session, Channel.TELEGRAM, chat_id, state, clock.now(), cause)

    return on_blocked


@dataclass
class Bot:
    """A running Telegram channel answering from a dialog engine on `sessions`."""

    fake: FakeTelegram
    sessions: async_sessionmaker[AsyncSession]
    plan: ReminderPlan
    clock: Clock
    overall_per_s: float = 30.0
    concurrency: int = 64
    wait_s: float = WAIT_S  # how long one update may take to be handled before the test fails
    sms_enabled: bool = False  # SMS configured: a typed number is texted for its own YES
    channel: TelegramChannel | None = None
    dialog: DialogEngine | None = None
    errors: list[BaseException] = field(default_factory=list)
    _handled: dict[int, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    _by_chat: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    _scanned: int = 0

    async def start(self, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        """Builds a new engine and channel (on `sessions` if given) and starts polling."""
        self.sessions = sessions or self.sessions
        self.dialog = DialogEngine(
            self.sessions,
            self.plan,
            self.clock,
            default_timezone="UTC",
            default_language="en",
            sms_enabled=self.sms_enabled,
        )
        self.channel = TelegramChannel(
            token=self.fake.token,
            base_url=self.fake.base_url,
            step=self.dialog.step,
            commands=COMMANDS,
            on_blocked=blocked_hook(self.sessions, self.clock),
            poll_timeout_s=1,
            overall_per_s=self.overall_per_s,
            concurrency=self.concurrency,
        )
        self.observe(self.channel)
        await self.channel.start()

    def observe(self, channel: TelegramChannel) -> None:
        """Marks each update handled, and keeps every error, through PTB's own handler API."""
        app = channel.application
        app.add_handler(TypeHandler(Update, self._mark), group=OBSERVER_GROUP)
        app.add_error_handler(self._record_error)

    async def stop(self) -> None:
        """Stops polling and closes the channel."""
        if self.channel is not None:
            await self.channel.stop()
            self.channel = None

    async def _mark(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._handled[update.update_id].set()

    async def _record_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    async def handled(self, update_id: int) -> None:
        """Waits until the Application has run every handler for `update_id`."""
        await asyncio.wait_for(self._handled[update_id].wait(), self.wait_s)

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Every message the fake accepted for `chat_id`, in order (an index kept as calls arrive)."""
        calls = self.fake.calls
        for call in calls[self._scanned :]:
            if call.method in SEND_METHODS and call.status == 200:
                reply = {"method": call.method, "answered_at": call.at, **call.params}
                self._by_chat[int(call.params["chat_id"])].append(reply)
        self._scanned = len(calls)
        return list(self._by_chat[chat_id])

    def user(self, chat_id: int, language_code: str = "en", first_name: str = "Ana") -> User:
        """A Telegram user in a private chat with the bot."""
        return User(self, chat_id, language_code, first_name)


@dataclass
class User:
    """One Telegram user talking to the bot in their private chat."""

    bot: Bot
    chat_id: int
    language_code: str = "en"
    first_name: str = "Ana"
    last: list[dict[str, Any]] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)

    async def _exchange(self, push: Callable[[], int]) -> list[dict[str, Any]]:
        before = len(self.bot.sent_to(self.chat_id))
        pushed_at = time.monotonic()
        update_id = push()
        await self.bot.handled(update_id)
        self.last = self.bot.sent_to(self.chat_id)[before:]
        if self.last:
            self.latencies_s.append(self.last[0]["answered_at"] - pushed_at)
        return self.last

    async def send(self, text: str) -> list[dict[str, Any]]:
        """Sends a text message (commands get their bot_command entity) and returns the replies."""
        fake = self.bot.fake
        return await self._exchange(
            lambda: fake.push_text(
                self.chat_id, text, language_code=self.language_code, first_name=self.first_name
            )
        )

    async def tap(self, data: str) -> list[dict[str, Any]]:
        """Taps an inline button whose callback data is `data`."""
        fake = self.bot.fake
        return await self._exchange(
            lambda: fake.push_callback(self.chat_id, data, language_code=self.language_code)
        )

    async def post(self, **content: Any) -> list[dict[str, Any]]:
        """Sends a private message with other content (sticker=..., photo=..., location=...)."""
        message = self.message(**content)
        return await self._exchange(lambda: self.bot.fake.push_update({"message": message}))

    async def push(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        """Pushes any update body (edited_message, my_chat_member...) and returns replies to this chat."""
        return await self._exchange(lambda: self.bot.fake.push_update(update))

    def message(self, text: str | None = None, **content: Any) -> dict[str, Any]:
        """A private message body from this user."""
        message = private_message(self.chat_id, text, **content)
        message["from"] = {
            **message["from"],
            "language_code": self.language_code,
            "first_name": self.first_name,
        }
        return message

    @property
    def text(self) -> str:
        """The texts (or captions) of the last replies, joined."""
        return "\n\n".join(reply.get("text") or reply.get("caption") or "" for reply in self.last)

    @property
    def keys(self) -> list[str]:
        """The callback data of the last reply's inline buttons."""
        if not self.last:
            return []
        markup = self.last[-1].get("reply_markup") or {}
        return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]

    @property
    def labels(self) -> list[str]:
        """The labels of the last reply's inline buttons."""
        markup = (self.last[-1].get("reply_markup") or {}) if self.last else {}
        return [row[0]["text"] for row in markup.get("inline_keyboard", [])]


async def english_sign_up(user: User) -> None:
    """Signs up with buttons: Madrid, IV on 6-monthly doses, last dose 3 June, next 12 March 2027 09:30."""
    await user.send("/start")
    assert "Do you agree?" in user.text and user.keys == ["yes", "no", "cmd:language:es"]
    await user.tap("yes")
    assert "What name" in user.text
    await user.send("Ana")
    assert "Nice to meet you, Ana!" in user.text
    await user.send("Madrid")
    assert "In Madrid it's 10:00" in user.text
    await user.tap("yes")
    assert "Time zone set: Madrid" in user.text and user.keys == ["iv", "sc"]
    await user.tap("iv")
    await user.tap("six_monthly")
    assert "last infusion" in user.text
    await user.send("3 June")
    await user.send("12 March 9:30")
    assert "Where is the appointment" in user.text
    await user.send("Hospital La Paz")
    assert "SMS" in user.text
    await user.tap("no")
    assert "12 Mar 2027, 09:30, at Hospital La Paz" in user.text and user.keys == ["confirm", "restart"]
    await user.tap("confirm")
    assert "You're all set, Ana!" in user.text


@dataclass(frozen=True)
class SignUp:
    """What patient number `index` answers at each sign-up question: all different, in both languages."""

    index: int

    @property
    def chat_id(self) -> int:
        return 810_000 + self.index

    @property
    def language(self) -> str:
        return "es" if self.index % 2 else "en"

    @property
    def name(self) -> str:
        return f"Patient {self.index:03d}"

    @property
    def zone(self) -> str:
        zones = SHORTLIST[self.language]
        return zones[(self.index // 2) % len(zones)]

    @property
    def formulation(self) -> Formulation:
        return Formulation.SC if self.index % 3 == 1 else Formulation.IV

    @property
    def last_dose(self) -> str | None:
        return f"2026-06-{self.index % 28 + 1:02d}" if self.index % 3 == 0 else None

    @property
    def appointment(self) -> datetime:
        day, hour, minute = self.index % 28 + 1, 8 + self.index % 8, (self.index % 4) * 15
        return datetime(2027, 1 + self.index % 4, day, hour, minute, tzinfo=ZoneInfo(self.zone))

    @property
    def place(self) -> str:
        return f"Clinic {self.index:03d}"

    @property
    def phone(self) -> str | None:
        return f"+34 6{self.index:08d}" if self.index % 4 == 0 else None


async def sign_up_as(user: User, plan: SignUp) -> None:
    """Signs `user` up with the answers of `plan` (buttons where there are some)."""
    await user.send("hello")
    await user.tap("yes")
    await user.send(plan.name)
    await user.tap(f"tz:{plan.zone}")
    await user.tap("yes")
    await user.tap(plan.formulation.value)
    await user.tap("six_monthly")
    if plan.last_dose is None:
        await user.tap("not_sure")
    else:
        await user.send(plan.last_dose)
    await user.send(plan.appointment.strftime("%Y-%m-%d %H:%M"))
    await user.send(plan.place)
    if plan.phone is None:
        await user.tap("no")
    else:
        await user.send(plan.phone)
    await user.tap("confirm")
