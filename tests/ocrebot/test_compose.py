"""docker-compose.yml and the Dockerfile: no engine runs here, so their structure is what we check."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_postgres_16_keeps_its_data_in_a_named_volume_and_has_a_healthcheck() -> None:
    db = _compose()["services"]["db"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in _compose()["volumes"]


def test_the_app_is_built_here_migrates_on_start_and_waits_for_a_healthy_database() -> None:
    app = _compose()["services"]["app"]
    assert app["build"] == "."
    assert app["env_file"] == ".env"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "ocrebot migrate" in " ".join(app["command"])
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_workers_scale_out_beside_one_web_process_once_it_has_migrated() -> None:
    services = _compose()["services"]
    assert services["app"]["command"][-1].endswith("ocrebot run --role web")
    worker = services["worker"]
    assert worker["command"] == ["ocrebot", "run", "--role", "worker"]
    assert worker["depends_on"]["app"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])
    assert "ports" not in worker  # any number of them: no host port to fight over
    assert worker["environment"]["DATABASE_URL"] == services["app"]["environment"]["DATABASE_URL"]


def test_no_secret_is_written_inline() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for match in re.finditer(r"(PASSWORD|TOKEN|SECRET|SID)[\w]*:\s*(\S+)", text):
        assert match.group(2).startswith("${"), match.group(0)
    assert "POSTGRES_PASSWORD}" in text


def test_the_container_runs_as_a_non_root_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
