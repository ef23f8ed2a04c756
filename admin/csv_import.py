"""Patient CSV in and out of the database: the checks that need it, the import job, the streamed export.

An import is one transaction: rows are added in batches of `BATCH_ROWS` (flushed, progress noted after each
batch) and committed together at the end, so a failure leaves nothing behind. Each imported patient is
signing up: an invite code to hand them (Telegram link or SMS "JOIN code"), their SMS number if given (no
SMS consent: that is the patient's own, at sign-up), their course and next dose if given. Nothing is sent to
them until they sign up. One audit row per import, with counts only. Jobs and previews live in this
process's memory (`ImportJobs`), for the page that started them.
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.csv_io import (
    NEXT_DOSE_NUMBER,
    CheckedFile,
    PatientFields,
    check_rows,
    csv_line,
    header_line,
    local_wall,
    phones_in,
    read_file,
)
from care.formulation import dose_kind
from storage.invites import invite_values
from storage.models import (
    Channel,
    ChannelAddress,
    Dose,
    DoseStatus,
    Invite,
    Patient,
    PatientStatus,
    TreatmentCourse,
)

log = logging.getLogger(__name__)

BATCH_ROWS = 50
EXPORT_PAGE = 200
PREVIEW_TTL_S = 1800
MAX_KEPT = 50
SOURCE_CLINIC = "clinic"


async def stored_phones(session: AsyncSession, phones: Iterable[str]) -> set[str]:
    """Returns those of `phones` that are already a patient's SMS address."""
    wanted = sorted(set(phones))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            await session.scalars(
                select(ChannelAddress.address).where(
                    ChannelAddress.channel == Channel.SMS, ChannelAddress.address.in_(chunk)
                )
            )
        )
    return found


async def check_upload(sessions: async_sessionmaker[AsyncSession], data: bytes, now: datetime) -> CheckedFile:
    """Reads and checks an upload against the stored patients; raises `csv_io.FileRejected`."""
    header, rows = read_file(data)
    async with sessions() as session:
        stored = await stored_phones(session, phones_in(rows))
    return check_rows(header, rows, stored_phones=stored, now=now)


@dataclass
class ImportJob:
    """One import's progress: `done` of `total` rows written; `state` ends as done or failed."""

    id: str
    operator_id: int | None  # None: the system (the command line)
    total: int
    skipped: int
    done: int = 0
    state: Literal["running", "done", "failed"] = "running"
    message: str | None = None
    patient_ids: list[int] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict[str, Any]:
        """Returns what the progress endpoint shows (counts and ids, no patient data)."""
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "imported": len(self.patient_ids) if self.state == "done" else 0,
            "skipped": self.skipped,
            "message": self.message,
            "patient_ids": self.patient_ids if self.state == "done" else [],
        }


@dataclass
class Preview:
    """An upload checked and waiting for the operator's go-ahead."""

    id: str
    operator_id: int
    filename: str
    checked: CheckedFile
    created: float = field(default_factory=time.monotonic)


class ImportJobs:
    """This process's previews and import jobs, by random id; the oldest are forgotten past `MAX_KEPT`, and
    previews older than `PREVIEW_TTL_S` on every new upload or import (not only when looked up)."""

    def __init__(self) -> None:
        self.previews: dict[str, Preview] = {}
        self.jobs: dict[str, ImportJob] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def keep_preview(self, operator_id: int, filename: str, checked: CheckedFile) -> Preview:
        """Stores a checked upload for its operator and returns it."""
        self._prune()
        preview = Preview(secrets.token_urlsafe(12), operator_id, filename, checked)
        self.previews[preview.id] = preview
        return preview

    def preview(self, preview_id: str, operator_id: int) -> Preview | None:
        """Returns the operator's preview, unless it expired."""
        preview = self.previews.get(preview_id)
        if preview is None or preview.operator_id != operator_id:
            return None
        if time.monotonic() - preview.created > PREVIEW_TTL_S:
            del self.previews[preview_id]
            return None
        return preview

    def job(self, job_id: str, operator_id: int) -> ImportJob | None:
        """Returns the operator's import job."""
        job = self.jobs.get(job_id)
        return job if job is not None and job.operator_id == operator_id else None

    def start(
        self,
        sessions: async_sessionmaker[AsyncSession],
        checked: CheckedFile,
        *,
        operator_id: int,
        now: datetime,
        job_id: str | None = None,
    ) -> ImportJob:
        """Starts importing the good rows of `checked` in the background; returns the job to poll."""
        self._prune()
        job = ImportJob(job_id or secrets.token_urlsafe(12), operator_id, len(checked.good), len(checked.bad))
        self.jobs[job.id] = job
        task = asyncio.create_task(run_import(sessions, checked, job, now=now))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    def _prune(self) -> None:
        now = time.monotonic()
        for key in [key for key, kept in self.previews.items() if now - kept.created > PREVIEW_TTL_S]:
            del self.previews[key]  # names and numbers leave memory once the go-ahead can no longer come
        while len(self.previews) >= MAX_KEPT:
            del self.previews[next(iter(self.previews))]
        finished = [key for key, job in self.jobs.items() if job.state != "running"]
        for key in finished[: max(0, len(self.jobs) - MAX_KEPT + 1)]:
            del self.jobs[key]  # the oldest finished ones; a running job is never forgotten


async def run_import(
    sessions: async_sessionmaker[AsyncSession], checked: CheckedFile, job: ImportJob, *, now: datetime
) -> None:
    """Adds the good rows in batches in one transaction, audits, and records the outcome on `job`."""
    rows = [row.fields for row in checked.good if row.fields is not None]
    ids: list[int] = []
    try:
        async with sessions() as session, session.begin():
            taken = await stored_phones(session, [row.phone for row in rows if row.phone])
            if taken:  # another import or a sign-up took a number since the preview
                raise _Stale(
                    f"{len(taken)} phone number(s) now belong to stored patients: check the file again"
                )
            for start in range(0, len(rows), BATCH_ROWS):
                batch = rows[start : start + BATCH_ROWS]
                ids.extend(await add_enrolled(session, batch, operator_id=job.operator_id, now=now))
                job.done = min(job.total, start + BATCH_ROWS)
                await asyncio.sleep(0)  # let progress polls in between batches
            await audit(
                session,
                now,
                operator_id=job.operator_id,
                action="patient.import",
                detail={"rows": len(checked.rows), "imported": len(ids), "skipped": job.skipped},
            )
    except _Stale as exc:
        job.state, job.message, job.done = "failed", f"Nothing was imported: {exc}.", 0
        return
    except SQLAlchemyError as exc:  # its text would quote the rows' values: log the kind only
        log.warning("CSV import rolled back: %s", type(exc).__name__)
        job.state, job.message, job.done = "failed", "Nothing was imported: the database refused a row.", 0
        return
    except Exception as exc:  # a bug: the page must stop waiting, and the log must name no patient
        log.error("CSV import failed: %s", type(exc).__name__)
        job.state, job.message, job.done = "failed", "Nothing was imported: an unexpected error (logged).", 0
        return
    job.patient_ids = ids
    job.state = "done"
    job.message = _count(len(ids), "patient") + " imported"
    job.message += f", {_count(job.skipped, 'bad row')} skipped." if job.skipped else "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class _Stale(Exception):
    pass


async def add_enrolled(
    session: AsyncSession, batch: list[PatientFields], *, operator_id: int | None, now: datetime
) -> list[int]:
    """Adds signing-up patients with an invite each, their SMS address and next dose; returns their ids.

    Patients and courses are flushed for their ids; addresses, invites and doses go in one statement each.
    """
    patients = [
        Patient(
            display_name=fields.name,
            language=fields.language,
            timezone=fields.timezone,
            country=fields.country,
            status=PatientStatus.SIGNING_UP,
            formulation=fields.formulation,
            stage=fields.stage,
            sms_consent=False,
            created_at=now,
            updated_at=now,
        )
        for fields in batch
    ]
    session.add_all(patients)
    await session.flush()  # ids: one INSERT ... RETURNING per row (SQLite cannot batch them)
    addresses: list[dict[str, object]] = []
    invites: list[dict[str, object]] = []
    courses: list[tuple[TreatmentCourse, PatientFields]] = []
    for patient, fields in zip(patients, batch, strict=True):
        if fields.phone:
            addresses.append(
                {
                    "patient_id": patient.id,
                    "channel": Channel.SMS,
                    "address": fields.phone,
                    "state_changed_at": now,
                }
            )
        if fields.formulation is not None and fields.stage is not None and fields.next_dose_at is not None:
            course = TreatmentCourse(
                patient_id=patient.id,
                formulation=fields.formulation,
                started_at=fields.next_dose_at,
                active=True,
            )
            courses.append((course, fields))
        invites.append(invite_values(patient.id, operator_id, now))  # fresh patients: no earlier invite
    session.add_all([course for course, _ in courses])
    await session.flush()
    doses: list[dict[str, object]] = []
    for course, fields in courses:
        assert fields.formulation is not None and fields.stage is not None and fields.next_dose_at
        number = NEXT_DOSE_NUMBER[(fields.formulation, fields.stage)]
        kind = dose_kind(fields.formulation, number)
        doses.append(
            {
                "course_id": course.id,
                "number": number,
                "kind": kind.value,
                "amount_mg": kind.amount_mg,
                "planned_at": fields.next_dose_at,
                "location": fields.location,
                "status": DoseStatus.PLANNED,
                "source": SOURCE_CLINIC,
            }
        )
    # rows whose ids nobody needs go in one executemany each
    for model, values in ((ChannelAddress, addresses), (Invite, invites), (Dose, doses)):
        if values:
            await session.execute(insert(model), values)
    return [patient.id for patient in patients]


async def export_lines(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[str]:
    """Yields the patients CSV line by line (real patients, not erased), a page of rows per query."""
    yield header_line()
    after = 0
    while True:
        async with sessions() as session:
            patients = list(
                await session.scalars(
                    select(Patient)
                    .where(
                        Patient.id > after,
                        Patient.sandbox.is_(False),
                        Patient.status != PatientStatus.ERASED,
                    )
                    .order_by(Patient.id)
                    .limit(EXPORT_PAGE)
                )
            )
            if not patients:
                return
            ids = [patient.id for patient in patients]
            phones: dict[int, str] = {}
            for patient_id, address in await session.execute(
                select(ChannelAddress.patient_id, ChannelAddress.address)
                .where(ChannelAddress.patient_id.in_(ids), ChannelAddress.channel == Channel.SMS)
                .order_by(ChannelAddress.id.desc())
            ):
                phones[patient_id] = address  # the oldest wins: rows come newest first
            doses: dict[int, Dose] = {}
            for patient_id, dose in await session.execute(
                select(TreatmentCourse.patient_id, Dose)
                .join(Dose, Dose.course_id == TreatmentCourse.id)
                .where(
                    TreatmentCourse.patient_id.in_(ids),
                    TreatmentCourse.active.is_(True),
                    Dose.status == DoseStatus.PLANNED,
                )
                .order_by(Dose.planned_at.desc())
            ):
                doses[patient_id] = dose  # the soonest wins
        for patient in patients:
            dose = doses.get(patient.id)
            yield csv_line(
                [
                    patient.display_name or "",
                    phones.get(patient.id, ""),
                    patient.language.value,
                    patient.timezone,
                    patient.country or "",
                    patient.formulation.value if patient.formulation else "",
                    patient.stage or "",
                    local_wall(dose.planned_at if dose else None, patient.timezone),
                    (dose.location or "") if dose else "",
                ]
            )
        after = ids[-1]


async def invite_lines(sessions: async_sessionmaker[AsyncSession], patient_ids: list[int]) -> list[str]:
    """Returns a CSV of the imported patients' invite codes (name, phone, invite_code), to hand them out."""
    lines = [csv_line(["name", "phone", "invite_code"])]
    async with sessions() as session:
        for start in range(0, len(patient_ids), EXPORT_PAGE):
            ids = patient_ids[start : start + EXPORT_PAGE]
            found = await session.execute(
                select(ChannelAddress.patient_id, ChannelAddress.address).where(
                    ChannelAddress.patient_id.in_(ids), ChannelAddress.channel == Channel.SMS
                )
            )
            phones = dict(found.tuples().all())
            rows = await session.execute(
                select(Patient.id, Patient.display_name, Invite.code)
                .join(Invite, Invite.patient_id == Patient.id)
                .where(Patient.id.in_(ids), Invite.used_at.is_(None))
                .order_by(Patient.id)
            )
            lines.extend(csv_line([name or "", phones.get(pid, ""), code]) for pid, name, code in rows)
    return lines
