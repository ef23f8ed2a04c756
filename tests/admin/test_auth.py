"""Only signed-in operators reach the console and the API; sign-in is throttled; roles limit changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from admin.security import hash_api_token
from ocrebot.app import create_app
from ocrebot.settings import load_settings
from storage.models import ApiToken, AuditLog, OperatorRole
from tests.admin.console import (
    PASSWORD,
    SECRET,
    Console,
    add_operator,
    add_token,
    csrf_of,
    form_token,
    running_console,
    seed,
    sign_in,
)

PUBLIC = {"/admin/login", "/admin/static"}  # the sign-in form, and the stylesheet (no data)


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + route.path, set(getattr(route, "methods", None) or {"GET"})


def console_routes() -> list[tuple[str, str]]:
    app = create_app(load_settings(env_file=None, session_secret=SECRET))
    found = [
        (method, path)
        for path, methods in _walk(app.routes)
        if path.startswith(("/admin", "/api"))
        for method in sorted(methods - {"HEAD"})
    ]
    assert len(found) > 20
    return found


async def test_every_console_and_api_route_but_login_needs_a_session_or_a_token(console: Console) -> None:
    client = console.client
    for method, path in console_routes():
        if path in PUBLIC:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: "pause" if m.group(1) == "action" else "1", path)
        for cookies in ({}, {"ocrebot_session": "forged.value"}):
            client.cookies.clear()
            client.cookies.update(cookies)
            answer = await client.request(
                method, url, headers={"Authorization": "Bearer nope"} if path.startswith("/api") else {}
            )
            if path.startswith("/api/") and path != "/api/docs":
                assert answer.status_code == 401, (method, path, answer.status_code)
                assert answer.headers["www-authenticate"] == "Bearer"
            else:
                assert answer.status_code == 303, (method, path, answer.status_code)
                assert answer.headers["location"].startswith("/admin/login?next=")
    assert ("GET", "/api/docs") in console_routes()
    assert ("GET", "/api/openapi.json") in console_routes()


async def test_signing_in_sets_a_signed_http_only_lax_cookie_and_audits(console: Console) -> None:
    operator_id = await add_operator(console.sessions, "nurse@clinic.example")
    answer = await sign_in(console.client, "Nurse@Clinic.example")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("ocrebot_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    dashboard = await console.client.get("/admin/")
    assert dashboard.status_code == 200 and "nurse@clinic.example" in dashboard.text
    async with console.sessions() as session:
        actions = list(await session.execute(select(AuditLog.action, AuditLog.operator_id)))
    assert ("operator.login", operator_id) in actions


async def test_cookies_are_secure_when_the_public_url_is_https(
    database_url: str, engine: Any, sessions: Any
) -> None:
    async with running_console(
        database_url, sessions, public_base_url="https://bot.clinic.example"
    ) as console:
        console.client.base_url = "https://test"  # Secure cookies come back over https only
        await add_operator(sessions, "nurse@clinic.example")
        answer = await sign_in(console.client, "nurse@clinic.example")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("ocrebot_session="))
    assert "Secure" in cookie


async def test_a_login_post_without_the_form_token_is_refused(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    answer = await console.client.post(
        "/admin/login", data={"email": "nurse@clinic.example", "password": PASSWORD, "csrf_token": "x"}
    )
    assert answer.status_code == 403
    assert "ocrebot_session" not in answer.cookies


async def test_five_failures_lock_that_email_from_that_address_for_fifteen_minutes(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    await add_operator(console.sessions, "doctor@clinic.example")
    for _ in range(5):
        assert (await sign_in(console.client, "nurse@clinic.example", "wrong password")).status_code == 401
    locked = await sign_in(console.client, "nurse@clinic.example")
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    assert (await sign_in(console.client, "doctor@clinic.example")).status_code == 303  # another email
    console.client.cookies.clear()
    console.clock.advance(__import__("datetime").timedelta(minutes=15, seconds=1))
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303
    async with console.sessions() as session:
        details = list(await session.scalars(select(AuditLog.detail)))
    assert all("nurse" not in str(detail) for detail in details)  # no emails or passwords in the audit log


async def test_signing_out_needs_the_form_token_and_ends_the_session(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    await sign_in(console.client, "nurse@clinic.example")
    assert (await console.client.post("/admin/logout", data={"csrf_token": "bad"})).status_code == 403
    answer = await console.client.post("/admin/logout", data={"csrf_token": await csrf_of(console.client)})
    assert answer.status_code == 303
    assert (await console.client.get("/admin/")).status_code == 303


async def test_a_bearer_token_reads_the_api_and_only_its_hash_is_stored(console: Console) -> None:
    await add_operator(console.sessions, "script@clinic.example", OperatorRole.VIEWER)
    token = await add_token(console.sessions, "script@clinic.example")
    await seed(console.sessions)
    answer = await console.client.get("/api/patients", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["total"] == 3
    async with console.sessions() as session:
        stored = list(await session.scalars(select(ApiToken.token_hash)))
    assert stored == [hash_api_token(token)] and token not in stored
    docs = await console.client.get("/api/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert docs.status_code == 200 and "/api/patients" in docs.json()["paths"]


async def test_viewers_read_but_get_403_on_every_change(console: Console) -> None:
    seeded = await seed(console.sessions)
    await add_operator(console.sessions, "viewer@clinic.example", OperatorRole.VIEWER)
    token = await add_token(console.sessions, "viewer@clinic.example")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await console.client.get(f"/api/patients/{seeded.active}", headers=bearer)).status_code == 200
    for url, body in (
        (f"/api/patients/{seeded.active}/pause", None),
        (f"/api/patients/{seeded.paused}/resume", None),
        (f"/api/patients/{seeded.active}/unsubscribe", None),
        (f"/api/alerts/{seeded.check_in}/ack", {"note": "called her"}),
    ):
        assert (await console.client.post(url, json=body, headers=bearer)).status_code == 403, url
    await sign_in(console.client, "viewer@clinic.example")
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert "Pause reminders" not in page.text and "Acknowledge" not in page.text
    form = {"csrf_token": form_token(page.text)}
    assert (await console.client.post(f"/admin/patients/{seeded.active}/pause", data=form)).status_code == 403
    assert (await console.client.get("/admin/simulator")).status_code == 403


async def test_api_changes_with_a_cookie_need_the_csrf_header(console: Console) -> None:
    seeded = await seed(console.sessions)
    await add_operator(console.sessions, "nurse@clinic.example")
    await sign_in(console.client, "nurse@clinic.example")
    url = f"/api/patients/{seeded.active}/pause"
    assert (await console.client.post(url)).status_code == 403
    answer = await console.client.post(url, headers={"X-CSRF-Token": await csrf_of(console.client)})
    assert answer.status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin", "/elsewhere"])
async def test_after_sign_in_only_console_paths_are_followed(console: Console, target: str) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    page = await console.client.get("/admin/login")
    data = {
        "email": "nurse@clinic.example",
        "password": PASSWORD,
        "csrf_token": form_token(page.text),
        "next": target,
    }
    answer = await console.client.post("/admin/login", data=data)
    assert answer.headers["location"] == "/admin/"
