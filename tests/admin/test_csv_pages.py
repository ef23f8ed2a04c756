"""The import pages over HTTP: upload, preview, the go-ahead rules, progress in batches, and who may."""

from __future__ import annotations

import asyncio
import re
import time

from sqlalchemy import func, select

from admin import csv_import
from admin.csv_io import COLUMNS, MAX_ROWS, CheckedFile
from storage.models import AuditLog, OperatorRole, Patient
from tests.admin.console import NOW, Console, add_operator, form_token, sign_in

HEADER = ",".join(COLUMNS)
GOOD = "Ana Lopez,+34 600 111 333,es,Europe/Madrid,ES,iv,six_monthly,2027-01-15 09:30,Hospital Norte"
BAD = "Bea Bad,600,fr,Europe/Madrid,,,,,"


async def _patients(console: Console) -> int:
    async with console.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Patient)) or 0)


async def _upload(console: Console, data: bytes) -> tuple[str, str]:
    """Signs in a nurse, uploads `data`; returns the answer's location (or body) and the CSRF token."""
    await add_operator(console.sessions, "nurse@clinic.example")
    await sign_in(console.client, "nurse@clinic.example")
    form = await console.client.get("/admin/import")
    csrf = form_token(form.text)
    answer = await console.client.post(
        "/admin/import", data={"csrf_token": csrf}, files={"file": ("p.csv", data, "text/csv")}
    )
    return answer.headers.get("location", answer.text), csrf


async def test_the_preview_lists_every_row_and_refuses_to_import_bad_ones_unless_skipped(
    console: Console,
) -> None:
    location, csrf = await _upload(console, f"{HEADER}\n{GOOD}\n{BAD}\n".encode())
    assert re.fullmatch(r"/admin/import/[\w-]+", location), location
    preview = await console.client.get(location)
    assert preview.status_code == 200
    assert 'id="line-2"' in preview.text and 'id="line-3"' in preview.text
    assert "unknown language: use en or es" in preview.text and "not a phone number" in preview.text
    refused = await console.client.post(f"{location}/run", data={"csrf_token": csrf})
    assert refused.status_code == 422 and "skip the bad rows" in refused.text
    assert await _patients(console) == 0
    started = await console.client.post(f"{location}/run", data={"csrf_token": csrf, "skip_bad_rows": "true"})
    assert started.status_code == 303
    job_page = started.headers["location"]
    job_id = job_page.rsplit("/", 1)[1]
    deadline = time.monotonic() + 20
    while (job := (await console.client.get(f"/api/patients/import/{job_id}")).json())["state"] == "running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert (job["state"], job["imported"], job["skipped"]) == ("done", 1, 1)
    assert (await console.client.get(job_page)).status_code == 200
    assert await _patients(console) == 1
    again = await console.client.post(f"{location}/run", data={"csrf_token": csrf, "skip_bad_rows": "true"})
    assert again.status_code == 404 and "expired" in again.text  # a preview imports once


async def test_an_unreadable_upload_is_explained_and_changes_nothing(console: Console) -> None:
    answer, _ = await _upload(console, "name;language\nJosé;es\n".encode("latin-1"))
    assert "Nothing was imported: the file is not UTF-8 text" in answer
    assert await _patients(console) == 0


async def test_too_many_rows_are_refused_whole(console: Console) -> None:
    rows = "\n".join(f"P{n},,en,Europe/Madrid,,,,," for n in range(MAX_ROWS + 1))
    answer, _ = await _upload(console, f"{HEADER}\n{rows}\n".encode())
    assert f"at most {MAX_ROWS} at a time" in answer
    assert await _patients(console) == 0


async def test_a_preview_belongs_to_its_operator_and_viewers_may_not_import(console: Console) -> None:
    location, _ = await _upload(console, f"{HEADER}\n{GOOD}\n".encode())
    console.client.cookies.clear()
    await add_operator(console.sessions, "other@clinic.example")
    await sign_in(console.client, "other@clinic.example")
    assert (await console.client.get(location)).status_code == 404
    console.client.cookies.clear()
    await add_operator(console.sessions, "viewer@clinic.example", OperatorRole.VIEWER)
    await sign_in(console.client, "viewer@clinic.example")
    assert (await console.client.get("/admin/import")).status_code == 403
    assert "Import / export" not in (await console.client.get("/admin/")).text


async def test_an_upload_without_the_csrf_token_is_refused(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    await sign_in(console.client, "nurse@clinic.example")
    answer = await console.client.post("/admin/import", files={"file": ("p.csv", b"x", "text/csv")})
    assert answer.status_code == 403


async def test_a_signed_in_operator_downloads_the_export(console: Console) -> None:
    location, csrf = await _upload(console, f"{HEADER}\n{GOOD}\n".encode())
    await console.client.post(f"{location}/run", data={"csrf_token": csrf})
    for _ in range(500):
        if await _patients(console):
            break
        await asyncio.sleep(0.02)
    export = await console.client.get("/api/patients/export.csv")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert export.text.splitlines()[1] == (
        "Ana Lopez,'+34600111333,es,Europe/Madrid,ES,iv,six_monthly,2027-01-15 09:30,Hospital Norte"
    )
    async with console.sessions() as session:
        actions = list(await session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions[-2:] == ["patient.import", "patient.export"]


async def test_progress_moves_batch_by_batch_over_the_largest_file(console: Console) -> None:
    operator = await add_operator(console.sessions, "nurse@clinic.example")
    rows = "\n".join(f"P{n},+3460020{n:04d},en,Europe/Madrid,,iv,not_started,2027-01-1{n % 9} 09:00,"
                     for n in range(MAX_ROWS))  # fmt: skip
    checked = await csv_import.check_upload(console.sessions, f"{HEADER}\n{rows}\n".encode(), NOW)
    assert len(checked.good) == MAX_ROWS
    jobs = csv_import.ImportJobs()
    started = time.monotonic()
    job = jobs.start(console.sessions, checked, operator_id=operator, now=NOW)
    seen: list[int] = []
    while job.state == "running":
        if not seen or seen[-1] != job.done:
            seen.append(job.done)
        await asyncio.sleep(0)
    elapsed = time.monotonic() - started
    assert job.state == "done", job.message
    assert len(job.patient_ids) == MAX_ROWS and await _patients(console) == MAX_ROWS
    assert len(seen) > 3 and all(done % csv_import.BATCH_ROWS == 0 for done in seen), seen
    print(f"imported {MAX_ROWS} rows in {elapsed:.2f} s")  # noqa: T201 - the number the report quotes


async def test_cells_are_shown_as_text_never_as_markup(console: Console) -> None:
    location, _ = await _upload(
        console, f"{HEADER}\n<script>alert(1)</script>,,en,Europe/Madrid,,,,,\n".encode()
    )
    preview = await console.client.get(location)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.text and "<script>alert" not in preview.text


async def test_a_body_declared_too_big_is_refused_before_it_is_read(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    await sign_in(console.client, "nurse@clinic.example")
    answer = await console.client.post("/api/patients/import", content=b"a" * 1_100_000)
    assert answer.status_code == 413 and "larger than 1000 kB" in answer.json()["detail"][0]["msg"]
    assert await _patients(console) == 0


def test_a_new_upload_drops_expired_previews_even_if_nobody_looks_them_up() -> None:
    jobs = csv_import.ImportJobs()
    checked = CheckedFile(COLUMNS, [])
    stale = jobs.keep_preview(1, "old.csv", checked)
    stale.created -= csv_import.PREVIEW_TTL_S + 1  # half an hour on, its names and numbers must go
    fresh = jobs.keep_preview(1, "young.csv", checked)
    kept = jobs.keep_preview(2, "new.csv", checked)
    assert set(jobs.previews) == {fresh.id, kept.id}


async def test_a_strangers_large_upload_is_refused_without_reading_it(console: Console) -> None:
    boundary = "x" * 16
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    read: list[int] = []

    async def body(megabytes: int):  # type: ignore[no-untyped-def]
        yield head
        for _ in range(megabytes * 16):  # 64 kB chunks, counted as the server asks for them
            read.append(65_536)
            yield b"a" * 65_536
        yield f"\r\n--{boundary}--\r\n".encode()

    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    # under the import routes' body limit (5 MB) and sent in chunks: the login page answers, unread
    answer = await console.client.post("/admin/import", content=body(4), headers=multipart)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login")
    assert sum(read) <= 2 * 65_536, f"{sum(read)} bytes read before asking who it was"
    # declared past the limit: 413 before anything is read
    read.clear()
    declared = multipart | {"Content-Length": str(6 * 1024 * 1024)}
    answer = await console.client.post("/admin/import", content=body(6), headers=declared)
    assert answer.status_code == 413 and sum(read) == 0
