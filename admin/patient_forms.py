"""The console's forms that change a patient's care: enroll (and invite), a Telegram link invite for a
patient already signed up, next appointment, dose given, one-off message, SMS number, erase. Each posts, then
redirects back with a notice (post/redirect/get); a refusal re-renders the patient page with the reason
beside the form (422), or, for an appointment that breaks a label rule, with its warnings and a "Book
anyway" button (409). Operators and admins only: viewers see no form and get 403. The router is installed
before `admin.pages` (its `/patients/{id}/{action}` would match).
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from admin import actions, doses, enroll, messages, sms_number, tips
from admin.api import invite_answer, new_patient
from admin.auth import Actor, now_of, require_role
from admin.pages import patient_page
from admin.rendering import render
from admin.schemas import EnrollIn
from care.formulation import Formulation
from storage.models import Language, OperatorRole

router = APIRouter(prefix="/admin", include_in_schema=False)
Changer = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR, page=True))]


def _back(patient_id: int, notice: str, anchor: str = "") -> Response:
    url = f"/admin/patients/{patient_id}?notice={notice}{anchor}"
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER)


def _local(value: str) -> datetime | None:
    """A datetime-local field's value ("2027-06-01T10:30"), or None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)


def _sms_on(request: Request) -> bool:
    return enroll.sms_sender_of(request.app.state) is not None


@router.get("/enroll")
async def enroll_form(request: Request, actor: Changer) -> Response:
    """The enrolment form."""
    return _enroll_page(request, actor, {}, {})


def _enroll_page(
    request: Request, actor: Actor, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    settings = request.app.state.services.settings
    return render(
        request,
        "enroll.html",
        actor,
        status_code=status_code,
        values={"language": settings.default_language, "timezone": settings.default_timezone} | values,
        errors=errors,
        languages=list(Language),
        formulations=list(Formulation),
        sms_on=_sms_on(request),
    )


@router.post("/enroll")
async def enroll_submit(request: Request, actor: Changer) -> Response:
    """Enrolls the patient and makes the invite (texted when a phone is given); then their page. The form's
    nonce makes a repeated post answer the first enrolment."""
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in EnrollIn.model_fields}
    try:
        body = EnrollIn.model_validate({name: value for name, value in values.items() if value})
    except ValidationError as exc:
        errors = {
            str(error["loc"][0]): str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()
        }
        return _enroll_page(request, actor, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)
    nonce = str(form.get("nonce") or "")
    key = nonce if messages.valid_key(nonce) else None  # a double-click or retry enrolls and texts once
    enrolled = await enroll.enroll(
        request.app.state.services.sessions,
        new_patient(request, body),
        operator_id=actor.operator_id,
        now=now_of(request),
        key=key,
    )
    answer = await invite_answer(request, actor, enrolled.invite, body.phone, key)
    return _back(enrolled.patient_id, f"invite_sms_{answer.sms}" if answer.sms else "enrolled", "#invite")


@router.post("/patients/{patient_id}/invite")
async def invite_submit(
    request: Request,
    actor: Changer,
    patient_id: int,
    phone: Annotated[str, Form(max_length=32)] = "",
    nonce: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Makes a fresh invite, or texts the open one to a number (once per form: its nonce)."""
    number = None
    if phone.strip():
        try:
            number = enroll.e164(phone)
        except enroll.BadPhone as exc:
            return await patient_page(
                request, actor, patient_id, status_code=422, errors={"phone": f"The number {exc}."}
            )
    sessions = request.app.state.services.sessions
    try:
        invite = await enroll.invitable_open_invite(sessions, patient_id, now_of(request)) if number else None
        if invite is None:
            invite = await enroll.make_invite(
                sessions, patient_id, operator_id=actor.operator_id, now=now_of(request)
            )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    key = nonce if messages.valid_key(nonce) else None
    answer = await invite_answer(request, actor, invite, number, key)
    return _back(patient_id, f"invite_sms_{answer.sms}" if answer.sms else "invite", "#invite")


@router.post("/patients/{patient_id}/link-telegram")
async def link_telegram_submit(
    request: Request,
    actor: Changer,
    patient_id: int,
    link_nonce: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Makes a Telegram link invite for a patient active or paused (once per form: its nonce)."""
    try:
        await enroll.make_invite(
            request.app.state.services.sessions,
            patient_id,
            operator_id=actor.operator_id,
            now=now_of(request),
            key=link_nonce if messages.valid_key(link_nonce) else None,
        )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _back(patient_id, "telegram_link", "#link-telegram")


@router.post("/patients/{patient_id}/appointment")
async def appointment_submit(
    request: Request,
    actor: Changer,
    patient_id: int,
    starts_at: Annotated[str, Form(max_length=40)] = "",
    location: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Sets the next appointment; shows the label warnings to confirm, or why the date cannot be."""
    when = _local(starts_at)
    form = {"starts_at": starts_at, "location": location}
    if when is None:
        return await _refused(request, actor, patient_id, "starts_at", "Give a date and time.", form)
    services = request.app.state.services
    try:
        await doses.set_appointment(
            services.sessions,
            patient_id,
            when,
            location.strip() or None,
            confirm=confirm == "yes",
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except doses.BadDate as exc:
        return await _refused(request, actor, patient_id, "starts_at", f"The date {exc.message}.", form)
    except doses.NeedsConfirmation as exc:
        return await patient_page(
            request, actor, patient_id, status_code=409, warnings=exc.warnings, form=form
        )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        return await _refused(request, actor, patient_id, "starts_at", str(exc).capitalize() + ".", form, 409)
    return _back(patient_id, "appointment", "#doses")


@router.post("/patients/{patient_id}/dose")
async def dose_submit(
    request: Request, actor: Changer, patient_id: int, given_at: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    """Records a dose given; the reminders re-anchor on it."""
    when = _local(given_at)
    form = {"given_at": given_at}
    if when is None:
        message = "Give the date and time it was given."
        return await _refused(request, actor, patient_id, "given_at", message, form)
    services = request.app.state.services
    try:
        await doses.record_dose(
            services.sessions,
            patient_id,
            when,
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except doses.BadDate as exc:
        return await _refused(request, actor, patient_id, "given_at", f"The date {exc.message}.", form)
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        return await _refused(request, actor, patient_id, "given_at", str(exc).capitalize() + ".", form, 409)
    return _back(patient_id, "dose", "#doses")


@router.post("/patients/{patient_id}/message")
async def message_submit(
    request: Request,
    actor: Changer,
    patient_id: int,
    text: Annotated[str, Form(max_length=1000)] = "",
    nonce: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Queues a one-off message, sent now as written; the form's nonce makes a repeated post a no-op."""
    form = {"text": text}
    if not text.strip():
        return await _refused(request, actor, patient_id, "text", "Write the message first.", form)
    try:
        queued = await messages.queue_one_off(
            request.app.state.services.sessions,
            patient_id,
            text,
            operator_id=actor.operator_id,
            now=now_of(request),
            key=nonce if messages.valid_key(nonce) else None,
        )
    except messages.TooLong as exc:
        return await _refused(request, actor, patient_id, "text", f"The message {exc}.", form)
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        return await _refused(request, actor, patient_id, "text", str(exc).capitalize() + ".", form, 409)
    if queued.sandbox:  # the simulator's patients live on their own clock: deliver it there, now
        sandbox = request.app.state.sandbox
        await sandbox.deliver_until(patient_id, (await sandbox.clock_for(patient_id)).now())
    return _back(patient_id, "one_off", "#timeline")


@router.post("/patients/{patient_id}/tips-off")
async def tips_off_submit(request: Request, actor: Changer, patient_id: int) -> Response:
    """Turns the patient's weekly tips off (turning them on is the patient's own choice)."""
    services = request.app.state.services
    try:
        await tips.switch_tips(
            services.sessions, patient_id, False, operator_id=actor.operator_id, plan=services.plan,
            now=now_of(request),
        )  # fmt: skip
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    return _back(patient_id, "tips_off")


@router.post("/patients/{patient_id}/sms-number")
async def sms_number_submit(
    request: Request, actor: Changer, patient_id: int, phone: Annotated[str, Form(max_length=32)] = ""
) -> Response:
    """Sets the patient's SMS number; it is texted to reply YES (the same number again changes nothing)."""
    form = {"sms_phone": phone}
    try:
        number = enroll.e164(phone)
    except enroll.BadPhone as exc:
        return await _refused(request, actor, patient_id, "sms_phone", f"The number {exc}.", form)
    services = request.app.state.services
    try:
        answer = await sms_number.set_sms_number(
            services.sessions, patient_id, number, sms_on=_sms_on(request), operator_id=actor.operator_id,
            plan=services.plan, now=now_of(request),
        )  # fmt: skip
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        message = str(exc).capitalize() + "."
        return await _refused(request, actor, patient_id, "sms_phone", message, form, 409)
    return _back(patient_id, "sms_number_set" if answer.changed else "sms_number_same", "#sms-number")


@router.post("/patients/{patient_id}/sms-number/remove")
async def sms_number_remove_submit(request: Request, actor: Changer, patient_id: int) -> Response:
    """Removes the patient's SMS number."""
    services = request.app.state.services
    try:
        await sms_number.remove_sms_number(
            services.sessions, patient_id, operator_id=actor.operator_id, plan=services.plan,
            now=now_of(request),
        )  # fmt: skip
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        return await _refused(request, actor, patient_id, "sms_phone", str(exc).capitalize() + ".", {}, 409)
    return _back(patient_id, "sms_number_removed", "#sms-number")


@router.post("/patients/{patient_id}/erase")
async def erase_submit(
    request: Request, actor: Changer, patient_id: int, confirm: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    """Erases every record of the patient once their number is typed."""
    try:
        await messages.erase(
            request.app.state.services.sessions,
            patient_id,
            confirm,
            operator_id=actor.operator_id,
            now=now_of(request),
        )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except messages.NotConfirmed:
        message = f"Type {patient_id} to confirm: erasing cannot be undone."
        return await _refused(request, actor, patient_id, "confirm", message, {})
    return RedirectResponse("/admin/patients?notice=erased", status.HTTP_303_SEE_OTHER)


async def _refused(
    request: Request,
    actor: Actor,
    patient_id: int,
    field: str,
    message: str,
    form: dict[str, str],
    status_code: int = 422,
) -> Response:
    return await patient_page(
        request, actor, patient_id, status_code=status_code, errors={field: message}, form=form
    )
