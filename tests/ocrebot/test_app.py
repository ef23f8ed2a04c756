"""The app's lifespan opens the services; /healthz and /readyz say what works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from ocrebot.app import create_app
from ocrebot.settings import load_settings
from storage.migrate import upgrade_async


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_ready_when_the_database_answers_and_the_scheduler_runs(clean_env: Path) -> None:
    url = f"sqlite+aiosqlite:///{clean_env / 'data' / 'ocrebot.db'}"
    await upgrade_async(url)
    app = create_app(load_settings(env_file=None, database_url=url))
    async with serving(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "scheduler": "ok"}
        front = await client.get("/")
        assert "telegram channel off" in front.text
        app.state.services.scheduler.shutdown(wait=False)
        stopped = await client.get("/readyz")
        assert stopped.status_code == 503
        assert stopped.json()["checks"]["scheduler"] == "not running"


async def test_not_ready_when_the_database_is_unreachable(clean_env: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    app = create_app(load_settings(env_file=None, database_url=url))
    async with serving(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("failed: ")
        assert "nobody" not in ready.text
