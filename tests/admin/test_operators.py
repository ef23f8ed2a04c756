"""Operator management by admins: API and page, the last-admin rule, tokens, and 403 for everyone else."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from admin import operators
from storage.models import AuditLog, Operator, OperatorRole
from tests.admin.console import NOW, Console, add_operator, add_token, csrf_of, form_token, sign_in


async def _admin(console: Console) -> tuple[int, dict[str, str]]:
    admin_id = await add_operator(console.sessions, "boss@clinic.example", OperatorRole.ADMIN)
    return admin_id, {"Authorization": f"Bearer {await add_token(console.sessions, 'boss@clinic.example')}"}


async def _actions(console: Console) -> list[tuple[str, dict[str, object]]]:
    async with console.sessions() as session:
        rows = await session.scalars(select(AuditLog).order_by(AuditLog.id))
        return [
            (row.action, row.detail) for row in rows if row.action.startswith(("operator.", "api_token.r"))
        ]


async def test_an_admin_creates_operators_who_can_sign_in_with_the_given_or_generated_password(
    console: Console,
) -> None:
    admin_id, auth = await _admin(console)
    given = await console.client.post(
        "/api/operators",
        json={"email": "Nurse@Clinic.example", "role": "operator", "password": "a long enough secret"},
        headers=auth,
    )
    assert given.status_code == 201, given.text
    assert given.json()["password"] is None and given.json()["operator"]["email"] == "nurse@clinic.example"
    made = await console.client.post(
        "/api/operators", json={"email": "reader@clinic.example", "role": "viewer"}, headers=auth
    )
    generated = made.json()["password"]
    assert made.status_code == 201 and len(generated) >= 12
    assert (await sign_in(console.client, "reader@clinic.example", generated)).status_code == 303
    console.client.cookies.clear()
    assert (await sign_in(console.client, "nurse@clinic.example", "a long enough secret")).status_code == 303
    listed = (await console.client.get("/api/operators", headers=auth)).json()
    assert [(o["email"], o["role"]) for o in listed] == [
        ("boss@clinic.example", "admin"),
        ("nurse@clinic.example", "operator"),
        ("reader@clinic.example", "viewer"),
    ]
    assert listed[0]["tokens"][0]["label"] == "test" and "token_hash" not in listed[0]["tokens"][0]
    creates = [detail for action, detail in await _actions(console) if action == "operator.create"]
    assert creates[-2:] == [
        {"operator": listed[1]["id"], "role": "operator"},
        {"operator": listed[2]["id"], "role": "viewer"},
    ]
    async with console.sessions() as session:
        by = await session.scalars(select(AuditLog.operator_id).where(AuditLog.action == "operator.create"))
        assert list(by)[-2:] == [admin_id, admin_id]


async def test_bad_input_is_a_422_naming_each_field_and_a_taken_email_a_409(console: Console) -> None:
    _, auth = await _admin(console)
    bad = await console.client.post(
        "/api/operators", json={"email": "nope", "role": "king", "password": "short", "x": 1}, headers=auth
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("body", "email"),
        ("body", "role"),
        ("body", "password"),
        ("body", "x"),
    }
    patch = await console.client.patch("/api/operators/1", json={"active": "maybe"}, headers=auth)
    assert patch.status_code == 422 and patch.json()["detail"][0]["loc"] == ["body", "active"]
    taken = await console.client.post(
        "/api/operators", json={"email": "BOSS@clinic.example", "role": "viewer"}, headers=auth
    )
    assert taken.status_code == 409
    missing = await console.client.patch("/api/operators/999", json={"role": "viewer"}, headers=auth)
    assert missing.status_code == 404


async def test_a_deactivated_operator_loses_their_token_until_reactivated_and_roles_change(
    console: Console,
) -> None:
    _, auth = await _admin(console)
    nurse_id = await add_operator(console.sessions, "nurse@clinic.example")
    nurse = {"Authorization": f"Bearer {await add_token(console.sessions, 'nurse@clinic.example')}"}
    assert (await console.client.get("/api/patients", headers=nurse)).status_code == 200
    off = await console.client.patch(f"/api/operators/{nurse_id}", json={"active": False}, headers=auth)
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await console.client.get("/api/patients", headers=nurse)).status_code == 401
    await console.client.patch(f"/api/operators/{nurse_id}", json={"active": True}, headers=auth)
    assert (await console.client.get("/api/patients", headers=nurse)).status_code == 200
    up = await console.client.patch(f"/api/operators/{nurse_id}", json={"role": "admin"}, headers=auth)
    assert up.json()["role"] == "admin"
    assert (await console.client.get("/api/operators", headers=nurse)).status_code == 200
    assert [a for a, _ in await _actions(console) if a != "operator.create"] == [
        "operator.deactivate",
        "operator.reactivate",
        "operator.role",
    ]


async def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(console: Console) -> None:
    admin_id, auth = await _admin(console)
    for change in ({"role": "operator"}, {"active": False}):
        answer = await console.client.patch(f"/api/operators/{admin_id}", json=change, headers=auth)
        assert answer.status_code == 409 and "last active admin" in answer.json()["detail"]
    other = await add_operator(console.sessions, "second@clinic.example", OperatorRole.ADMIN)
    await console.client.patch(f"/api/operators/{other}", json={"active": False}, headers=auth)
    assert (
        await console.client.patch(f"/api/operators/{admin_id}", json={"role": "viewer"}, headers=auth)
    ).status_code == 409  # the other admin is deactivated: still the last active one
    await console.client.patch(f"/api/operators/{other}", json={"active": True}, headers=auth)
    demoted = await console.client.patch(f"/api/operators/{admin_id}", json={"role": "viewer"}, headers=auth)
    assert demoted.status_code == 200
    assert (await console.client.get("/api/operators", headers=auth)).status_code == 403  # now a viewer


async def test_an_admin_revokes_one_token_or_all_of_them(console: Console) -> None:
    _, auth = await _admin(console)
    nurse_id = await add_operator(console.sessions, "nurse@clinic.example")
    first = await add_token(console.sessions, "nurse@clinic.example")
    second = await add_token(console.sessions, "nurse@clinic.example")
    third = await add_token(console.sessions, "nurse@clinic.example")
    tokens = (await console.client.get("/api/operators", headers=auth)).json()[1]["tokens"]
    first_id = min(t["id"] for t in tokens)
    one = await console.client.post(
        f"/api/operators/{nurse_id}/tokens/revoke", json={"token_id": first_id}, headers=auth
    )
    assert one.json() == {"revoked": 1}
    assert (
        await console.client.get("/api/patients", headers={"Authorization": f"Bearer {first}"})
    ).status_code == 401
    assert (
        await console.client.get("/api/patients", headers={"Authorization": f"Bearer {second}"})
    ).status_code == 200
    rest = await console.client.post(f"/api/operators/{nurse_id}/tokens/revoke", headers=auth)
    assert rest.json() == {"revoked": 2}
    for token in (second, third):
        assert (
            await console.client.get("/api/patients", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401
    wrong = await console.client.post(
        f"/api/operators/{nurse_id}/tokens/revoke", json={"token_id": 99}, headers=auth
    )
    assert wrong.status_code == 404


async def test_operators_and_viewers_get_403_on_every_operator_route(console: Console) -> None:
    for role in (OperatorRole.OPERATOR, OperatorRole.VIEWER):
        email = f"{role.value}@clinic.example"
        target = await add_operator(console.sessions, email, role)
        auth = {"Authorization": f"Bearer {await add_token(console.sessions, email)}"}
        calls = [
            console.client.get("/api/operators", headers=auth),
            console.client.post("/api/operators", json={"email": "x@y.z", "role": "admin"}, headers=auth),
            console.client.patch(f"/api/operators/{target}", json={"role": "admin"}, headers=auth),
            console.client.post(f"/api/operators/{target}/tokens/revoke", headers=auth),
        ]
        for call in calls:
            assert (await call).status_code == 403
        console.client.cookies.clear()
        await sign_in(console.client, email)
        assert (await console.client.get("/admin/operators")).status_code == 403
        csrf = await csrf_of(console.client)
        posted = await console.client.post(
            f"/admin/operators/{target}/role", data={"role": "admin", "csrf_token": csrf}
        )
        assert posted.status_code == 403
    console.client.cookies.clear()
    assert (await console.client.get("/api/operators")).status_code == 401


async def test_the_page_adds_an_operator_shows_the_generated_password_once_and_refuses_the_last_admin(
    console: Console,
) -> None:
    admin_id = await add_operator(console.sessions, "boss@clinic.example", OperatorRole.ADMIN)
    await sign_in(console.client, "boss@clinic.example")
    page = await console.client.get("/admin/operators")
    assert page.status_code == 200 and "boss@clinic.example" in page.text
    csrf = form_token(page.text)
    made = await console.client.post(
        "/admin/operators", data={"email": "new@clinic.example", "role": "viewer", "csrf_token": csrf}
    )
    assert made.status_code == 200 and "shown only now" in made.text
    no_csrf = await console.client.post("/admin/operators", data={"email": "a@b.c", "role": "viewer"})
    assert no_csrf.status_code == 403
    last = await console.client.post(
        f"/admin/operators/{admin_id}/active", data={"active": "false", "csrf_token": csrf}
    )
    assert last.status_code == 409 and "last active admin" in last.text
    bad = await console.client.post(
        f"/admin/operators/{admin_id}/role", data={"role": "king", "csrf_token": csrf}
    )
    assert bad.status_code == 422
    short = await console.client.post(
        "/admin/operators",
        data={"email": "s@clinic.example", "role": "viewer", "password": "short", "csrf_token": csrf},
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(console: Console) -> None:
    first = await add_operator(console.sessions, "a@clinic.example", OperatorRole.ADMIN)
    second = await add_operator(console.sessions, "b@clinic.example", OperatorRole.ADMIN)

    async def demote(target: int, by: int) -> str:
        try:
            async with console.sessions() as session, session.begin():
                await operators.change(session, target, role=OperatorRole.VIEWER, by=by, now=NOW)
        except operators.LastAdmin:
            return "refused"
        return "demoted"

    outcomes = await asyncio.gather(demote(first, second), demote(second, first))
    assert sorted(outcomes) == ["demoted", "refused"]
    async with console.sessions() as session:
        roles = list(await session.scalars(select(Operator.role).order_by(Operator.id)))
    assert sorted(roles) == [OperatorRole.ADMIN, OperatorRole.VIEWER]
