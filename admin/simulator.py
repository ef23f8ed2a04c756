"""The simulator pages: chat with the service as a sandbox patient on the web channel, and jump its clock.

A sandbox patient is created here (web address, `sandbox=True`); what the operator types becomes an
`InboundEvent` for a dialog engine on the patient's sandbox clock (`admin.sandbox`); the replies, and the
reminders the sandbox dispatch sends, are written to message_log and shown as the conversation; the last
options offered are buttons. Needs the operator role (it writes patients and audit rows).
Must not import `ocrebot`.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from admin.auth import Actor, require_role
from admin.rendering import render
from admin.sandbox import Sandbox, create_sandbox_patient, log_message, sandbox_patient
from bot.dialog.events import InboundEvent
from storage.models import Direction, Language, MessageLog, OperatorRole, Patient

router = APIRouter(prefix="/admin/simulator", include_in_schema=False)
Page = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR, page=True))]


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox  # type: ignore[no-any-return]


@router.get("")
async def simulator_home(request: Request, actor: Page) -> Response:
    """The sandbox patients, and a form to start a new one."""
    services = request.app.state.services
    async with services.sessions() as db:
        patients = list(
            await db.scalars(
                select(Patient).where(Patient.sandbox.is_(True)).order_by(Patient.id.desc()).limit(50)
            )
        )
    return render(
        request,
        "simulator_list.html",
        actor,
        patients=patients,
        languages=list(Language),
        default_timezone=services.settings.default_timezone,
    )


@router.post("")
async def simulator_new(
    request: Request,
    actor: Page,
    language: Annotated[Language, Form()] = Language.EN,
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    """Creates a sandbox patient and opens their conversation."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "timezone: not an IANA time zone"
        ) from None
    services = request.app.state.services
    patient_id = await create_sandbox_patient(
        services.sessions,
        operator_id=actor.operator_id,
        language=language,
        timezone=timezone,
        now=services.clock.now(),
    )
    return RedirectResponse(f"/admin/simulator/{patient_id}", status.HTTP_303_SEE_OTHER)


@router.get("/{patient_id}")
async def simulator_chat(request: Request, actor: Page, patient_id: int) -> Response:
    """The conversation so far, the sandbox clock, the options offered last."""
    sandbox = _sandbox(request)
    async with request.app.state.services.sessions() as db:
        found = await sandbox_patient(db, patient_id)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such sandbox patient")
        transcript = list(
            await db.scalars(
                select(MessageLog)
                .where(MessageLog.patient_id == patient_id)
                .order_by(MessageLog.created_at, MessageLog.id)
            )
        )
    clock = await sandbox.clock_for(patient_id)
    return render(
        request,
        "simulator.html",
        actor,
        patient=found[0],
        transcript=transcript,
        options=sandbox.choices.get(patient_id, []),
        sandbox_now=clock.now(),
        offset_h=int(clock.offset.total_seconds() // 3600),
    )


@router.post("/{patient_id}/say")
async def simulator_say(
    request: Request,
    actor: Page,
    patient_id: int,
    text: Annotated[str, Form(max_length=1000)] = "",
    option: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Sends what the operator typed (or the button pressed) as the patient, at sandbox time."""
    sandbox = _sandbox(request)
    sessions = request.app.state.services.sessions
    async with sessions() as db:
        found = await sandbox_patient(db, patient_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such sandbox patient")
    if not text.strip() and not option:
        return RedirectResponse(f"/admin/simulator/{patient_id}", status.HTTP_303_SEE_OTHER)
    label = next((o.label for o in sandbox.choices.get(patient_id, []) if o.key == option), None)
    clock = await sandbox.clock_for(patient_id)
    event = InboundEvent(
        channel=found[1].channel,
        address=found[1].address,
        text=text.strip() or None if not option else None,
        option=option or None,
        received_at=clock.now(),
    )
    replies = await sandbox.dialog(clock).step(event)
    async with sessions() as db, db.begin():
        if await db.get(Patient, patient_id) is not None:  # "delete my data" removes the patient
            await log_message(db, patient_id, Direction.INBOUND, label or text.strip() or option, clock.now())
            for reply in replies:
                await log_message(db, patient_id, Direction.OUTBOUND, reply.text, clock.now())
    if await _still_there(request, patient_id) is False:
        sandbox.choices.pop(patient_id, None)
        return RedirectResponse("/admin/simulator", status.HTTP_303_SEE_OTHER)
    last_options = [option for reply in replies for option in reply.options]
    sandbox.choices[patient_id] = last_options
    await sandbox.deliver_until(patient_id, clock.now())
    return RedirectResponse(f"/admin/simulator/{patient_id}", status.HTTP_303_SEE_OTHER)


@router.post("/{patient_id}/jump")
async def simulator_jump(
    request: Request, actor: Page, patient_id: int, hours: Annotated[int, Form()]
) -> Response:
    """Moves the sandbox clock forward, delivering each reminder that falls due on the way."""
    sandbox = _sandbox(request)
    async with request.app.state.services.sessions() as db:
        if await sandbox_patient(db, patient_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such sandbox patient")
    try:
        await sandbox.jump(patient_id, hours, operator_id=actor.operator_id)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"hours: {exc}") from None
    return RedirectResponse(f"/admin/simulator/{patient_id}", status.HTTP_303_SEE_OTHER)


async def _still_there(request: Request, patient_id: int) -> bool:
    async with request.app.state.services.sessions() as db:
        return await db.get(Patient, patient_id) is not None
