"""The HTTP guards through the real app: 413 past a body limit, 429 past a rate, security headers everywhere.

Requests go through httpx's ASGI transport into `ocrebot.app.create_app` with its lifespan entered, on
SQLite and PostgreSQL (what a refused request must not have stored is read back from the database).
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ocrebot.hardening import CONSOLE_CSP, DOCS_CSP, RateLimit, RateRule
from storage.models import MessageLog
from tests.admin.conftest import cheap_password_hashing  # noqa: F401 - autouse: test-sized argon2
from tests.admin.console import Console, add_operator, running_console, sign_in

TWILIO = {
    "twilio_account_sid": "AC" + "a" * 32,
    "twilio_auth_token": "t0k3n",
    "twilio_from_number": "+15550001111",
}


@pytest.fixture
async def app_with(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[object]:
    """Opens the running app with the given settings: `async with app_with(**settings) as console`."""

    def opener(**settings: object):  # type: ignore[no-untyped-def]
        return running_console(database_url, sessions, **settings)

    yield opener


async def _log_rows(console: Console) -> int:
    async with console.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MessageLog)) or 0)


async def test_a_webhook_body_past_64_kib_gets_413_and_nothing_is_stored(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with(**TWILIO) as console:
        body = {"From": "+34600111222", "Body": "x" * 70_000}
        answer = await console.client.post("/webhooks/twilio/sms", data=body)
        assert answer.status_code == 413
        assert answer.json() == {"detail": "request body too large (limit 65536 bytes)"}
        assert len(answer.content) < 100
        assert await _log_rows(console) == 0
        small = await console.client.post("/webhooks/twilio/sms", data={"From": "+34600111222", "Body": "hi"})
        assert small.status_code == 403  # reached the route: unsigned


async def test_a_chunked_body_without_a_length_is_counted_as_it_arrives(app_with) -> None:  # type: ignore[no-untyped-def]
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"email=" + b"y" * 4_000 + b"&"

    async with app_with() as console:
        answer = await console.client.post(
            "/admin/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert "content-length" not in answer.request.headers, answer.text
        assert answer.status_code == 413, answer.text
        assert answer.status_code == 413
        assert answer.json() == {"detail": "request body too large (limit 65536 bytes)"}


async def test_limits_are_per_route_prefix_and_configurable(app_with) -> None:  # type: ignore[no-untyped-def]
    upload = b"a,b\n" * 100_000  # 400 kB: a CSV upload
    async with app_with() as console:
        assert (await console.client.post("/admin/login", content=upload)).status_code == 413
        # The import prefix allows 5 MiB by default: the request reaches routing (no route here: 404/405).
        assert (await console.client.post("/admin/import", content=upload)).status_code != 413
        assert (await console.client.post("/api/patients/import", content=upload)).status_code != 413
        assert (await console.client.post("/api/patients", content=upload)).status_code == 413
    async with app_with(import_max_body_bytes=100_000, request_max_body_bytes=1_000_000) as console:
        assert (await console.client.post("/admin/import", content=upload)).status_code == 413
        assert (await console.client.post("/admin/login", content=upload)).status_code != 413


async def test_webhooks_past_their_rate_get_429_with_retry_after(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with(webhook_rate_per_s=1.0, **TWILIO) as console:
        answers = [
            await console.client.post("/webhooks/twilio/status", data={"MessageSid": "SM1"}) for _ in range(6)
        ]
        assert [a.status_code for a in answers[:5]] == [403] * 5  # a burst of 5 s worth reaches the route
        assert answers[5].status_code == 429
        assert answers[5].headers["retry-after"] == "1"
        assert answers[5].json() == {"detail": "too many requests"}
        assert (await console.client.get("/healthz")).status_code == 200  # other routes are not limited


async def test_sign_in_posts_past_their_rate_get_429_and_the_form_still_shows(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with(login_attempts_per_minute=3) as console:
        started = time.monotonic()
        codes = [(await console.client.post("/admin/login", data={})).status_code for _ in range(4)]
        assert 429 not in codes[:3] and codes[3] == 429
        refused = await console.client.post("/admin/login", data={})
        elapsed = time.monotonic() - started  # the bucket refilled for at most this long since it emptied
        # One attempt every 20 s: Retry-After is what is left of the 20 s, whole seconds rounded up.
        assert math.ceil(20 - elapsed) <= int(refused.headers["retry-after"]) <= 20
        assert (await console.client.get("/admin/login")).status_code == 200


async def test_rate_buckets_are_per_client_address(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with(login_attempts_per_minute=1) as console:
        assert (await console.client.post("/admin/login", data={})).status_code != 429
        assert (await console.client.post("/admin/login", data={})).status_code == 429
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=console.app, client=("10.0.0.9", 1234)), base_url="http://test"
        )
        async with other:
            assert (await other.post("/admin/login", data={})).status_code != 429


async def test_console_pages_carry_the_security_headers_and_no_store(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with() as console:
        page = await console.client.get("/admin/login")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONSOLE_CSP
        assert "frame-ancestors 'none'" in CONSOLE_CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in page.headers  # http: HSTS would be ignored or harmful
        api = await console.client.get("/api/patients")
        assert api.status_code == 401 and api.headers["cache-control"] == "no-store"
        static = await console.client.get("/admin/static/console.css")
        assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"
        assert static.headers["x-content-type-options"] == "nosniff"
        refused = await console.client.post("/admin/login", content=b"x" * 100_000)
        assert refused.status_code == 413 and refused.headers["x-frame-options"] == "DENY"


async def test_hsts_is_sent_when_the_public_url_is_https(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with(public_base_url="https://ocrebot.clinic.example") as console:
        page = await console.client.get("/admin/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_the_api_docs_page_alone_may_load_swagger_ui_from_its_cdn(app_with) -> None:  # type: ignore[no-untyped-def]
    async with app_with() as console:
        await add_operator(console.sessions, "nurse@clinic.example")
        assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303
        docs = await console.client.get("/api/docs")
        assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.text
        assert docs.headers["content-security-policy"] == DOCS_CSP
        assert "https://cdn.jsdelivr.net" in DOCS_CSP and "cdn.jsdelivr.net" not in CONSOLE_CSP
        dashboard = await console.client.get("/admin/")
        assert dashboard.status_code == 200
        assert dashboard.headers["content-security-policy"] == CONSOLE_CSP
        assert dashboard.headers["cache-control"] == "no-store"


async def test_a_refused_client_is_let_in_again_once_retry_after_has_passed() -> None:
    now = [1_000.0]

    async def ok(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    rule = RateRule("login", "/admin/login", "POST", rate_per_s=2 / 60, burst=2)
    app = RateLimit(ok, [rule], monotonic=lambda: now[0])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert [(await client.post("/admin/login")).status_code for _ in range(3)] == [204, 204, 429]
        refused = await client.post("/admin/login")
        wait_s = int(refused.headers["retry-after"])
        assert wait_s == 30
        now[0] += wait_s - 1
        assert (await client.post("/admin/login")).status_code == 429
        now[0] += 1
        assert (await client.post("/admin/login")).status_code == 204
        assert (await client.get("/admin/login")).status_code == 204  # a GET is not the rule's
