"""A dispatcher worker process for the reliability tests: `python -m tests.reliability.worker ...`.

Builds what `ocrebot run` builds for sending (engine, `Dispatcher`, `TelegramSender` on a real PTB `Bot`,
APScheduler with `jobs.wakeup`) against a Bot API at `--base-url` (the test's `FakeTelegram`), renders each
row as "reliability #<row id>", and runs until killed, or with `--until-done` until no row is pending or
claimed, then stops cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Option
from bot.channels.telegram_out import TelegramSender, create_bot
from care.clock import SystemClock
from care.plan import load_plan
from jobs import wakeup
from jobs.dispatcher import Dispatcher
from jobs.scheduler import create_scheduler
from storage.db import create_engine, session_factory
from storage.models import Channel, MessageStatus, Patient, ScheduledMessage
from storage.outbox import ClaimedMessage

TEXT_PREFIX = "reliability #"


@dataclass(frozen=True)
class Rendered:
    text: str
    options: tuple[Option, ...] = ()


async def render(
    session: AsyncSession, message: ClaimedMessage, patient: Patient, channel: Channel
) -> Rendered:
    """The row id in the text, so the fake's log tells which row each message was."""
    return Rendered(f"{TEXT_PREFIX}{message.id}")


async def _unfinished(sessions: object) -> int:
    async with sessions() as session, session.begin():  # type: ignore[operator]
        return int(
            await session.scalar(
                select(func.count()).where(
                    ScheduledMessage.status.in_((MessageStatus.PENDING, MessageStatus.CLAIMED))
                )
            )
        )


async def run(args: argparse.Namespace) -> None:
    """Runs the worker until killed or, with --until-done, until nothing is left to send."""
    engine = create_engine(args.database_url)
    sessions = session_factory(engine)
    clock = SystemClock()
    scheduler = create_scheduler()
    async with create_bot(args.token, args.base_url) as bot:
        sender = TelegramSender(
            bot,
            overall_per_s=args.overall_per_s,
            overall_burst=args.overall_per_s,
            chat_per_s=args.chat_per_s,
            chat_burst=3,
        )
        dispatcher = Dispatcher(
            sessions,
            {Channel.TELEGRAM: sender},
            load_plan(),
            render,
            clock,
            args.worker_id,
            batch_size=args.batch_size,
            lease_s=args.lease_s,
            backoff_s=args.backoff_s,
        )
        scheduler.start()
        wake = wakeup.install(scheduler, dispatcher, clock, tick_s=args.tick_s)
        print("worker ready", flush=True)  # noqa: T201 - the test waits for it
        while not args.until_done or await _unfinished(sessions):  # noqa: ASYNC110 - rows in the database
            await asyncio.sleep(0.2)
        await wake.stop()
        scheduler.shutdown(wait=False)
    await engine.dispose()


def main() -> None:
    """Parses the arguments and runs."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.worker")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--lease-s", type=float, default=3.0)
    parser.add_argument("--backoff-s", type=float, default=30.0)
    parser.add_argument("--tick-s", type=float, default=0.5)
    parser.add_argument("--overall-per-s", type=float, default=30.0)
    parser.add_argument("--chat-per-s", type=float, default=1.0)
    parser.add_argument("--until-done", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
