"""Roles: a web process sends nothing scheduled; one worker at a time polls Telegram; another takes over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from care.clock import FakeClock
from ocrebot.services import Services, start_services
from ocrebot.settings import Settings, load_settings
from tests.bot.dialog.helpers import START
from tests.fakes.telegram_api import FakeTelegram

TICK_S = 0.2


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


def _settings(database_url: str, fake: FakeTelegram) -> Settings:
    return load_settings(
        env_file=None,
        database_url=database_url,
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
    )


async def test_the_web_role_answers_but_neither_dispatches_nor_polls(
    engine: AsyncEngine, database_url: str, fake: FakeTelegram, clean_env: Path
) -> None:
    services = await start_services(_settings(database_url, fake), clock=FakeClock(START), role="web")
    try:
        assert services.dispatcher is None and services.wakeup is None
        assert services.telegram is None and services.telegram_poller is None
        assert services.scheduler.get_jobs() == []
    finally:
        await services.aclose()
    assert not any(call.method == "getUpdates" for call in fake.calls)


async def test_an_unknown_role_is_refused(engine: AsyncEngine, database_url: str, clean_env: Path) -> None:
    settings = load_settings(env_file=None, database_url=database_url)
    with pytest.raises(ValueError, match="role must be one of web, worker, all"):
        await start_services(settings, role="cook")  # type: ignore[arg-type]


async def test_one_worker_polls_and_another_takes_over_when_it_stops(
    engine: AsyncEngine, database_url: str, fake: FakeTelegram, clean_env: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers share one PostgreSQL database; SQLite runs one process")
    settings = _settings(database_url, fake)
    workers: list[Services] = []
    try:
        for _ in range(3):
            workers.append(
                await start_services(settings, clock=FakeClock(START), role="worker", leader_tick_s=TICK_S)
            )
        polling = [w for w in workers if w.telegram is not None]
        assert len(polling) == 1
        first = polling[0]
        assert first.telegram_poller is not None and first.telegram_poller.leading

        await first.aclose()
        rest = [w for w in workers if w is not first]
        deadline = asyncio.get_running_loop().time() + 10 * TICK_S + 2
        while not any(w.telegram is not None for w in rest):
            assert asyncio.get_running_loop().time() < deadline, "nobody took over polling"
            await asyncio.sleep(TICK_S / 4)
        await asyncio.sleep(3 * TICK_S)
        assert sum(w.telegram is not None for w in rest) == 1
        fake.push_text(777, "hello")
        await asyncio.sleep(0)
        deadline = asyncio.get_running_loop().time() + 5
        while not any(int(m["chat_id"]) == 777 for m in fake.sent):
            assert asyncio.get_running_loop().time() < deadline, "the new poller never answered"
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            await worker.aclose()


async def test_on_sqlite_the_single_process_polls(
    engine: AsyncEngine, database_url: str, fake: FakeTelegram, clean_env: Path
) -> None:
    services = await start_services(_settings(database_url, fake), clock=FakeClock(START), role="all")
    try:
        assert services.telegram is not None
        assert services.telegram_poller is not None and services.telegram_poller.leading
    finally:
        await services.aclose()
    assert services.telegram is None  # stepped down on shutdown
