"""What an operator deploying the service relies on: no secret in a default, every setting documented.

(The image running as a non-root user is checked in test_compose.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from ocrebot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"token|secret|password|passwd|auth|sid|key|credential", re.IGNORECASE)
PASSWORD_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")


def secret_defaults(model: type[BaseSettings]) -> list[str]:
    """The settings of `model` whose default holds a secret: a secret-named field not unset, or a URL
    with a password in it."""
    found = []
    for name, field in model.model_fields.items():
        default = field.default
        if SECRET_NAME.search(name) and default is not None:
            found.append(name)
        elif isinstance(default, str) and PASSWORD_IN_URL.search(default):
            found.append(name)
    return found


def test_no_setting_has_a_secret_by_default() -> None:
    assert secret_defaults(Settings) == []


def test_the_secret_check_catches_a_default_secret_and_a_password_in_a_default_url() -> None:
    class Leaky(Settings):
        session_secret: str | None = "s" * 40
        database_url: str = "postgresql+asyncpg://ocrebot:hunter2@db/ocrebot"

    assert sorted(secret_defaults(Leaky)) == ["database_url", "session_secret"]


def test_the_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in section]
    assert missing == [], f"README's Configuration table lacks {missing}"


def test_env_example_names_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    missing = [name.upper() for name in Settings.model_fields if f"# {name.upper()}=" not in example]
    assert missing == [], f".env.example lacks {missing}"


def test_the_readme_keeps_its_two_set_up_commands_first() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^    make \w+$", readme, re.MULTILINE)
    assert commands[:2] == ["    make run", "    make test"]
    assert readme.index("    make run") < readme.index("## Commands")
