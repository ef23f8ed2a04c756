"""A patient's data export from the console: a JSON file for operators, refused to viewers, audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import AuditLog, OperatorRole
from tests.admin.console import Console, add_operator, add_token, seed, sign_in


async def _bearer(console: Console, role: OperatorRole) -> dict[str, str]:
    email = f"{role.value}@clinic.example"
    await add_operator(console.sessions, email, role)
    return {"Authorization": f"Bearer {await add_token(console.sessions, email)}"}


async def _exports(console: Console) -> list[AuditLog]:
    async with console.sessions() as session:
        query = select(AuditLog).where(AuditLog.action == "patient.export").order_by(AuditLog.id)
        return list(await session.scalars(query))


async def test_an_operator_downloads_everything_about_one_patient_and_the_export_is_audited(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.OPERATOR)

    answer = await console.client.get(f"/api/patients/{seeded.active}/export", headers=auth)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="ocrebot-patient-{seeded.active}-20261207.json"'
    )
    assert answer.headers["cache-control"] == "no-store"
    document = json.loads(answer.content)
    assert document["patient"]["id"] == seeded.active
    assert document["patient"]["display_name"] == "Ana Lopez"
    assert [row["address"] for row in document["channel_address"]] == ["4242"]
    assert [row["answer"] for row in document["check_in"]] == ["rash since last night"]
    assert len(document["dose"]) >= 1 and len(document["scheduled_message"]) >= 1
    for other in ("Bea Ruiz", "Carl Stone", "+34600111222", '"777"'):
        assert other not in answer.text
    [row] = await _exports(console)
    assert row.patient_id == seeded.active and row.operator_id is not None and row.detail == {}


async def test_a_viewer_may_not_export_and_nothing_is_audited(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _bearer(console, OperatorRole.VIEWER)
    answer = await console.client.get(f"/api/patients/{seeded.active}/export", headers=auth)
    assert answer.status_code == 403
    assert (await console.client.get(f"/api/patients/{seeded.active}/export")).status_code == 401
    assert await _exports(console) == []


async def test_an_unknown_patient_is_a_404_and_bad_ids_a_422(console: Console) -> None:
    auth = await _bearer(console, OperatorRole.ADMIN)
    assert (await console.client.get("/api/patients/9999/export", headers=auth)).status_code == 404
    bad = await console.client.get("/api/patients/ana/export", headers=auth)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "patient_id"]
    assert await _exports(console) == []


async def test_the_patient_page_links_the_export_for_operators_only(console: Console) -> None:
    seeded = await seed(console.sessions)
    await add_operator(console.sessions, "op@clinic.example", OperatorRole.OPERATOR)
    await sign_in(console.client, "op@clinic.example")
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert f'href="/api/patients/{seeded.active}/export"' in page.text
    download = await console.client.get(f"/api/patients/{seeded.active}/export")  # the session cookie
    assert download.status_code == 200 and json.loads(download.content)["patient"]["id"] == seeded.active

    await console.client.post("/admin/logout", data={"csrf_token": ""})
    console.client.cookies.clear()
    await add_operator(console.sessions, "view@clinic.example", OperatorRole.VIEWER)
    await sign_in(console.client, "view@clinic.example")
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert page.status_code == 200 and "/export" not in page.text
