"""Logging for the service: one JSON object per line, with the request or job id it happened under.

Every module keeps using the standard `logging` module; structlog's formatter renders each record with the
context bound for the current request (`request_id`) or job (`job`, `run_id`). What our code logs is ids,
kinds and counts, never a name, a number or a message text (tests check the dialog and the dispatcher).
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import TextIO

import structlog
from fastapi import FastAPI, Request, Response

REQUEST_ID_HEADER = "X-Request-ID"
_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(*, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Sends every log record, ours and the libraries', to `stream` (stderr) as JSON lines."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def install_request_ids(app: FastAPI) -> None:
    """Binds a request id (the caller's X-Request-ID when sane, else a new one) to every log line."""

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if given.isascii() and given.replace("-", "").isalnum() and len(given) <= 64 else ""
        rid = rid or uuid.uuid4().hex[:16]
        with structlog.contextvars.bound_contextvars(request_id=rid):
            response = await call_next(request)
        response.headers[REQUEST_ID_HEADER] = rid
        return response


def job_context(job: str) -> AbstractContextManager[None]:
    """Binds `job` and a fresh `run_id` to the log lines of one job run: `with job_context("retention"):`."""
    return structlog.contextvars.bound_contextvars(job=job, run_id=uuid.uuid4().hex[:12])
