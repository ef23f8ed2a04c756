"""The console's Jinja2 environment: templates in admin/templates, time filters, the CSRF token in context.

`form_nonce()` in a template gives a fresh random key per rendered form: posting the same form twice (a
double-click, a browser retry) carries the same key, which the handler uses to do the work once.

Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from admin.auth import Actor, console_of, now_of

TEMPLATES_DIR = Path(__file__).with_name("templates")


def create_templates(clinic_zone: str) -> Jinja2Templates:
    """Returns the templates with `clinic_time`, `local_time` and `age` filters (clinic zone)."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    zone = ZoneInfo(clinic_zone)

    def clinic_time(instant: datetime | None) -> str:
        return "" if instant is None else instant.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")

    def local_time(instant: datetime | None, zone_name: str) -> str:
        return (
            ""
            if instant is None
            else instant.astimezone(ZoneInfo(zone_name)).strftime("%a %d %b %Y %H:%M %Z")
        )

    templates.env.filters["clinic_time"] = clinic_time
    templates.env.filters["local_time"] = local_time
    templates.env.filters["age"] = age
    templates.env.globals["form_nonce"] = lambda: secrets.token_urlsafe(16)
    return templates


def age(instant: datetime, now: datetime) -> str:
    """Says how long ago `instant` was, coarsely: minutes, hours, then days."""
    seconds = max(0, int((now - instant).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def render(
    request: Request, name: str, actor: Actor | None, status_code: int = 200, **context: Any
) -> Response:
    """Renders a console page for `actor`, with their CSRF token for every form on it."""
    templates: Jinja2Templates = request.app.state.console_templates
    if actor is not None and actor.session_id is not None:
        context.setdefault("csrf_token", console_of(request).signer.csrf_token(actor.session_id))
    context.setdefault("notice", None)
    context.setdefault("now", now_of(request))
    response = templates.TemplateResponse(request, name, {"actor": actor, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
