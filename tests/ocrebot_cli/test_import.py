"""`ocrebot import FILE`: the console's CSV import from a terminal, with the same checks and outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.csv_io import COLUMNS
from ocrebot.cli import main
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.models import ActorType, AuditLog, Invite, Patient
from tests.ocrebot.conftest import SETTING_NAMES

SOON = (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%d 09:30")  # the CLI runs on the real clock
ROWS = [
    ",".join(COLUMNS),
    f"Ana Lopez,+34 600 111 333,es,Europe/Madrid,ES,iv,six_monthly,{SOON},Hospital Norte",
    "Bea Bad,600,xx,Europe/Madrid,,,,,",
]


@pytest.fixture
async def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in SETTING_NAMES:  # none of the caller's settings or .env leak in
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'ocrebot.db'}"
    await upgrade_async(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


async def _rows(url: str, model: type) -> list:  # type: ignore[type-arg]
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return list(await session.scalars(select(model)))
    finally:
        await engine.dispose()


async def test_errors_are_listed_and_nothing_is_imported_until_bad_rows_are_skipped(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    assert await asyncio.to_thread(main, ["import", str(path), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "line 3, phone: not a phone number" in err and "line 3, language: unknown language" in err
    assert await asyncio.to_thread(main, ["import", str(path)]) == 1
    assert "nothing was imported" in capsys.readouterr().err
    assert await _rows(cli_db, Patient) == []
    assert await asyncio.to_thread(main, ["import", str(path), "--skip-bad-rows"]) == 0
    out = capsys.readouterr()
    [invite] = await _rows(cli_db, Invite)
    assert out.out.splitlines() == ["name,phone,invite_code", f"Ana Lopez,'+34600111333,{invite.code}"]
    assert "1 patient imported, 1 bad row skipped." in out.err
    [patient] = await _rows(cli_db, Patient)
    assert patient.display_name == "Ana Lopez"
    [audit] = [row for row in await _rows(cli_db, AuditLog) if row.action == "patient.import"]
    assert (audit.actor_type, audit.detail) == (ActorType.SYSTEM, {"rows": 2, "imported": 1, "skipped": 1})


async def test_an_unreadable_or_missing_file_is_a_one_line_error(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\x00\x00")
    assert await asyncio.to_thread(main, ["import", str(path)]) == 2
    assert "binary data" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["import", str(tmp_path / "absent.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert await _rows(cli_db, Patient) == []
