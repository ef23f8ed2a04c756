"""The JSON API under /api: patients (search, record, pause/resume/unsubscribe, enroll and invite, next
appointment, dose given, one-off message, erase, weekly tips, quiet hours, SMS number) and alerts (list,
ack).

Every route needs a session cookie or a Bearer token (`admin.auth`); changes need the operator role and,
with a cookie, the CSRF header. Bad input is a 422 naming the field (FastAPI's validation). A patient or alert
that does not exist (`actions.NotFound`) is a 404, an action that does not apply now (`actions.Conflict`) a
409, both with the message as `detail`: the handlers `install_refusals` puts on the app answer them once for
every route (a route catches them itself only to answer otherwise).
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from admin import actions, doses, enroll, messages, queries, sms_number, tips
from admin.auth import Actor, api_actor, now_of, require_role
from admin.quiet_hours import QuietHoursIn, QuietHoursOut, read_quiet_hours, set_quiet_hours
from admin.schemas import (
    AckIn,
    AckOut,
    AlertOut,
    AppointmentIn,
    AppointmentOut,
    CheckInOut,
    DoseGivenIn,
    DoseGivenOut,
    DoseOut,
    EnrollIn,
    EraseIn,
    InviteIn,
    InviteOut,
    LogItem,
    OneOffIn,
    OneOffOut,
    PatientDetail,
    PatientList,
    PatientSummary,
    StatusChangeOut,
    TimelineItem,
    WarningOut,
)
from care.formulation import Formulation
from storage import alerts
from storage.models import Invite, Language, OperatorRole, PatientStatus

router = APIRouter(prefix="/api", tags=["console"])
Reader = Annotated[Actor, Depends(api_actor)]
Changer = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR))]

# the refusals no route catches, and their status (`NotInvitable` is a Conflict; other ValueErrors are not)
REFUSALS = {actions.NotFound: status.HTTP_404_NOT_FOUND, actions.Conflict: status.HTTP_409_CONFLICT}


def install_refusals(app: FastAPI) -> None:
    """Puts on `app` the one handler of the `REFUSALS` errors that routes let through."""
    for error in REFUSALS:
        app.add_exception_handler(error, refused)


async def refused(request: Request, exc: Exception) -> JSONResponse:
    """A refusal's status and its message as `detail`, as HTTPException answers."""
    code = next(code for error, code in REFUSALS.items() if isinstance(exc, error))
    return JSONResponse({"detail": str(exc)}, status_code=code)


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
    change = await actions.change_status(
        services.sessions,
        patient_id,
        action,
        operator_id=actor.operator_id,
        plan=services.plan,
        now=now_of(request),
    )
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


@router.get("/patients/{patient_id}/tips", response_model=tips.TipsOut)
async def get_tips(request: Request, actor: Reader, patient_id: int) -> tips.TipsOut:
    """Whether the patient gets a weekly tip, and when the next one is due."""
    return await tips.tips_state(request.app.state.services.sessions, patient_id)


@router.put("/patients/{patient_id}/tips", response_model=tips.TipsOut)
async def put_tips(request: Request, actor: Changer, patient_id: int, body: tips.TipsIn) -> tips.TipsOut:
    """Turns the patient's weekly tips off (pending ones cancelled); on is the patient's own choice (409)."""
    services = request.app.state.services
    return await tips.switch_tips(
        services.sessions,
        patient_id,
        body.on,
        operator_id=actor.operator_id,
        plan=services.plan,
        now=now_of(request),
    )


@router.get("/patients/{patient_id}/quiet-hours", response_model=QuietHoursOut)
async def get_quiet_hours(request: Request, actor: Reader, patient_id: int) -> QuietHoursOut:
    """The patient's quiet hours (their own or the usual ones), in their local wall clock."""
    services = request.app.state.services
    async with services.sessions() as session:
        return await read_quiet_hours(session, patient_id, services.plan)


@router.put("/patients/{patient_id}/quiet-hours", response_model=QuietHoursOut)
async def put_quiet_hours(
    request: Request, actor: Changer, patient_id: int, body: QuietHoursIn
) -> QuietHoursOut:
    """Sets the patient's quiet hours (start and end null: the usual ones); pending messages move."""
    services = request.app.state.services
    return await set_quiet_hours(
        services.sessions,
        patient_id,
        body.quiet_hours(),
        operator_id=actor.operator_id,
        plan=services.plan,
        now=now_of(request),
    )


@router.put("/patients/{patient_id}/sms-number", response_model=sms_number.SmsNumberOut)
async def put_sms_number(
    request: Request, actor: Changer, patient_id: int, body: sms_number.SmsNumberIn
) -> sms_number.SmsNumberOut:
    """Sets the patient's SMS number (the old one removed): it is texted to reply YES, and SMS is on for the
    patient only after it does. The same number again changes nothing. 409 for a patient not active or
    sandbox, a number that is another patient's, or when SMS is not configured."""
    services = request.app.state.services
    return await sms_number.set_sms_number(
        services.sessions,
        patient_id,
        body.phone,
        sms_on=enroll.sms_sender_of(request.app.state) is not None,
        operator_id=actor.operator_id,
        plan=services.plan,
        now=now_of(request),
    )


@router.delete("/patients/{patient_id}/sms-number", response_model=sms_number.SmsNumberOut)
async def delete_sms_number(request: Request, actor: Changer, patient_id: int) -> sms_number.SmsNumberOut:
    """Removes the patient's SMS number: nothing more is texted to it (none to remove changes nothing)."""
    services = request.app.state.services
    return await sms_number.remove_sms_number(
        services.sessions, patient_id, operator_id=actor.operator_id, plan=services.plan, now=now_of(request)
    )


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
    row = await actions.acknowledge_alert(
        request.app.state.services.sessions,
        check_in_id,
        body.note,
        operator_id=actor.operator_id,
        now=now_of(request),
    )
    assert row.acknowledged_at is not None
    return AckOut(id=row.id, acknowledged_at=row.acknowledged_at, ack_note=row.ack_note)


def _field_error(field: str, message: str, value: object) -> RequestValidationError:
    """A 422 shaped like FastAPI's own: the body field and what is wrong with it."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


def _checked_key(idempotency_key: str | None) -> str | None:
    """The Idempotency-Key header as sent (None when absent); a 422 naming it when it is not a valid key."""
    if idempotency_key is not None and not messages.valid_key(idempotency_key):
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("header", "Idempotency-Key"), "input": idempotency_key,
              "msg": "must be 8 to 100 letters, digits or _ . : -"}]
        )  # fmt: skip
    return idempotency_key


def _api_key(actor: Actor, idempotency_key: str | None) -> str | None:
    """The operator's own key for an Idempotency-Key header (`api:<operator id>:<key>`), or None."""
    key = _checked_key(idempotency_key)
    return None if key is None else f"api:{actor.operator_id}:{key}"


async def _invite_out(request: Request, invite: Invite, sent: enroll.InviteSent | None) -> InviteOut:
    link = enroll.telegram_link(await enroll.bot_name_of(request.app.state).username(), invite.code)
    return InviteOut(
        patient_id=invite.patient_id,
        code=invite.code,
        expires_at=invite.expires_at,
        telegram_link=link,
        sms=sent.status if sent else None,
        sms_error=sent.error if sent else None,
    )


async def invite_answer(
    request: Request, actor: Actor, invite: Invite, phone: str | None, key: str | None = None
) -> InviteOut:
    """The invite's link, and its SMS sent to `phone` when one is given (console pages use it too); `key`
    makes a repeat text nothing (`enroll.send_sms_invite`)."""
    state = request.app.state
    sent = None
    if phone is not None:
        link = enroll.telegram_link(await enroll.bot_name_of(state).username(), invite.code)
        sent = await enroll.send_sms_invite(
            state.services.sessions,
            enroll.sms_sender_of(state),
            invite,
            phone,
            link,
            operator_id=actor.operator_id,
            now=now_of(request),
            key=key,
        )
    return await _invite_out(request, invite, sent)


def new_patient(request: Request, body: EnrollIn) -> enroll.NewPatient:
    """The patient to enroll (the console's form uses it too); the settings' language and zone by default."""
    settings = request.app.state.services.settings
    return enroll.NewPatient(
        display_name=body.display_name.strip(),
        language=body.language or Language(settings.default_language),
        timezone=body.timezone or settings.default_timezone,
        formulation=body.formulation,
    )


@router.post("/patients", response_model=InviteOut, status_code=status.HTTP_201_CREATED)
async def enroll_patient(
    request: Request,
    actor: Changer,
    body: EnrollIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> InviteOut:
    """Enrolls a patient (signing up) and makes their invite: Telegram link, SMS when a phone is given.

    With an `Idempotency-Key` header (8-100 letters, digits, `_.:-`), a retry answers the first request's
    patient, invite and SMS outcome, and neither enrolls nor texts again (409 if that patient was erased).
    """
    key = _api_key(actor, idempotency_key)
    services = request.app.state.services
    enrolled = await enroll.enroll(
        services.sessions,
        new_patient(request, body),
        operator_id=actor.operator_id,
        now=now_of(request),
        key=key,
    )
    return await invite_answer(request, actor, enrolled.invite, body.phone, key)


@router.post("/patients/{patient_id}/invites", response_model=InviteOut, status_code=status.HTTP_201_CREATED)
async def new_invite(
    request: Request,
    actor: Changer,
    patient_id: int,
    body: InviteIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> InviteOut:
    """Makes a fresh invite: for a patient still signing up (texted when a phone is given), or a Telegram
    link invite for one active or paused (no phone: theirs is known; 409 with one). 409 when stopped or
    sandbox.

    With an `Idempotency-Key` header, a retry answers the first request's invite (and SMS outcome), and
    neither makes nor texts another.
    """
    key = _api_key(actor, idempotency_key)
    if key is not None and body.phone is not None:
        earlier = await enroll.earlier_sms(request.app.state.services.sessions, patient_id, key)
        if earlier is not None:
            return await _invite_out(request, *earlier)
    invite = await enroll.make_invite(
        request.app.state.services.sessions,
        patient_id,
        operator_id=actor.operator_id,
        now=now_of(request),
        texted=body.phone is not None,
        key=key if body.phone is None else None,
    )
    return await invite_answer(request, actor, invite, body.phone, key if body.phone is not None else None)


@router.put("/patients/{patient_id}/appointment", response_model=AppointmentOut)
async def set_appointment(
    request: Request, actor: Changer, patient_id: int, body: AppointmentIn
) -> AppointmentOut:
    """Sets the next appointment; 409 with the label warnings unless `confirm`, 422 for an impossible date."""
    services = request.app.state.services
    try:
        booked = await doses.set_appointment(
            services.sessions,
            patient_id,
            body.starts_at,
            (body.location or "").strip() or None,
            confirm=body.confirm,
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except doses.BadDate as exc:
        raise _field_error("starts_at", exc.message, str(body.starts_at)) from None
    except doses.NeedsConfirmation as exc:
        warnings = [{"code": str(w.code), "message": w.message} for w in exc.warnings]
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {"message": "breaks a label rule: send again with confirm=true to book it", "warnings": warnings},
        ) from None
    return AppointmentOut(
        dose_id=booked.dose_id,
        number=booked.number,
        planned_at=booked.planned_at,
        warnings=[WarningOut(code=str(w.code), message=w.message) for w in booked.warnings],
    )


@router.post("/patients/{patient_id}/doses", response_model=DoseGivenOut, status_code=status.HTTP_201_CREATED)
async def record_dose(request: Request, actor: Changer, patient_id: int, body: DoseGivenIn) -> DoseGivenOut:
    """Records a dose as given; the reminders re-anchor on it as when the patient reports it."""
    services = request.app.state.services
    try:
        given = await doses.record_dose(
            services.sessions,
            patient_id,
            body.given_at,
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except doses.BadDate as exc:
        raise _field_error("given_at", exc.message, str(body.given_at)) from None
    return DoseGivenOut(
        dose_id=given.dose_id,
        number=given.number,
        given_at=given.given_at,
        suggested_next=given.suggested_next,
    )


@router.post(
    "/patients/{patient_id}/messages", response_model=OneOffOut, status_code=status.HTTP_202_ACCEPTED
)
async def send_one_off(
    request: Request,
    actor: Changer,
    patient_id: int,
    body: OneOffIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> OneOffOut:
    """Queues a one-off message, sent now as written in the patient's channel (not held by quiet hours).

    With an `Idempotency-Key` header (8-100 letters, digits, `_.:-`), a retry answers the first one's row.
    """
    key = _checked_key(idempotency_key)
    try:
        row = await messages.queue_one_off(
            request.app.state.services.sessions,
            patient_id,
            body.text,
            operator_id=actor.operator_id,
            now=now_of(request),
            key=key,
        )
    except messages.TooLong as exc:
        raise _field_error("text", str(exc), body.text) from None
    if row.sandbox:  # the simulator's patients live on their own clock: deliver it there, now
        sandbox = request.app.state.sandbox
        await sandbox.deliver_until(patient_id, (await sandbox.clock_for(patient_id)).now())
    return OneOffOut(message_id=row.message_id, due_at=row.due_at, status=row.status)


@router.post("/patients/{patient_id}/erase", status_code=status.HTTP_204_NO_CONTENT)
async def erase_patient(request: Request, actor: Changer, patient_id: int, body: EraseIn) -> Response:
    """Erases every record of the patient; `confirm` must be the patient's number. Cannot be undone."""
    try:
        await messages.erase(
            request.app.state.services.sessions,
            patient_id,
            body.confirm,
            operator_id=actor.operator_id,
            now=now_of(request),
        )
    except messages.NotConfirmed as exc:
        raise _field_error("confirm", str(exc), body.confirm) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
