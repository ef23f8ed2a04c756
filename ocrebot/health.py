"""Liveness, readiness and the front page a newcomer sees after `make run`."""

from __future__ import annotations

import asyncio
import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from storage.db import ping

router = APIRouter()

READY_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and the scheduler runs; 503 naming what does not."""
    services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(ping(services.engine), READY_TIMEOUT_S)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the type is enough, no URL or data
        checks["database"] = f"failed: {type(exc).__name__}"
    checks["scheduler"] = "ok" if services.scheduler.running else "not running"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index(request: Request) -> HTMLResponse:
    """A short page saying the service runs and which channels are on."""
    settings = request.app.state.services.settings
    items = "".join(f"<li>{html.escape(line)}</li>" for line in settings.channel_report())
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>ocrebot</title>"
        "<h1>ocrebot is running</h1>"
        f"<ul>{items}</ul>"
        '<p><a href="/readyz">readiness</a> · <a href="/api/docs">API docs</a></p></html>'
    )
