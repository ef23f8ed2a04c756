"""The console's pages: sign-in and sign-out, dashboard, patient search, a patient's page and its buttons.

Every page but the sign-in needs a session (`admin.auth.page_actor`); every form carries a CSRF token; a
button posts, then redirects back (post/redirect/get) with a notice. Sign-in failures are counted per
(email, client address): after `MAX_FAILURES` within the window, sign-in is refused until it passes.
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from admin import accounts, actions, enroll, queries
from admin.auth import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Actor,
    console_of,
    now_of,
    page_actor,
    require_role,
    safe_next,
    session_of,
)
from admin.quiet_hours import QuietHoursIn, quiet_hours_of, set_quiet_hours
from admin.rendering import render
from admin.security import SessionData, throttle_key, verify_password
from care.formulation import Formulation
from storage import invites, sms
from storage.models import Channel, OperatorRole, PatientStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)
Reader = Annotated[Actor, Depends(page_actor)]
Changer = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR, page=True))]

NOTICES = {
    "pause": "Reminders paused.",
    "resume": "Reminders resumed.",
    "unsubscribe": "Patient unsubscribed: nothing more will be sent.",
    "ack": "Alert acknowledged.",
    "quiet": "Quiet hours saved; pending messages moved to fit.",
    "signed_out": "You are signed out.",
    "enrolled": "Patient enrolled: give them the invite below.",
    "invite": "New invite made.",
    "telegram_link": "Link invite made: the patient opens the link, or scans the QR code, in Telegram.",
    "invite_sms_sent": "Invite sent by SMS.",
    "invite_sms_failed": "The SMS invite could not be sent: give the patient the code or the QR code.",
    "invite_sms_sms_off": "SMS is not configured: no SMS was sent. Give the patient the code or the QR code.",
    "invite_sms_opted_out": "That number texted STOP: no SMS was sent.",
    "appointment": "Appointment saved: the reminders follow it.",
    "dose": "Dose recorded: the reminders start again from it.",
    "one_off": "Message queued: it goes out now.",
    "tips_off": "Weekly tips turned off.",
    "sms_number_set": "SMS number saved: it was texted to reply YES. SMS starts when that phone does.",
    "sms_number_same": "That is already the patient's SMS number: nothing changed.",
    "sms_number_removed": "SMS number removed: nothing more is texted to it.",
    "erased": "Patient erased.",
}
THROTTLED = "Too many failed sign-ins. Try again in 15 minutes."
WRONG = "Wrong email or password."


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=console_of(request).secure_cookies,
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request, *, next_path: str, email: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    nonce = request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(24)
    csrf = console_of(request).signer.csrf_token(nonce)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        csrf_token=csrf,
        next=next_path,
        email=email,
        error=error,
        notice=_notice(request),
    )
    _cookie(response, request, PRELOGIN_COOKIE, nonce, 3600)
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (or the dashboard, for someone signed in)."""
    if session_of(request) is not None:
        return RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/admin/",
) -> Response:
    """Checks the password; on success sets the session cookie and goes where the operator was headed."""
    console = console_of(request)
    if not console.signer.csrf_ok(request.cookies.get(PRELOGIN_COOKIE), csrf_token):
        return _login_page(
            request,
            next_path=safe_next(next),
            email=email,
            error="The form expired; try again.",
            status_code=403,
        )
    services = request.app.state.services
    now = now_of(request)
    key = throttle_key(email, _client(request))
    async with services.sessions() as db, db.begin():
        if await accounts.recent_failures(db, key, now) >= accounts.MAX_FAILURES:
            await accounts.audit(db, now, operator_id=None, action="operator.login_throttled")
            log.warning("console sign-in throttled")
            error, code, operator = THROTTLED, 429, None
        else:
            operator = await accounts.find_operator(db, email)
            # argon2 takes about a second of CPU: in a thread (it releases the GIL), not on the loop
            ok = await asyncio.to_thread(
                verify_password, operator.password_hash if operator else None, password
            )
            if ok and operator is not None and operator.active:
                operator.last_login_at = now
                await accounts.clear_failures(db, key)
                await accounts.audit(db, now, operator_id=operator.id, action="operator.login")
                error, code = None, 303
            else:
                await accounts.note_failure(db, key, now)
                await accounts.audit(
                    db,
                    now,
                    operator_id=None,
                    action="operator.login_failed",
                    detail={"operator": operator.id} if operator else {},
                )
                error, code, operator = WRONG, 401, None
    if error is not None or operator is None:
        return _login_page(request, next_path=safe_next(next), email=email, error=error, status_code=code)
    cookie = console.signer.dump_session(
        SessionData(operator.id, secrets.token_urlsafe(24), int(now.timestamp()))
    )
    response = RedirectResponse(safe_next(next), status.HTTP_303_SEE_OTHER)
    _cookie(response, request, SESSION_COOKIE, cookie, SESSION_MAX_AGE_S)
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, actor: Reader) -> Response:
    """Ends the session (a form post with the CSRF token, so no other site can sign anyone out)."""
    form = await request.form()
    if not console_of(request).signer.csrf_ok(actor.session_id, str(form.get("csrf_token") or "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    async with request.app.state.services.sessions() as db, db.begin():
        await accounts.audit(db, now_of(request), operator_id=actor.operator_id, action="operator.logout")
    response = RedirectResponse("/admin/login?notice=signed_out", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def dashboard(request: Request, actor: Reader) -> Response:
    """Today's and this week's appointments, flagged check-ins and their age, troubled deliveries."""
    services = request.app.state.services
    async with services.sessions() as db:
        board = await queries.dashboard(db, now_of(request), services.settings.default_timezone)
    return render(request, "dashboard.html", actor, board=board, notice=_notice(request))


@router.get("/patients")
async def patients(
    request: Request,
    actor: Reader,
    q: str = "",
    formulation: str = "",
    offset: int = 0,
) -> Response:
    """The patient search (unknown filter values are ignored, as a browser form may send blanks)."""
    status_value = request.query_params.get("status", "")
    chosen_status = PatientStatus(status_value) if status_value in PatientStatus._value2member_map_ else None
    chosen_formulation = Formulation(formulation) if formulation in Formulation._value2member_map_ else None
    limit, offset = 50, max(0, offset)
    async with request.app.state.services.sessions() as db:
        page = await queries.search_patients(
            db,
            query=q[:100],
            status=chosen_status,
            formulation=chosen_formulation,
            limit=limit,
            offset=offset,
        )

    def pager(to: int) -> str:
        return urlencode({"q": q, "status": status_value, "formulation": formulation, "offset": max(0, to)})

    return render(
        request,
        "patients.html",
        actor,
        page=page,
        q=q,
        status=status_value,
        formulation=formulation,
        statuses=list(PatientStatus),
        formulations=list(Formulation),
        offset=offset,
        limit=limit,
        pager=pager,
        notice=_notice(request),
    )


@router.get("/patients/{patient_id}")
async def patient(request: Request, actor: Reader, patient_id: int) -> Response:
    """A patient's profile, channels, doses, check-ins (with the acknowledge form) and timeline."""
    return await patient_page(request, actor, patient_id, notice=_notice(request))


async def patient_page(
    request: Request, actor: Actor, patient_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    """Renders the patient page; `extra` carries a form's errors, warnings and values back to it."""
    now = now_of(request)
    async with request.app.state.services.sessions() as db:
        record = await queries.patient_record(db, patient_id)
        invite = await enroll.open_invite(db, patient_id, now) if record is not None else None
        linkable = (
            record is not None and record.patient.status in enroll.LINKABLE and not record.patient.sandbox
        )
        if invite is not None and linkable and not await invites.made_for_link(db, invite):
            invite = None  # a sign-up code left open links nobody now: not shown as a link
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient")
    link, bot_name = None, None
    if (invite is not None or linkable) and actor.may(OperatorRole.OPERATOR):
        bot_name = await enroll.bot_name_of(request.app.state).username()
        link = enroll.telegram_link(bot_name, invite.code) if invite is not None else None
    current = record.patient.status
    buttons = [
        ("pause", "Pause reminders", current is PatientStatus.ACTIVE),
        ("resume", "Resume reminders", current is PatientStatus.PAUSED),
        (
            "unsubscribe",
            "Unsubscribe",
            current in (PatientStatus.SIGNING_UP, PatientStatus.ACTIVE, PatientStatus.PAUSED),
        ),
    ]
    sms_addresses = [a for a in record.addresses if a.channel is Channel.SMS]
    sms_address = max(sms_addresses, key=lambda a: a.id) if sms_addresses else None
    return render(
        request,
        "patient.html",
        actor,
        status_code=status_code,
        r=record,
        buttons=buttons,
        invite=invite,
        invite_link=link,
        invite_qr=enroll.qr_svg(link) if link else None,
        linkable=linkable,
        telegram_on=bot_name is not None,
        sms_on=enroll.sms_sender_of(request.app.state) is not None,
        patient_now=now.astimezone(ZoneInfo(record.patient.timezone)),
        quiet=quiet_hours_of(record.patient, request.app.state.services.plan),
        sms_number=sms_address.address if sms_address else None,
        sms_state=sms.number_state(record.patient, sms_address),
        **({"errors": {}, "warnings": [], "form": {}} | extra),
    )


@router.post("/patients/{patient_id}/quiet-hours")
async def patient_quiet_hours(
    request: Request,
    actor: Changer,
    patient_id: int,
    start: Annotated[str, Form(max_length=5)] = "",
    end: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Sets the patient's quiet hours from the patient page (both empty: the usual ones)."""
    services = request.app.state.services
    try:
        body = QuietHoursIn(start=start, end=end)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'hours'}: {e['msg']}" for e in exc.errors())
        raise HTTPException(422, f"quiet hours not changed: {problems}") from None
    try:
        await set_quiet_hours(
            services.sessions,
            patient_id,
            body.quiet_hours(),
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    return RedirectResponse(f"/admin/patients/{patient_id}?notice=quiet", status.HTTP_303_SEE_OTHER)


@router.post("/patients/{patient_id}/{action}")
async def patient_action(
    request: Request, actor: Changer, patient_id: int, action: actions.StatusAction
) -> Response:
    """Pause, resume or unsubscribe from the patient page."""
    services = request.app.state.services
    try:
        await actions.change_status(
            services.sessions,
            patient_id,
            action,
            operator_id=actor.operator_id,
            plan=services.plan,
            now=now_of(request),
        )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient") from None
    except actions.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return RedirectResponse(f"/admin/patients/{patient_id}?notice={action.value}", status.HTTP_303_SEE_OTHER)


@router.post("/alerts/{check_in_id}/ack")
async def ack(
    request: Request,
    actor: Changer,
    check_in_id: int,
    note: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """Acknowledges a flagged check-in from the patient page."""
    try:
        row = await actions.acknowledge_alert(
            request.app.state.services.sessions,
            check_in_id,
            note,
            operator_id=actor.operator_id,
            now=now_of(request),
        )
    except actions.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such alert") from None
    except actions.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return RedirectResponse(
        f"/admin/patients/{row.patient_id}?notice=ack#check-ins", status.HTTP_303_SEE_OTHER
    )
