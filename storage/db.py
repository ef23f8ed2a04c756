"""The database engine: one `create_engine` for SQLite (aiosqlite) and PostgreSQL (asyncpg), sessions, ping.

Owns how connections are opened. SQLite gets WAL, foreign keys and a busy timeout on every connection, and
every transaction starts with `BEGIN IMMEDIATE`, so a transaction that reads then writes (a claim, a dialog
step) holds the single write lock from its first statement instead of failing with "database is locked"
when it upgrades a read lock (SQLAlchemy docs, "Transactions with SQLite and the sqlite3 driver").
Must not import `bot`, `jobs`, `admin` or `ocrebot`; nothing is created at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_S = 15.0


def create_engine(
    url: str,
    *,
    sqlite_foreign_keys: bool = True,
    sqlite_busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
    echo: bool = False,
) -> AsyncEngine:
    """Returns an async engine for `url`; opens no connection yet.

    url: a `sqlite+aiosqlite://` or `postgresql+asyncpg://` URL. A SQLite file's folder is created if missing.
    sqlite_foreign_keys: False only for migrations, which rebuild tables (SQLite's documented procedure).
    sqlite_busy_timeout_s: how long a SQLite writer waits for the write lock before "database is locked".
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, echo=echo, pool_pre_ping=True)
    _make_parent_folder(parsed)
    engine = create_async_engine(parsed, echo=echo, connect_args={"timeout": sqlite_busy_timeout_s})
    _configure_sqlite(
        engine, foreign_keys=sqlite_foreign_keys, busy_timeout_ms=int(sqlite_busy_timeout_s * 1000)
    )
    return engine


def _make_parent_folder(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory":
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would BEGIN lazily, DEFERRED, and only
        # before writes); `_on_begin` emits our own BEGIN. Pragmas must run outside a transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Returns the session maker for `engine`; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Runs `SELECT 1`; raises whatever the driver raises when the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def redact_url(url: str) -> str:
    """Returns `url` fit for a log line: the password masked, or a placeholder when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"
