"""The composition root: builds every long-lived resource from the settings, and closes them in reverse.

Nothing is created at import; `start_services` is awaited inside the running loop (the app's lifespan).
Start order: database and plan, the dialog engine, the outbound senders, the dispatcher, the scheduler and
its wake-up jobs, then the inbound channels (so nothing arrives before what answers it is ready).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.error import InvalidToken, TelegramError

from bot.channels.base import Sender
from bot.channels.telegram_in import TelegramChannel
from bot.channels.telegram_out import TelegramSender, create_bot
from bot.channels.web import WebSender
from bot.dialog import COMMANDS, DialogEngine
from care.clock import Clock, SystemClock
from care.plan import ReminderPlan, load_plan
from care.triage import load_policy
from jobs import wakeup
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from jobs.scheduler import create_scheduler
from ocrebot.settings import Settings
from storage import patients
from storage.db import create_engine, redact_url, session_factory
from storage.models import AddressState, Channel

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A resource the settings ask for could not start; the message is one line, with no secret."""


@dataclass
class Services:
    """What the running service holds. `telegram` is None when the channel is off."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    plan: ReminderPlan
    scheduler: AsyncIOScheduler
    dialog: DialogEngine
    dispatcher: Dispatcher
    senders: dict[Channel, Sender]
    wakeup: wakeup.Wakeup | None = None
    telegram: TelegramChannel | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    closed: bool = field(default=False)

    async def aclose(self) -> None:
        """Stops the channels, the scheduler and the senders, then closes the database; safe twice."""
        if self.closed:
            return
        self.closed = True
        await self._stack.aclose()


async def start_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """Builds and starts everything; on any failure closes what already started and raises."""
    clock = clock or SystemClock()
    plan = load_plan(settings.reminder_plan_file)
    stack = AsyncExitStack()
    services: Services | None = None
    try:
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        sessions = session_factory(engine)
        dialog = DialogEngine(
            sessions,
            plan,
            clock,
            default_timezone=settings.default_timezone,
            default_language=settings.default_language,
        )
        senders: dict[Channel, Sender] = {Channel.WEB: WebSender()}
        if settings.telegram_enabled:
            senders[Channel.TELEGRAM] = await _telegram_sender(settings, stack)
        renderer = OutboxRenderer(clock, load_policy(), settings.default_emergency_number)
        dispatcher = Dispatcher(sessions, senders, plan, renderer, clock, _worker_id())
        scheduler = create_scheduler()
        scheduler.start()
        stack.callback(_shutdown_scheduler, scheduler)
        # Runs before the scheduler stops: its shutdown would cancel a run in progress mid-send.
        stack.push_async_callback(_finish_dispatching, lambda: services and services.wakeup)
        services = Services(
            settings=settings,
            clock=clock,
            engine=engine,
            sessions=sessions,
            plan=plan,
            scheduler=scheduler,
            dialog=dialog,
            dispatcher=dispatcher,
            senders=senders,
            _stack=stack,
        )
        services.wakeup = wakeup.install(scheduler, dispatcher, clock)
        if settings.telegram_enabled:
            services.telegram = await _telegram_channel(settings, dialog, services, stack)
    except BaseException:
        await stack.aclose()
        raise
    log.info("database %s", redact_url(settings.database_url))
    for line in settings.channel_report():
        log.info("%s", line)
    return services


async def _telegram_sender(settings: Settings, stack: AsyncExitStack) -> TelegramSender:
    assert settings.telegram_bot_token is not None
    bot = create_bot(settings.telegram_bot_token, settings.telegram_api_base_url)
    stack.push_async_callback(bot.shutdown)  # a no-op on a bot that never initialized
    await _telegram_call("the outbound bot", bot.initialize())
    return TelegramSender(bot)


async def _telegram_channel(
    settings: Settings, dialog: DialogEngine, services: Services, stack: AsyncExitStack
) -> TelegramChannel:
    assert settings.telegram_bot_token is not None

    async def on_blocked(chat_id: str, blocked: bool) -> None:
        state = AddressState.BLOCKED if blocked else AddressState.ACTIVE
        now = services.clock.now()
        async with services.sessions() as session, session.begin():
            changed = await patients.set_state_of(session, Channel.TELEGRAM, chat_id, state, now)
        if changed:
            log.info("a telegram address is now %s", state.value)

    channel = TelegramChannel(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        step=dialog.step,
        commands=COMMANDS,
        on_blocked=on_blocked,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
    )
    stack.push_async_callback(channel.stop)  # stops only what started
    await _telegram_call("the channel", channel.start())
    return channel


async def _telegram_call(what: str, call: object) -> None:
    try:
        await call  # type: ignore[misc]
    except InvalidToken:
        raise StartupError("TELEGRAM_BOT_TOKEN: Telegram does not accept this token") from None
    except TelegramError as exc:
        raise StartupError(f"telegram: {what} could not start: {type(exc).__name__}") from None


async def _finish_dispatching(current: Callable[[], wakeup.Wakeup | None]) -> None:
    running = current()
    if running is not None:
        await running.stop()


def _shutdown_scheduler(scheduler: AsyncIOScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]
