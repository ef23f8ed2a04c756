"""The FastAPI application and the lifespan that owns every long-lived resource."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from admin import web as console
from care.clock import Clock
from ocrebot import hardening, health, logs, metrics, twilio_webhooks, webhooks
from ocrebot.roles import Role
from ocrebot.services import start_services
from ocrebot.settings import Settings


def create_app(
    settings: Settings, *, clock: Clock | None = None, role: Role = "all", freeze_gc: bool = False
) -> FastAPI:
    """Build the HTTP app; its lifespan opens the services on start and closes them on shutdown.

    freeze_gc: once started, move every object made so far out of the cyclic GC's scans (`gc.freeze`), so a
    full collection during a burst walks only what the burst made (the process, not tests, asks for it).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await start_services(settings, clock=clock, role=role)
        app.state.services = services
        console.start_sandbox(app, settings)
        if freeze_gc:
            gc.freeze()
        try:
            yield
        finally:
            await services.aclose()

    app = FastAPI(
        title="ocrebot",
        lifespan=lifespan,
        docs_url=None,  # served by the console, behind sign-in
        redoc_url=None,
        openapi_url=None,
    )
    app.include_router(health.router)
    app.include_router(webhooks.router)
    app.include_router(twilio_webhooks.router)
    # Before the metrics and request-id layers, so they wrap it: 413 and 429 answers are counted and carry a
    # request id, and a body read past its limit raises inside the route, where it becomes a 413.
    hardening.install(app, settings)
    metrics.install(app)
    logs.install_request_ids(app)
    console.install(app, settings)
    return app
