"""One process at a time holds a role (polling Telegram): a PostgreSQL advisory lock, re-checked on a tick.

Owns the election only; what the role does is the two callbacks. On PostgreSQL the lock is a session lock
held on one dedicated connection: when the holder dies, PostgreSQL drops its connection and the lock with
it, and the next tick of another process takes over (so a takeover comes within one tick). A holder that
loses its connection gives the role up at its next tick. On SQLite (one process by design) the first
process to ask holds the role for good.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

TELEGRAM_POLLER_LOCK = 0x6F63_7265_0001  # "ocre" 1: the Telegram poller
Callback = Callable[[], Awaitable[None]]


class Leadership:
    """Holds the role named by `lock_key` when it can; `tick()` is the whole job, run every few seconds.

    on_gain: starts the role (called once per gain; if it raises, the lock is given back and the next
    tick tries again). on_lose: stops it (called once per loss, and by `release`).
    """

    def __init__(self, engine: AsyncEngine, lock_key: int, on_gain: Callback, on_lose: Callback) -> None:
        self._engine = engine
        self._key = lock_key
        self._on_gain = on_gain
        self._on_lose = on_lose
        self._connection: AsyncConnection | None = None
        self.leading = False

    @property
    def _shared(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def tick(self) -> None:
        """Takes the role when free, or checks that the lock is still held; never raises."""
        try:
            if self.leading:
                await self._still_held()
            else:
                await self._try_take()
        except Exception as exc:  # a lost database: give the role up, try again next tick
            log.warning("leadership check failed: %s", type(exc).__name__)
            await self._step_down()

    async def release(self) -> None:
        """Stops the role and gives the lock back (shutdown)."""
        await self._step_down()

    async def _try_take(self) -> None:
        if self._shared:
            connection = await self._engine.connect()
            taken = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            await connection.commit()  # the lock is the session's; no transaction stays open
            if not taken:
                await connection.close()
                return
            self._connection = connection
        self.leading = True
        log.info("this process now holds lock %s", self._key)
        try:
            await self._on_gain()
        except Exception as exc:
            log.error("could not start the role of lock %s: %s", self._key, type(exc).__name__)
            await self._step_down()

    async def _still_held(self) -> None:
        if self._connection is not None:
            await self._connection.scalar(text("SELECT 1"))
            await self._connection.commit()

    async def _step_down(self) -> None:
        was_leading, self.leading = self.leading, False
        connection, self._connection = self._connection, None
        try:
            if was_leading:
                await self._on_lose()
        finally:
            if connection is not None:
                try:
                    await connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                    await connection.commit()
                    await connection.close()
                except Exception:  # the connection is gone, and the lock went with it
                    await connection.invalidate()
        if was_leading:
            log.info("this process gave up lock %s", self._key)
