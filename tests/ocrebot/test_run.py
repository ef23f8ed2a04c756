"""The console script as a newcomer meets it: migrate, run, answer, stop on a signal."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request

from tests.ocrebot.conftest import OCREBOT, free_port

SHUTDOWN_LIMIT_S = 5.0


def _wait_for_health(port: int, process: subprocess.Popen[str], timeout_s: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as reply:  # noqa: S310
                return {"status": reply.status, "body": reply.read().decode()}
        except OSError:
            time.sleep(0.1)
    raise AssertionError("ocrebot run never answered /healthz")


def test_migrate_then_run_answers_healthz_and_stops_on_sigterm_within_5_s(
    subprocess_env: dict[str, str],
) -> None:
    migrate = subprocess.run([OCREBOT, "migrate"], env=subprocess_env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    env = subprocess_env | {"HTTP_PORT": str(port)}
    with subprocess.Popen(
        [OCREBOT, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            health = _wait_for_health(port, proc)
            assert health["status"] == 200
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=SHUTDOWN_LIMIT_S + 5)
            elapsed = time.monotonic() - started
        finally:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert elapsed < SHUTDOWN_LIMIT_S
    assert stderr.count("telegram channel off") == 1
    assert stderr.count("sms channel off") == 1
    assert "/healthz" not in stderr  # no access log: paths and queries can name patients
    records = [json.loads(line) for line in stderr.splitlines()]  # every line is one JSON object
    assert {"event", "level", "timestamp", "logger"} <= set(records[0])
    assert any(r["logger"] == "ocrebot.services" and r["event"].startswith("role all") for r in records)


def test_run_refuses_an_unmigrated_database_with_one_line(subprocess_env: dict[str, str]) -> None:
    run = subprocess.run([OCREBOT, "run"], env=subprocess_env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert run.stderr.strip() == "ocrebot: the database is not migrated: run `ocrebot migrate` first"


def test_a_wrong_setting_stops_start_up_with_one_line_and_exit_2(subprocess_env: dict[str, str]) -> None:
    env = subprocess_env | {"HTTP_PORT": "eighty"}
    for command in ("run", "migrate"):
        result = subprocess.run([OCREBOT, command], env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ocrebot: configuration error: HTTP_PORT: ")


def test_no_command_prints_usage_and_exits_2(subprocess_env: dict[str, str]) -> None:
    result = subprocess.run([OCREBOT], env=subprocess_env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "usage: ocrebot" in result.stderr
    unknown = subprocess.run([OCREBOT, "fly"], env=subprocess_env, capture_output=True, text=True, timeout=30)
    assert unknown.returncode == 2
