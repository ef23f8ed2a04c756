"""Webhook routes: Telegram's updates arrive here in webhook mode, with the secret header checked."""

from __future__ import annotations

import hmac
import json

from fastapi import APIRouter, Request, Response

router = APIRouter(prefix="/webhooks")

MAX_UPDATE_BYTES = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post("/telegram", include_in_schema=False)
async def telegram_update(request: Request) -> Response:
    """Accept one update when the secret matches; 403 otherwise, and nothing is queued."""
    services = request.app.state.services
    channel = services.telegram
    secret = services.settings.telegram_webhook_secret
    if channel is None or channel.webhook_url is None or secret is None:
        return Response(status_code=404)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return Response(status_code=403)
    body = await request.body()
    if len(body) > MAX_UPDATE_BYTES:
        return Response(status_code=413)
    try:
        payload = json.loads(body)
    except ValueError:
        return Response(status_code=400)
    if not isinstance(payload, dict) or "update_id" not in payload:
        return Response(status_code=400)
    await channel.feed(payload)
    return Response(status_code=200)
