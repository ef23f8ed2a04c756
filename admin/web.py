"""Puts the operator console and the JSON API on the app: routers, static files, protected API docs.

`install(app, settings)` is the one call the composition root makes. The OpenAPI schema and its docs page
need a signed-in operator too (they describe patient data's shape and every route); the app is created with
FastAPI's own docs off and they are served here behind the same checks.
Must not import `ocrebot`.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from admin import api, csv_pages, operator_pages, pages, patient_forms, simulator
from admin.auth import Actor, Console, LoginRequired, api_actor, login_url, page_actor
from admin.rendering import create_templates
from admin.sandbox import Sandbox

STATIC_DIR = Path(__file__).with_name("static")


class ConsoleSettings(Protocol):
    """What the console reads from the service's settings (structural: `ocrebot.settings.Settings`)."""

    session_secret: str | None
    public_base_url: str
    default_timezone: str
    default_language: str
    default_emergency_number: str | None


def install(app: FastAPI, settings: ConsoleSettings) -> None:
    """Adds the console, the API and the protected docs to `app` (built with docs_url=openapi_url=None)."""
    app.state.console = Console.from_secret(settings.session_secret, settings.public_base_url)
    app.state.console_templates = create_templates(settings.default_timezone)
    app.include_router(csv_pages.router)  # first: its /patients/import paths must beat /patients/{id}
    app.include_router(operator_pages.router)
    app.include_router(patient_forms.router)  # before pages: its /patients/{id}/{action} would match first
    app.include_router(pages.router)
    app.include_router(simulator.router)
    app.include_router(api.router)
    from admin import exports  # GET /api/patients/{id}/export: one patient's data as a JSON file

    app.include_router(exports.router)
    app.include_router(_docs_router())
    app.mount("/admin/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    api.install_refusals(app)  # NotFound 404, Conflict 409: once for every route

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_path), status_code=303)


def start_sandbox(app: FastAPI, settings: ConsoleSettings) -> None:
    """Creates the simulator's sandbox runner once the services are up (called from the lifespan)."""
    services = app.state.services
    app.state.sandbox = Sandbox(
        services.sessions,
        services.plan,
        services.clock,
        default_timezone=settings.default_timezone,
        default_language=settings.default_language,
        default_emergency_number=settings.default_emergency_number,
        worker_id=f"simulator:{socket.gethostname()}:{os.getpid()}"[:64],
    )


def _docs_router():  # type: ignore[no-untyped-def]
    from fastapi import APIRouter

    router = APIRouter(include_in_schema=False)

    @router.get("/api/openapi.json")
    async def openapi(request: Request, actor: Annotated[Actor, Depends(api_actor)]) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @router.get("/api/docs")
    async def docs(request: Request, actor: Annotated[Actor, Depends(page_actor)]) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="ocrebot API")

    return router
