"""`ocrebot operator create|token`: accounts from the command line, passwords from stdin when piped."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.security import hash_api_token, verify_password
from ocrebot.operator_cli import main
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import ApiToken, AuditLog, Operator, OperatorRole
from tests.ocrebot.conftest import SETTING_NAMES


@pytest.fixture
async def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in SETTING_NAMES:  # none of the caller's settings or .env leak in
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'ocrebot.db'}"
    await upgrade_async(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def _run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


async def _rows(url: str, model: type) -> list:  # type: ignore[type-arg]
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return list(await session.scalars(select(model)))
    finally:
        await engine.dispose()


async def test_create_reads_the_password_from_stdin_and_token_prints_one_once(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create", "--email", "Boss@Clinic.example", "--role", "admin"]
    assert await _to_thread(_run, monkeypatch, argv, "a long enough secret\n") == 0
    [operator] = await _rows(cli_db, Operator)
    assert operator.email == "boss@clinic.example" and operator.role is OperatorRole.ADMIN
    assert verify_password(operator.password_hash, "a long enough secret")
    assert await _to_thread(_run, monkeypatch, ["token", "--email", "boss@clinic.example"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    [stored] = await _rows(cli_db, ApiToken)
    assert stored.token_hash == hash_api_token(token)
    assert [row.action for row in await _rows(cli_db, AuditLog)] == ["operator.create", "api_token.create"]


async def test_short_passwords_duplicates_and_unknown_emails_are_one_line_errors(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["create", "--email", "a@clinic.example", "--role", "viewer"]
    assert await _to_thread(_run, monkeypatch, argv, "short\n") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert await _to_thread(_run, monkeypatch, argv, "long enough password\n") == 0
    assert await _to_thread(_run, monkeypatch, argv, "long enough password\n") == 2
    assert "exists" in capsys.readouterr().err
    assert await _to_thread(_run, monkeypatch, ["token", "--email", "nobody@clinic.example"]) == 2
    assert "no active operator" in capsys.readouterr().err


async def _to_thread(func, *args):  # type: ignore[no-untyped-def]
    """The CLI runs its own event loop (asyncio.run), so it runs off this test's loop."""
    import asyncio

    return await asyncio.to_thread(func, *args)
