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
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.channels.base import Sender
from bot.channels.ops_telegram import build_alerter
from bot.channels.sms import STATUS_CALLBACK_PATH, SmsSender
from bot.channels.telegram_in import TelegramChannel
from bot.channels.telegram_out import TelegramSender, create_bot
from bot.channels.web import WebSender
from bot.dialog import COMMANDS, DialogEngine
from care.clock import Clock, SystemClock
from care.plan import ReminderPlan, load_plan
from care.triage import load_policy
from jobs import followups, retention, tips, wakeup
from jobs.dispatcher import Dispatcher
from jobs.leader import TELEGRAM_POLLER_LOCK, Leadership
from jobs.render import OutboxRenderer
from jobs.scheduler import create_scheduler
from ocrebot.roles import ROLES, Role
from ocrebot.settings import Settings
from storage import reachability
from storage.db import create_engine, redact_url, session_factory
from storage.models import AddressState, Channel

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A resource the settings ask for could not start; the message is one line, with no secret."""


@dataclass
class Services:
    """What the running service holds."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    plan: ReminderPlan
    scheduler: AsyncIOScheduler
    dialog: DialogEngine
    dispatcher: Dispatcher | None  # None in the web role
    senders: dict[Channel, Sender]
    role: Role = "all"
    wakeup: wakeup.Wakeup | None = None
    telegram: TelegramChannel | None = None  # None when off, or while another process polls
    telegram_poller: Leadership | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    closed: bool = field(default=False)

    async def aclose(self) -> None:
        """Stops the channels, the scheduler and the senders, then closes the database; safe twice."""
        if self.closed:
            return
        self.closed = True
        await self._stack.aclose()


async def start_services(
    settings: Settings, *, clock: Clock | None = None, role: Role = "all", leader_tick_s: float = 10.0
) -> Services:
    """Builds and starts everything `role` runs; on any failure closes what already started and raises.

    role: "web" answers HTTP (webhooks, console) and sends nothing scheduled; "worker" dispatches the outbox
    and may poll Telegram; "all" is both (one process, the default). Polling is one process's job at a time
    (`jobs.leader`, checked every `leader_tick_s`); in webhook mode every web process takes updates.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    clock = clock or SystemClock()
    plan = load_plan(settings.reminder_plan_file)
    stack = AsyncExitStack()
    services: Services | None = None
    works = role in ("worker", "all")
    try:
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        sessions = session_factory(engine)
        policy = load_policy()
        alerter = build_alerter(await _ops_bot(settings, stack), settings.ops_telegram_chat_id)
        dialog = DialogEngine(
            sessions,
            plan,
            clock,
            default_timezone=settings.default_timezone,
            default_language=settings.default_language,
            alerter=alerter,
            triage_policy=policy,
            default_emergency_number=settings.default_emergency_number,
            sms_enabled=settings.sms_enabled,
        )
        senders: dict[Channel, Sender] = {Channel.WEB: WebSender()}
        if settings.telegram_enabled and works:
            senders[Channel.TELEGRAM] = await _telegram_sender(settings, stack)
        if settings.sms_enabled and works:
            senders[Channel.SMS] = _sms_sender(settings, stack)
        renderer = OutboxRenderer(clock, policy, settings.default_emergency_number)
        dispatcher = Dispatcher(sessions, senders, plan, renderer, clock, _worker_id()) if works else None
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
            role=role,
            _stack=stack,
        )
        if dispatcher is not None:
            services.wakeup = wakeup.install(scheduler, dispatcher, clock)
            retention.install(scheduler, sessions, clock, settings.message_retention_days)
            followups.install(scheduler, sessions, clock, alerter, quiet_hours=plan.quiet_hours)
            tips.install(scheduler, sessions, clock, quiet_hours=plan.quiet_hours, slot=plan.tip_slot)
        if settings.telegram_enabled and settings.telegram_webhook_url and role in ("web", "all"):
            services.telegram = await _telegram_channel(settings, dialog, services, stack)
        elif settings.telegram_enabled and not settings.telegram_webhook_url and works:
            await _elect_telegram_poller(settings, dialog, services, stack, leader_tick_s)
    except BaseException:
        await stack.aclose()
        raise
    log.info("role %s, database %s", role, redact_url(settings.database_url))
    for line in settings.channel_report():
        log.info("%s", line)
    return services


async def _elect_telegram_poller(
    settings: Settings, dialog: DialogEngine, services: Services, stack: AsyncExitStack, tick_s: float
) -> None:
    """Polls Telegram from this process while it holds the poller lock; one process at a time."""
    inner = AsyncExitStack()

    async def gain() -> None:
        services.telegram = await _telegram_channel(settings, dialog, services, inner)

    async def lose() -> None:
        services.telegram = None
        await inner.aclose()

    leadership = Leadership(services.engine, TELEGRAM_POLLER_LOCK, gain, lose)
    services.telegram_poller = leadership
    stack.push_async_callback(leadership.release)
    await leadership.tick()
    services.scheduler.add_job(
        leadership.tick,
        "interval",
        seconds=tick_s,
        id="telegram-poller-election",
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )


async def _ops_bot(settings: Settings, stack: AsyncExitStack) -> Bot | None:
    """The bot that alerts staff in OPS_TELEGRAM_CHAT_ID, or None (alerts then only reach the log)."""
    if settings.telegram_bot_token is None or settings.ops_telegram_chat_id is None:
        if settings.ops_telegram_chat_id is not None:
            log.warning(
                "OPS_TELEGRAM_CHAT_ID is set but TELEGRAM_BOT_TOKEN is not: alerts go to the log only"
            )
        return None
    bot = create_bot(settings.telegram_bot_token, settings.telegram_api_base_url)
    stack.push_async_callback(bot.shutdown)
    await _telegram_call("the ops alert bot", bot.initialize())
    return bot


def _sms_sender(settings: Settings, stack: AsyncExitStack) -> SmsSender:
    assert settings.twilio_account_sid is not None and settings.twilio_auth_token is not None
    sender = SmsSender(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base_url=settings.twilio_api_base_url,
        status_callback_url=settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH,
    )
    stack.push_async_callback(sender.aclose)
    return sender


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
        cause = f"telegram: the patient {'blocked' if blocked else 'unblocked'} the bot"
        async with services.sessions() as session, session.begin():
            changed, _ = await reachability.set_state_of(
                session, Channel.TELEGRAM, chat_id, state, now, cause
            )
        if changed:
            log.info("a telegram address is now %s", state.value)

    sender = services.senders.get(Channel.TELEGRAM)
    channel = TelegramChannel(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        # Replies share the outbox's budget of Telegram's overall limit, and go first.
        rate_limiter=sender.replies_first() if isinstance(sender, TelegramSender) else None,
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
