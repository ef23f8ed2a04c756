"""Patient CSV import and export, as console pages and as JSON API routes (operator role and up).

Pages: upload (`/admin/import`), a preview of every row with its errors, the go-ahead (all rows, or the good
ones when the operator ticks "skip the bad rows"), and a progress page polling the API's progress route.
API: `POST /api/patients/import?dry_run=&skip_bad_rows=` with the CSV as the body, `GET
/api/patients/import/{job_id}`, `GET /api/patients/export.csv`. A file with errors imports nothing unless
the bad rows are skipped; an unreadable file is refused whole (422, or 413 when too big). Viewers may not
export: a file of every patient's name and number is a bulk copy, so it needs the operator role (audited).
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile as StarletteUpload

from admin import csv_import
from admin.accounts import audit
from admin.auth import Actor, now_of, require_role
from admin.csv_io import COLUMNS, MAX_BYTES, MAX_ROWS, REQUIRED, CheckedFile, FileRejected
from admin.rendering import render
from storage.models import OperatorRole

router = APIRouter()
PageChanger = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR, page=True))]
ApiChanger = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR))]

CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "description": "the patients CSV file"}}},
    }
}


def jobs_of(request: Request) -> csv_import.ImportJobs:
    """Returns this app's import jobs (made on first use)."""
    state = request.app.state
    if getattr(state, "csv_imports", None) is None:
        state.csv_imports = csv_import.ImportJobs()
    return state.csv_imports  # type: ignore[no-any-return]


def _errors(checked: CheckedFile) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", row.line, column], "msg": message, "type": "csv_row"}
        for row in checked.bad
        for column, message in row.errors.items()
    ]


def _summary(checked: CheckedFile) -> dict[str, Any]:
    return {
        "columns": list(checked.columns),
        "rows": len(checked.rows),
        "valid": len(checked.good),
        "bad": len(checked.bad),
        "errors": [
            {"line": row.line, "column": column, "message": message}
            for row in checked.bad
            for column, message in row.errors.items()
        ],
    }


def _file_error(message: str, code: int = status.HTTP_422_UNPROCESSABLE_CONTENT) -> HTTPException:
    return HTTPException(code, [{"loc": ["body"], "msg": message, "type": "csv_file"}])


def _too_big(size: int) -> bool:
    return size > MAX_BYTES


async def limit_body(request: Request) -> None:
    """Refuses (413) a body declared far larger than a file may be, before anything reads it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES + 64_000:  # room for a form's other parts
        raise _file_error(f"the file is larger than {MAX_BYTES // 1000} kB", 413)


BodyLimit = Annotated[None, Depends(limit_body)]


# pages ----------------------------------------------------------------------------------------------------


def _upload_page(
    request: Request, actor: Actor, error: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "import.html",
        actor,
        status_code=status_code,
        error=error,
        columns=COLUMNS,
        required=REQUIRED,
        max_rows=MAX_ROWS,
        max_kb=MAX_BYTES // 1000,
    )


@router.get("/admin/import", include_in_schema=False)
async def upload_form(request: Request, actor: PageChanger) -> Response:
    """The upload form, the columns it expects, and the export link."""
    return _upload_page(request, actor)


@router.post("/admin/import", include_in_schema=False)
async def upload(request: Request, _: BodyLimit, actor: PageChanger) -> Response:
    """Checks an uploaded file and shows its preview, or says why the file cannot be read.

    The file is no Form parameter on purpose: FastAPI parses a route's form before its dependencies run,
    so a stranger's upload would be read before `PageChanger` sends them to the login page.
    """
    async with request.form() as form:  # the CSRF check parsed it (the operator is known); closed here
        file = form.get("file")
        if not isinstance(file, StarletteUpload):
            return _upload_page(request, actor, "Nothing was imported: choose a CSV file.", 422)
        filename = (file.filename or "upload.csv")[:100]
        data = await file.read(MAX_BYTES + 1)
    try:
        if _too_big(len(data)):
            raise FileRejected(f"the file is larger than {MAX_BYTES // 1000} kB")
        checked = await csv_import.check_upload(request.app.state.services.sessions, data, now_of(request))
    except FileRejected as exc:
        return _upload_page(request, actor, f"Nothing was imported: {exc}.", 422)
    preview = jobs_of(request).keep_preview(actor.operator_id, filename, checked)
    return RedirectResponse(f"/admin/import/{preview.id}", status.HTTP_303_SEE_OTHER)


def _preview_page(request: Request, actor: Actor, preview_id: str, error: str | None = None) -> Response:
    preview = jobs_of(request).preview(preview_id, actor.operator_id)
    if preview is None:
        return _upload_page(request, actor, "That preview expired: upload the file again.", 404)
    return render(
        request,
        "import_preview.html",
        actor,
        status_code=422 if error else 200,
        preview=preview,
        checked=preview.checked,
        columns=COLUMNS,
        error=error,
    )


@router.get("/admin/import/{preview_id}", include_in_schema=False)
async def preview(request: Request, actor: PageChanger, preview_id: str) -> Response:
    """Every row of the uploaded file with its errors, and the import button."""
    return _preview_page(request, actor, preview_id)


@router.post("/admin/import/{preview_id}/run", include_in_schema=False)
async def run(
    request: Request,
    actor: PageChanger,
    preview_id: str,
    skip_bad_rows: Annotated[bool, Form()] = False,
) -> Response:
    """Starts the import (refused when rows are bad and "skip the bad rows" is not ticked)."""
    jobs = jobs_of(request)
    found = jobs.preview(preview_id, actor.operator_id)
    if found is None:
        return _preview_page(request, actor, preview_id)
    if found.checked.bad and not skip_bad_rows:
        return _preview_page(
            request, actor, preview_id, "Nothing was imported: fix the file, or tick “skip the bad rows”."
        )
    if not found.checked.good:
        return _preview_page(request, actor, preview_id, "Nothing to import: every row has an error.")
    del jobs.previews[preview_id]
    job = jobs.start(
        request.app.state.services.sessions, found.checked, operator_id=actor.operator_id, now=now_of(request)
    )
    return RedirectResponse(f"/admin/import/jobs/{job.id}", status.HTTP_303_SEE_OTHER)


@router.get("/admin/import/jobs/{job_id}", include_in_schema=False)
async def progress_page(request: Request, actor: PageChanger, job_id: str) -> Response:
    """The import's progress bar (a small script polls the progress route until it is done)."""
    job = jobs_of(request).job(job_id, actor.operator_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such import")
    return render(request, "import_progress.html", actor, job=job)


# API ------------------------------------------------------------------------------------------------------


@router.post("/api/patients/import", tags=["console"], openapi_extra=CSV_BODY, status_code=202)
async def import_patients(
    request: Request,
    _: BodyLimit,
    actor: ApiChanger,
    dry_run: Annotated[bool, Query(description="check only: the preview, nothing stored")] = False,
    skip_bad_rows: Annotated[bool, Query(description="import the good rows of a file with errors")] = False,
) -> JSONResponse:
    """Checks a patients CSV (the body) and, unless `dry_run`, starts importing it; poll the job."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if _too_big(len(data)):
            raise _file_error(f"the file is larger than {MAX_BYTES // 1000} kB", 413)
    try:
        checked = await csv_import.check_upload(
            request.app.state.services.sessions, bytes(data), now_of(request)
        )
    except FileRejected as exc:
        raise _file_error(str(exc)) from None
    if dry_run:
        return JSONResponse(_summary(checked), status.HTTP_200_OK)
    if checked.bad and not skip_bad_rows:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _errors(checked))
    if not checked.good:
        raise _file_error("every row has an error: nothing to import")
    job = jobs_of(request).start(
        request.app.state.services.sessions, checked, operator_id=actor.operator_id, now=now_of(request)
    )
    body = _summary(checked) | {"job": job.as_dict(), "progress": f"/api/patients/import/{job.id}"}
    return JSONResponse(body, status.HTTP_202_ACCEPTED)


@router.get("/api/patients/import/{job_id}", tags=["console"])
async def import_progress(request: Request, actor: ApiChanger, job_id: str) -> dict[str, Any]:
    """An import's progress: state (running, done, failed), rows done of total, and its outcome."""
    job = jobs_of(request).job(job_id, actor.operator_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such import")
    return job.as_dict()


@router.get("/api/patients/import/{job_id}/invites.csv", tags=["console"], response_class=StreamingResponse)
async def import_invites(request: Request, actor: ApiChanger, job_id: str) -> Response:
    """The invite codes of a finished import's patients (name, phone, invite_code), to hand out; audited."""
    job = jobs_of(request).job(job_id, actor.operator_id)
    if job is None or job.state != "done":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such finished import")
    services = request.app.state.services
    lines = await csv_import.invite_lines(services.sessions, job.patient_ids)
    async with services.sessions() as session, session.begin():  # a file of codes is a key to each record
        await audit(
            session, now_of(request), operator_id=actor.operator_id, action="invite.export",
            detail={"patients": len(job.patient_ids), "rows": len(lines) - 1},
        )  # fmt: skip
    return Response(
        "".join(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="invites.csv"', "Cache-Control": "no-store"},
    )


@router.get("/api/patients/export.csv", tags=["console"], response_class=StreamingResponse)
async def export_patients(request: Request, actor: ApiChanger) -> StreamingResponse:
    """Every patient (not sandbox, not erased) in the import's columns, streamed as CSV."""
    services = request.app.state.services
    now = now_of(request)
    async with services.sessions() as session, session.begin():
        await audit(session, now, operator_id=actor.operator_id, action="patient.export")
    filename = f"patients-{now:%Y%m%d-%H%M}.csv"
    return StreamingResponse(
        csv_import.export_lines(services.sessions),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
