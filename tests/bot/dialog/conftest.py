"""Fixtures for the dialog: a fake clock, the default plan, an engine on the test database, chats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog import DialogEngine
from care.clock import FakeClock
from care.plan import ReminderPlan, load_plan
from tests.bot.dialog.helpers import START, Chat


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def plan() -> ReminderPlan:
    return load_plan()


@pytest.fixture
def dialog(sessions: async_sessionmaker[AsyncSession], plan: ReminderPlan, clock: FakeClock) -> DialogEngine:
    return DialogEngine(sessions, plan, clock, default_timezone="UTC", default_language="en")


@pytest.fixture
def chat(dialog: DialogEngine) -> Chat:
    return Chat(dialog)


@pytest.fixture
def make_chat(dialog: DialogEngine) -> Callable[..., Chat]:
    def make(address: str, **fields: Any) -> Chat:
        return Chat(dialog, address=address, **fields)

    return make
