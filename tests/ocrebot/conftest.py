"""Fixtures for the composition root: a clean environment, free ports, the console script."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from ocrebot.settings import Settings

SETTING_NAMES = [name.upper() for name in Settings.model_fields]
OCREBOT = str(Path(sys.executable).with_name("ocrebot"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the caller's environment or `.env` leaks in; the cwd is an empty folder."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def subprocess_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The console script's environment: none of the caller's settings, a temp SQLite file and cwd."""
    monkeypatch.chdir(tmp_path)
    env = {key: value for key, value in os.environ.items() if key.upper() not in SETTING_NAMES}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'ocrebot.db'}"
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
