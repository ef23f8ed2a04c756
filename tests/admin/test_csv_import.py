"""Patient CSV import through the API on both databases: all or nothing, or the good rows when asked."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from admin import csv_import
from admin.csv_io import COLUMNS, check_file
from storage.invites import CODE_ALPHABET, CODE_LENGTH, INVITE_TTL
from storage.models import (
    AuditLog,
    Channel,
    ChannelAddress,
    Dose,
    DoseStatus,
    Invite,
    OperatorRole,
    Patient,
    PatientStatus,
)
from tests.admin.console import NOW, Console, add_operator, add_token, seed

HEADER = ",".join(COLUMNS)
ANA = "Ana Lopez,+34 600 111 333,es,Europe/Madrid,ES,iv,six_monthly,2027-01-15 09:30,Hospital Norte"
BAD = "Bea Bad,600,en,Europe/Madrid,,,,,"
CY = "Cy Young,,en,America/New_York,US,sc,not_started,,"
MIXED = f"{HEADER}\n{ANA}\n{BAD}\n{CY}\n".encode()


async def _auth(console: Console, role: str = "operator") -> dict[str, str]:
    email = f"{role}@clinic.example"
    await add_operator(console.sessions, email, OperatorRole(role))
    return {"Authorization": f"Bearer {await add_token(console.sessions, email)}"}


async def _count(console: Console, model: Any) -> int:
    async with console.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _imports(console: Console) -> list[AuditLog]:
    async with console.sessions() as session:
        return list(await session.scalars(select(AuditLog).where(AuditLog.action == "patient.import")))


async def _finished(console: Console, auth: dict[str, str], progress: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        job = (await console.client.get(progress, headers=auth)).json()
        if job["state"] != "running":
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.02)


async def test_a_file_with_errors_imports_nothing_and_names_each_bad_cell(console: Console) -> None:
    auth = await _auth(console)
    answer = await console.client.post("/api/patients/import", content=MIXED, headers=auth)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": ["body", 3, "phone"], "msg": answer.json()["detail"][0]["msg"], "type": "csv_row"}
    ]
    assert "phone number" in answer.json()["detail"][0]["msg"]
    assert await _count(console, Patient) == 0 and await _imports(console) == []


async def test_a_dry_run_previews_every_error_and_stores_nothing(console: Console) -> None:
    auth = await _auth(console)
    answer = await console.client.post("/api/patients/import?dry_run=true", content=MIXED, headers=auth)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["rows"], body["valid"], body["bad"]) == (3, 2, 1)
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, "phone")]
    assert await _count(console, Patient) == 0


async def test_skipping_the_bad_rows_imports_the_good_ones_with_invites_and_one_audit_row(
    console: Console,
) -> None:
    auth = await _auth(console)
    answer = await console.client.post("/api/patients/import?skip_bad_rows=true", content=MIXED, headers=auth)
    assert answer.status_code == 202, answer.text
    job = await _finished(console, auth, answer.json()["progress"])
    assert (job["state"], job["total"], job["done"], job["imported"], job["skipped"]) == ("done", 2, 2, 2, 1)
    async with console.sessions() as session:
        patients = list(await session.scalars(select(Patient).order_by(Patient.id)))
        assert [p.display_name for p in patients] == ["Ana Lopez", "Cy Young"]
        assert {p.status for p in patients} == {PatientStatus.SIGNING_UP}
        assert not any(p.sms_consent for p in patients)  # consent stays the patient's own
        assert [p.id for p in patients] == job["patient_ids"]
        phone = await session.scalar(select(ChannelAddress).where(ChannelAddress.channel == Channel.SMS))
        assert phone is not None and (phone.patient_id, phone.address) == (patients[0].id, "+34600111333")
        dose = await session.scalar(select(Dose))
        assert dose is not None
        assert (dose.number, dose.kind, dose.amount_mg, dose.status) == (
            4,
            "iv_600mg",
            600,
            DoseStatus.PLANNED,
        )
        assert dose.planned_at == datetime(2027, 1, 15, 8, 30, tzinfo=UTC)
        invites = list(await session.scalars(select(Invite).order_by(Invite.patient_id)))
        assert [i.patient_id for i in invites] == [p.id for p in patients]
        assert all(i.expires_at == NOW + INVITE_TTL and i.used_at is None for i in invites)
        assert all(len(i.code) == CODE_LENGTH and set(i.code) <= set(CODE_ALPHABET) for i in invites)
    (audit,) = await _imports(console)
    assert audit.detail == {"rows": 3, "imported": 2, "skipped": 1}  # counts only, no names or numbers
    codes = await console.client.get(f"{answer.json()['progress']}/invites.csv", headers=auth)
    assert codes.status_code == 200
    assert codes.text.splitlines() == [
        "name,phone,invite_code",
        f"Ana Lopez,'+34600111333,{invites[0].code}",
        f"Cy Young,,{invites[1].code}",
    ]
    other = await _auth(console, "admin")
    assert (
        await console.client.get(f"{answer.json()['progress']}/invites.csv", headers=other)
    ).status_code == 404
    async with console.sessions() as session:
        downloads = list(await session.scalars(select(AuditLog).where(AuditLog.action == "invite.export")))
    assert [(row.detail, row.patient_id) for row in downloads] == [({"patients": 2, "rows": 2}, None)]
    assert downloads[0].operator_id is not None  # who took the codes; the 404 above wrote nothing


async def test_a_file_that_cannot_be_read_is_a_422_and_a_huge_one_a_413(console: Console) -> None:
    auth = await _auth(console)
    binary = await console.client.post("/api/patients/import", content=b"\x00\x01PK", headers=auth)
    assert binary.status_code == 422 and binary.json()["detail"][0]["loc"] == ["body"]
    assert "binary" in binary.json()["detail"][0]["msg"]
    header = await console.client.post("/api/patients/import", content=b"who,what\n1,2\n", headers=auth)
    assert header.status_code == 422 and "wrong header" in header.json()["detail"][0]["msg"]
    huge = await console.client.post("/api/patients/import", content=b"a" * 1_000_001, headers=auth)
    assert huge.status_code == 413
    assert await _count(console, Patient) == 0


async def test_viewers_may_neither_import_nor_export_and_strangers_get_401(console: Console) -> None:
    viewer = await _auth(console, "viewer")
    assert (
        await console.client.post("/api/patients/import", content=MIXED, headers=viewer)
    ).status_code == 403
    assert (await console.client.get("/api/patients/export.csv", headers=viewer)).status_code == 403
    assert (await console.client.post("/api/patients/import", content=MIXED)).status_code == 401
    assert (await console.client.get("/api/patients/export.csv")).status_code == 401
    assert (await console.client.get("/api/patients/import/nope", headers=viewer)).status_code == 403


async def test_an_export_has_the_import_columns_guards_formulas_and_imports_again(console: Console) -> None:
    seeded = await seed(console.sessions)
    auth = await _auth(console)
    async with console.sessions() as session, session.begin():
        carl = await session.get(Patient, seeded.stopped)
        assert carl is not None
        carl.display_name = "=HYPERLINK(1)"
    answer = await console.client.get("/api/patients/export.csv", headers=auth)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert lines[0] == HEADER
    assert "Bea Ruiz,'+34600111222,en,Europe/Madrid,,sc" in answer.text
    assert "'=HYPERLINK(1)" in answer.text
    assert len(lines) == 4  # Ana, Bea, Carl (no sandbox patients)
    again = check_file(answer.content, now=NOW, stored_phones=["+34600111222"])
    assert [row.cells["name"] for row in again.rows] == ["Ana Lopez", "Bea Ruiz", "=HYPERLINK(1)"]
    assert again.rows[1].errors == {"phone": "a patient with this phone number exists already"}


async def test_a_failure_in_a_later_batch_leaves_nothing_from_the_earlier_ones(console: Console) -> None:
    operator = await add_operator(console.sessions, "admin@clinic.example")
    rows = [f"P{n},+3460010{n:04d},en,Europe/Madrid,,,,," for n in range(csv_import.BATCH_ROWS + 10)]
    checked = check_file((f"{HEADER}\n" + "\n".join(rows) + "\n").encode(), now=NOW)
    assert not checked.bad
    last = checked.rows[-1]
    assert last.fields is not None
    # a sign-up took the last row's number after the preview: the import finds it and stores nothing
    async with console.sessions() as session, session.begin():
        session.add(Patient(language="en", timezone="Europe/Madrid", created_at=NOW, updated_at=NOW))
        await session.flush()
        owner = await session.scalar(select(Patient.id))
        session.add(
            ChannelAddress(
                patient_id=owner, channel=Channel.SMS, address=last.fields.phone, state_changed_at=NOW
            )
        )
    job = csv_import.ImportJob("j", operator, len(checked.good), 0)
    await csv_import.run_import(console.sessions, checked, job, now=NOW)
    assert job.state == "failed" and "Nothing was imported" in (job.message or "")
    assert await _count(console, Patient) == 1 and await _count(console, Invite) == 0
    # the same number twice past the checks: the database refuses the later batch, the earlier is undone
    async with console.sessions() as session, session.begin():
        await session.delete(await session.get(Patient, owner))
    first = checked.rows[0]
    checked.rows[-1].fields = first.fields
    job = csv_import.ImportJob("k", operator, len(checked.good), 0)
    await csv_import.run_import(console.sessions, checked, job, now=NOW)
    assert job.state == "failed" and job.done == 0
    assert await _count(console, Patient) == 0 and await _imports(console) == []
