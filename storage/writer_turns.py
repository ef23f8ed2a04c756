"""Turns at SQLite's single write lock for one process's transactions, a patient's dialog step first.

SQLite has one writer, and every transaction here takes the write lock at BEGIN (`storage.db`). SQLite's own
wait has no queue: a writer that finds the lock taken sleeps in the busy handler (1, 2, 5 ... 100 ms) and
tries again, so during a burst of dispatcher transactions a patient's /help waited behind them for hundreds
of milliseconds (burst bench: reply p99 268 ms on SQLite, 74 ms on PostgreSQL). The dialog engine and the
dispatcher, the two busy writers, take a turn here before they begin: waiting is in order, and a waiting
dialog step goes before any waiting background transaction. Other writers (jobs, the console) still wait in
SQLite's busy handler; they are rare. PostgreSQL locks rows, not the database: no turns there.
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

URGENT = 0  # a patient is waiting for the answer
BACKGROUND = 1  # the outbox and other scheduled work

_TURNS: WeakKeyDictionary[Engine, WriterTurns] = WeakKeyDictionary()


class WriterTurns:
    """One writer at a time; waiters are served by priority (URGENT first), then in arrival order."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def turn(self, priority: int = BACKGROUND) -> AsyncIterator[None]:
        """Waits for this writer's turn and holds it for the block."""
        if self._held:
            granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._order), granted))
            try:
                await granted
            except asyncio.CancelledError:
                if granted.done() and not granted.cancelled():  # handed the turn as it was cancelled
                    self._release()
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():  # a cancelled waiter is skipped
                granted.set_result(None)  # the turn passes on: still held
                return
        self._held = False


def writer_turn(
    sessions: async_sessionmaker[AsyncSession], priority: int = BACKGROUND
) -> AbstractAsyncContextManager[None]:
    """Returns the context that takes a write turn for `sessions`' SQLite engine (nothing on PostgreSQL)."""
    bind = sessions.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return nullcontext()
    engine = bind.sync_engine
    turns = _TURNS.get(engine)
    if turns is None:
        turns = _TURNS[engine] = WriterTurns()
    return turns.turn(priority)
