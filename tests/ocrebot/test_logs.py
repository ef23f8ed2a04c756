"""Logs are JSON lines carrying the request's id; the id is echoed to the caller."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from ocrebot import logs
from ocrebot.app import create_app
from ocrebot.settings import load_settings
from storage.migrate import upgrade_async
from tests.ocrebot.test_app import serving


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    logs.configure(stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def _app_with_a_logging_route(url: str) -> FastAPI:
    app = create_app(load_settings(env_file=None, database_url=url))

    async def shout() -> dict[str, str]:
        logging.getLogger("ocrebot.test").info("handled %s", "a thing")
        return {"ok": "yes"}

    app.add_api_route("/shout", shout)
    return app


async def test_each_line_is_json_with_the_request_id(captured: io.StringIO, clean_env: Path) -> None:
    url = f"sqlite+aiosqlite:///{clean_env / 'ocrebot.db'}"
    await upgrade_async(url)
    app = _app_with_a_logging_route(url)
    async with serving(app) as client:
        given = await client.get("/shout", headers={"X-Request-ID": "abc-123"})
        fresh = await client.get("/shout")
        forged = await client.get("/shout", headers={"X-Request-ID": "<script>"})

    assert given.headers["X-Request-ID"] == "abc-123"
    assert len(fresh.headers["X-Request-ID"]) == 16
    assert forged.headers["X-Request-ID"] != "<script>"
    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    handled = [r for r in records if r["logger"] == "ocrebot.test"]
    assert [r["event"] for r in handled] == ["handled a thing"] * 3
    assert [r["request_id"] for r in handled] == [
        "abc-123",
        fresh.headers["X-Request-ID"],
        forged.headers["X-Request-ID"],
    ]
    assert all(r["level"] == "info" and r["timestamp"].endswith("Z") for r in handled)
    assert not any("request_id" in r for r in records if r["logger"] == "ocrebot.services")


def test_a_job_run_carries_its_job_name_and_a_run_id(captured: io.StringIO) -> None:
    with logs.job_context("retention"):
        logging.getLogger("jobs.retention").info("blanked %s", 3)
    logging.getLogger("jobs.retention").info("outside")
    inside, outside = (json.loads(line) for line in captured.getvalue().splitlines())
    assert (inside["job"], len(inside["run_id"]), inside["event"]) == ("retention", 12, "blanked 3")
    assert "job" not in outside
