"""The Telegram channel, inbound: python-telegram-bot updates become dialog events, replies become messages.

Owns the PTB `Application` (polling, or webhook updates fed from our FastAPI route), its handlers and the
rendering of replies (inline buttons, .ics documents). Translates only: no SQL, no rules. Logs ids and
types, never names, numbers or text. Must not import `storage` beyond its enums, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, FloodLimit
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.dialog.events import InboundEvent, Reply
from storage.models import Channel

os.environ.setdefault(
    "PTB_TIMEDELTA", "true"
)  # timedelta for RetryAfter.retry_after, PTB's documented switch

log = logging.getLogger(__name__)

Step = Callable[[InboundEvent], Awaitable[list[Reply]]]
BlockedHook = Callable[[str, bool], Awaitable[None]]
MAX_TEXT = 4096
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
GROUP_DECLINE = (
    "I only talk one to one, to keep your health details private. Please open a private chat with me.\n"
    "Solo hablo en chats privados, para proteger tus datos de salud. Escríbeme en un chat privado."
)


class TelegramChannel:
    """Carries the dialog over Telegram.

    token, base_url: the bot and the Bot API (a fake's in tests). step: the dialog engine's entry.
    commands: per language, (name, description) pairs for setMyCommands. on_blocked(chat_id, blocked):
    called when the patient blocks (True) or unblocks (False) the bot. webhook_url/secret: webhook mode
    (updates arrive through `feed`), polling when unset. concurrency: updates handled at once (the engine
    serializes each chat on its own). overall_per_s: messages a second the client sends at most (Telegram's
    bulk limit by default; tests against a fake with higher limits raise it). rate_limiter: replaces that
    limiter, e.g. `TelegramSender.replies_first()`, so replies share the outbox's budget and go first.
    """

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        step: Step,
        commands: dict[str, Sequence[tuple[str, str]]] | None = None,
        on_blocked: BlockedHook | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        concurrency: int = 64,
        poll_timeout_s: int = 10,
        overall_per_s: float = FloodLimit.MESSAGES_PER_SECOND,
        rate_limiter: BaseRateLimiter[Any] | None = None,
    ) -> None:
        self.step = step
        self.commands = commands or {}
        self.on_blocked = on_blocked
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.poll_timeout_s = poll_timeout_s
        self._turns = _ChatTurns()
        self._keyboards: set[int] = set()  # chats shown the share-contact keyboard, until it is removed
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(base_url)
            .rate_limiter(rate_limiter or AIORateLimiter(overall_max_rate=overall_per_s, max_retries=2))
            .concurrent_updates(concurrency)
            .build()
        )
        app = self.application
        app.add_handler(MessageHandler(filters.UpdateType.EDITED, self._ignore))
        app.add_handler(MessageHandler(~filters.ChatType.PRIVATE & filters.COMMAND, self._decline_group))
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE, self._on_message))
        app.add_handler(CallbackQueryHandler(self._on_option))
        app.add_handler(ChatMemberHandler(self._on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self._on_error)

    async def start(self) -> None:
        """Check the token, register the commands, and start polling or set the webhook."""
        app = self.application
        await app.initialize()
        await self._register_commands()
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(
                self.webhook_url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            assert app.updater is not None
            await app.updater.start_polling(timeout=self.poll_timeout_s, allowed_updates=ALLOWED_UPDATES)
        log.info("telegram channel started as @%s", app.bot.username)

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand, and close the HTTP client."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def feed(self, payload: dict[str, Any]) -> None:
        """Queue one update that arrived by webhook."""
        update = Update.de_json(payload, self.application.bot)
        await self.application.update_queue.put(update)

    async def _register_commands(self) -> None:
        for language, pairs in self.commands.items():
            commands = [BotCommand(name, description) for name, description in pairs]
            code = None if language == "en" else language
            await self.application.bot.set_my_commands(commands, language_code=code)

    async def _ignore(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edited messages change nothing: the first answer stands."""

    async def _decline_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Groups are declined politely: health details stay in private chats."""
        if update.effective_message is not None:
            await update.effective_message.reply_text(GROUP_DECLINE)

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private message (any kind) becomes one event."""
        message = update.effective_message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return
        text, payload = _text_and_payload(message)
        contact = _shared_phone(message)
        user = message.from_user
        event = InboundEvent(
            channel=Channel.TELEGRAM,
            address=str(message.chat.id),
            text=text,
            option=None,
            language_hint=user.language_code if user is not None else None,
            contact_phone=contact,
            start_payload=payload,
            received_at=message.date or datetime.now(UTC),
        )
        async with self._turns.hold(message.chat.id):
            await self._deliver(message.chat.id, await self.step(event))

    async def _on_option(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tapped button becomes an event carrying the option's key."""
        query = update.callback_query
        if query is None or query.message is None:
            return
        key = query.data or ""  # whole: "cmd:next", or "812:fine" tagged by the outbox (bot.channels.base)
        chat_id = query.message.chat.id
        event = InboundEvent(
            channel=Channel.TELEGRAM,
            address=str(chat_id),
            text=None,
            option=key,
            language_hint=query.from_user.language_code,
            contact_phone=None,
            start_payload=None,
            received_at=datetime.now(UTC),
        )
        async with self._turns.hold(chat_id):  # taken before any await: the chat's updates keep their order
            await query.answer()
            await self._deliver(chat_id, await self.step(event))

    async def _on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The patient blocked (kicked) or unblocked the bot in their private chat."""
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE or self.on_blocked is None:
            return
        status = change.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            await self.on_blocked(str(change.chat.id), True)
        elif status == ChatMemberStatus.MEMBER:
            await self.on_blocked(str(change.chat.id), False)

    async def _deliver(self, chat_id: int, replies: list[Reply]) -> None:
        bot = self.application.bot
        try:
            for reply in replies:
                if reply.attachment is not None:
                    filename, _mime, content = reply.attachment
                    await bot.send_document(
                        chat_id, InputFile(content, filename=filename), caption=reply.text[:1024] or None
                    )
                    continue
                await bot.send_message(
                    chat_id, reply.text[:MAX_TEXT], reply_markup=self._markup(chat_id, reply)
                )
        except Forbidden:
            log.info("telegram reply not delivered: the chat blocked the bot")
            if self.on_blocked is not None:
                await self.on_blocked(str(chat_id), True)

    def _markup(
        self, chat_id: int, reply: Reply
    ) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
        """Inline buttons; or, to ask for the patient's contact, a one-time keyboard whose other buttons
        type their option's label; and that keyboard taken away by the next reply that can."""
        if reply.ask_contact:
            self._keyboards.add(chat_id)
            rows = [[KeyboardButton(reply.ask_contact, request_contact=True)]]
            rows += [[KeyboardButton(option.label)] for option in reply.options]
            return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
        if reply.options:
            rows = [[InlineKeyboardButton(o.label, callback_data=o.key)] for o in reply.options]
            return InlineKeyboardMarkup(rows)
        if chat_id in self._keyboards:
            self._keyboards.discard(chat_id)
            return ReplyKeyboardRemove()
        return None

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        kind = type(error).__name__ if error is not None else "unknown"
        if isinstance(error, TelegramError):
            log.warning("telegram error while handling an update: %s", kind)
        else:
            log.error("error while handling a telegram update: %s", kind, exc_info=error)


class _ChatTurns:
    """One FIFO lock per chat, held from a step to its last reply sent, dropped when nobody waits.

    Updates are handled concurrently (`concurrency`); without it, a tap's `answerCallbackQuery` let a text
    sent right after it reach the dialog first (the answer was lost), and a reply held back by a 429 could
    arrive after the reply to the next message.
    """

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users == 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


def _shared_phone(message: Message) -> str | None:
    """The number of a shared contact. The user's own (their Telegram account's number, as the "share my
    number" button sends it) is international but comes without "+": read in the patient's country it was
    refused, or taken as a local number, whenever it belonged to another country."""
    contact = message.contact
    if contact is None:
        return None
    number = contact.phone_number.strip()
    own = message.from_user is not None and contact.user_id == message.from_user.id
    if own and number[:1].isdigit():
        number = "+" + number
    return number


def _text_and_payload(message: Message) -> tuple[str | None, str | None]:
    """The text of a message (None for stickers, photos, voice...), and a /start deep-link payload."""
    text = message.text
    if text is None:
        return None, None
    if text.startswith("/start"):
        parts = text.split(maxsplit=1)
        if parts[0].split("@", 1)[0] == "/start":
            return "/start", parts[1].strip() if len(parts) > 1 else None
    return text, None
