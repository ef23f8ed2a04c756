"""The JSON API under /api: patients (search, record, pause/resume/unsubscribe, quiet hours) and alerts
(list, ack).

Every route needs a session cookie or a Bearer token (`admin.auth`); changes need the operator role and,
with a cookie, the CSRF header. Bad input is a 422 naming the field (FastAPI's validation).
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from admin import actions, queries
from admin.auth import Actor, api_actor, now_of, require_role
from admin.quiet_hours import QuietHoursIn, QuietHoursOut, read_quiet_hours, set_quiet_hours
from admin.schemas import (
    AckIn,
    AckOut,
    AlertOut,
    CheckInOut,
    DoseOut,
    LogItem,
    PatientDetail,
    PatientList,
    PatientSummary,
    StatusChangeOut,
    TimelineItem,
)
from care.formulation import Formulation
from storage import alerts
from storage.models import OperatorRole, PatientStatus

router = APIRouter(prefix="/api", tags=["console"])
Reader = Annotated[Actor, Depends(api_actor)]
Changer = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR))]


@router.get("/patients", response_model=PatientList)
async def list_patients(
    request: Request,
    actor: Reader,
    q: Annotated[str | None, Query(max_length=100, description="name, phone or chat id contains")] = None,
    status_: Annotated[PatientStatus | None, Query(alias="status")] = None,
    formulation: Formulation | None = None,
    sandbox: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PatientList:
    """Searches patients by name, phone or chat id; filters by status and formulation; pages."""
    async with request.app.state.services.sessions() as session:
        page = await queries.search_patients(
            session,
            query=q,
            status=status_,
            formulation=formulation,
            sandbox=sandbox,
            limit=limit,
            offset=offset,
        )
    items = [
        PatientSummary.model_validate(patient).model_copy(
            update={"channels": list(page.channels[patient.id])}
        )
        for patient in page.patients
    ]
    return PatientList(items=items, total=page.total, limit=limit, offset=offset)


@router.get("/patients/{patient_id}", response_model=PatientDetail)
async def get_patient(request: Request, actor: Reader, patient_id: int) -> PatientDetail:
    """One patient: profile, channels and their state, doses, outbox timeline, check-ins, message log."""
    async with request.app.state.services.sessions() as session:
        record = await queries.patient_record(session, patient_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient")
    summary = PatientSummary.model_validate(record.patient).model_dump(exclude={"channels"})
    return PatientDetail(
        **summary,
        channels=record.addresses,  # type: ignore[arg-type]
        country=record.patient.country,
        stage=record.patient.stage,
        consented_at=record.patient.consented_at,
        sms_consent=record.patient.sms_consent,
        doses=[DoseOut.model_validate(dose) for dose in record.doses],
        timeline=[
            TimelineItem.model_validate(row).model_copy(update={"text": text})
            for row, text in record.messages
        ],
        check_ins=[CheckInOut.model_validate(row) for row in record.check_ins],
        messages=[LogItem.model_validate(row) for row in record.log],
    )


async def _change(
    request: Request, actor: Actor, patient_id: int, action: actions.StatusAction
) -> StatusChangeOut:
    services = request.app.state.services
    try:
        change = await actions.change_status(
            services.sessions,
            patient_id,
            action,
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except actions.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except actions.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return StatusChangeOut(
        patient_id=change.patient_id,
        before=change.before,
        after=change.after,
        cancelled_messages=change.cancelled,
    )


@router.post("/patients/{patient_id}/pause", response_model=StatusChangeOut)
async def pause_patient(request: Request, actor: Changer, patient_id: int) -> StatusChangeOut:
    """Pauses an active patient's reminders (pending messages are cancelled)."""
    return await _change(request, actor, patient_id, actions.StatusAction.PAUSE)


@router.post("/patients/{patient_id}/resume", response_model=StatusChangeOut)
async def resume_patient(request: Request, actor: Changer, patient_id: int) -> StatusChangeOut:
    """Resumes a paused patient (the plan is written again from now)."""
    return await _change(request, actor, patient_id, actions.StatusAction.RESUME)


@router.post("/patients/{patient_id}/unsubscribe", response_model=StatusChangeOut)
async def unsubscribe_patient(request: Request, actor: Changer, patient_id: int) -> StatusChangeOut:
    """Stops every message to the patient (they can restart themselves with START)."""
    return await _change(request, actor, patient_id, actions.StatusAction.UNSUBSCRIBE)


@router.get("/patients/{patient_id}/quiet-hours", response_model=QuietHoursOut)
async def get_quiet_hours(request: Request, actor: Reader, patient_id: int) -> QuietHoursOut:
    """The patient's quiet hours (their own or the usual ones), in their local wall clock."""
    services = request.app.state.services
    async with services.sessions() as session:
        try:
            return await read_quiet_hours(session, patient_id, services.plan)
        except actions.NotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.put("/patients/{patient_id}/quiet-hours", response_model=QuietHoursOut)
async def put_quiet_hours(
    request: Request, actor: Changer, patient_id: int, body: QuietHoursIn
) -> QuietHoursOut:
    """Sets the patient's quiet hours (start and end null: the usual ones); pending messages move."""
    services = request.app.state.services
    try:
        return await set_quiet_hours(
            services.sessions,
            patient_id,
            body.quiet_hours(),
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except actions.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(
    request: Request, actor: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AlertOut]:
    """Flagged check-ins nobody acknowledged yet: most severe first, then oldest."""
    now = now_of(request)
    async with request.app.state.services.sessions() as session:
        rows = await alerts.open_alerts(session, limit=limit)
    return [
        AlertOut(
            id=row.check_in.id,
            patient_id=row.patient.id,
            patient_name=row.patient.display_name,
            sandbox=row.patient.sandbox,
            level=row.check_in.level,
            reason=str(row.check_in.reason),
            answer=row.check_in.answer,
            created_at=row.check_in.created_at,
            age_s=int((now - row.check_in.created_at).total_seconds()),
        )
        for row in rows
    ]


@router.post("/alerts/{check_in_id}/ack", response_model=AckOut)
async def ack_alert(request: Request, actor: Changer, check_in_id: int, body: AckIn) -> AckOut:
    """Acknowledges a flagged check-in with a note of what was done."""
    try:
        row = await actions.acknowledge_alert(
            request.app.state.services.sessions,
            check_in_id,
            body.note,
            operator_id=actor.operator_id,
            now=now_of(request),
        )
    except actions.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except actions.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    assert row.acknowledged_at is not None
    return AckOut(id=row.id, acknowledged_at=row.acknowledged_at, ack_note=row.ack_note)
