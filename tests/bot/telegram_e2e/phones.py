"""The phones of Telegram patients texting our Twilio webhook: the real router and dialog engine on the same
database, each post signed as Twilio signs it (`tests.ocrebot.twilio_app`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import FakeClock
from care.plan import ReminderPlan
from tests.fakes.twilio_api import FakeTwilio
from tests.ocrebot.twilio_app import SmsPhone, build_app, client_for, sms_settings


@asynccontextmanager
async def phones(
    sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock, twilio: FakeTwilio
) -> AsyncIterator[Callable[[str], SmsPhone]]:
    """Yields `phone(number)`: the phone with that number ("+34 6..." as typed at sign-up is fine)."""
    app = build_app(sessions, plan, clock, sms_settings(twilio_api_base_url=twilio.base_url))
    async with client_for(app) as http:
        yield lambda number: SmsPhone(http, twilio, number.replace(" ", ""))
