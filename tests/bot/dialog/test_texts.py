"""The dialog's sentences, its command list, and the packages it may import."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.dialog import COMMANDS
from bot.dialog.texts import LANGUAGES

DIALOG = Path(__file__).resolve().parents[3] / "bot" / "dialog"


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_sentences_and_placeholders() -> None:
    english, spanish = LANGUAGES["en"], LANGUAGES["es"]
    assert set(english) == set(spanish)
    for key in english:
        assert _placeholders(english[key]) == _placeholders(spanish[key]), key
        assert english[key].strip() and spanish[key].strip(), key


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_command_list_fits_telegrams_set_my_commands(language: str) -> None:
    commands = COMMANDS[language]
    assert [name for name, _ in commands] == [name for name, _ in COMMANDS["en"]]
    for name, description in commands:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 3 <= len(description) <= 256
    assert {"next", "done", "reschedule", "learn", "pause", "resume", "stop", "delete", "language", "help",
            "calendar"} <= {name for name, _ in commands}  # fmt: skip


def test_no_sentence_gives_a_dose_amount() -> None:
    for table in LANGUAGES.values():
        for key, text in table.items():
            assert not re.search(r"\d+\s*mg\b", text), key  # never individual dosing advice


def test_the_dialog_imports_no_jobs_admin_or_composition_root() -> None:
    for path in DIALOG.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("jobs", "admin", "ocrebot"), f"{path.name} imports {name}"


def test_no_dialog_module_is_over_400_lines() -> None:
    for path in DIALOG.rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name
