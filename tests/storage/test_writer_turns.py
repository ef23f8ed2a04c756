"""Write turns on SQLite: one writer at a time, a waiting dialog step before waiting background work."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.db import create_engine
from storage.writer_turns import BACKGROUND, URGENT, WriterTurns, writer_turn


async def _take(turns: WriterTurns, name: str, priority: int, order: list[str], hold: asyncio.Event) -> None:
    async with turns.turn(priority):
        order.append(name)
        await hold.wait()


async def test_a_waiting_dialog_step_goes_before_waiting_background_writers_then_arrival_order() -> None:
    turns = WriterTurns()
    order: list[str] = []
    release = asyncio.Event()
    release.set()
    first_holds = asyncio.Event()
    holder = asyncio.create_task(_take(turns, "holder", BACKGROUND, order, first_holds))
    await asyncio.sleep(0)
    waiters = [
        asyncio.create_task(_take(turns, "background 1", BACKGROUND, order, release)),
        asyncio.create_task(_take(turns, "background 2", BACKGROUND, order, release)),
        asyncio.create_task(_take(turns, "reply", URGENT, order, release)),
    ]
    await asyncio.sleep(0.01)
    assert order == ["holder"]  # nobody else wrote while it held the turn
    first_holds.set()
    await asyncio.gather(holder, *waiters)
    assert order == ["holder", "reply", "background 1", "background 2"]


async def test_a_cancelled_waiter_is_skipped_and_the_turn_is_free_again() -> None:
    turns = WriterTurns()
    order: list[str] = []
    hold = asyncio.Event()
    free = asyncio.Event()
    free.set()
    holder = asyncio.create_task(_take(turns, "holder", BACKGROUND, order, hold))
    await asyncio.sleep(0)
    gone = asyncio.create_task(_take(turns, "gone", URGENT, order, free))
    later = asyncio.create_task(_take(turns, "later", BACKGROUND, order, free))
    await asyncio.sleep(0.01)
    gone.cancel()
    await asyncio.sleep(0)
    hold.set()
    await asyncio.gather(holder, later)
    assert gone.cancelled() and order == ["holder", "later"]
    async with asyncio.timeout(1):  # nothing holds it now
        async with turns.turn(BACKGROUND):
            pass


async def test_a_waiter_cancelled_just_as_it_is_handed_the_turn_passes_it_on() -> None:
    turns = WriterTurns()
    order: list[str] = []
    hold = asyncio.Event()
    free = asyncio.Event()
    free.set()
    holder = asyncio.create_task(_take(turns, "holder", BACKGROUND, order, hold))
    await asyncio.sleep(0)
    handed = asyncio.create_task(_take(turns, "handed", URGENT, order, free))
    after = asyncio.create_task(_take(turns, "after", BACKGROUND, order, free))
    await asyncio.sleep(0.01)
    hold.set()
    await asyncio.sleep(0)  # the holder releases: "handed" is granted but has not run yet
    handed.cancel()
    await asyncio.gather(holder, after, return_exceptions=True)
    assert handed.cancelled() and order == ["holder", "after"]


async def test_every_session_maker_of_one_sqlite_engine_shares_the_turns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    first, second = async_sessionmaker(engine), async_sessionmaker(engine)
    inside = asyncio.Event()
    let_go = asyncio.Event()

    async def hold() -> None:
        async with writer_turn(first, URGENT):
            inside.set()
            await let_go.wait()

    async def wait_for_turn() -> None:
        async with writer_turn(second):
            pass

    holder = asyncio.create_task(hold())
    await inside.wait()
    waiting = asyncio.create_task(wait_for_turn())
    await asyncio.sleep(0.01)
    assert not waiting.done()  # the other session maker's writer waits for its turn
    let_go.set()
    await holder
    await asyncio.wait_for(waiting, 1)
    await engine.dispose()


async def test_postgresql_takes_no_turns() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")  # opens no connection
    sessions = async_sessionmaker(engine)
    async with writer_turn(sessions, URGENT):
        async with asyncio.timeout(1):
            async with writer_turn(sessions):  # would wait forever if turns were taken
                pass
    await engine.dispose()
