"""Twilio's webhooks: inbound SMS (answered with TwiML) and delivery status callbacks, signatures checked.

Every request must carry a valid `X-Twilio-Signature` over PUBLIC_BASE_URL + path (+ query) and its form
params (twilio's `RequestValidator`); a missing or wrong one is answered 403 and changes nothing. The
routes read `request.app.state.services`: `settings`, `sessions`, `clock`, `dialog` (the engine), `plan`.
A number typed in another channel gets no dialog until it answers YES (`storage.sms.confirm`): anything
else it sends is answered with that question, so a stranger holding it learns nothing of the patient.
Logs carry kinds and ids, never numbers or text.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from bot.channels import sms_in
from bot.dialog.phones import to_e164
from storage import sms
from storage.models import AddressState
from storage.plans import replan_patient

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks/twilio", include_in_schema=False)

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML = "text/xml"
MAX_FORM_BYTES = 64_000


@router.post("/sms")
async def inbound_sms(request: Request) -> Response:
    """One text from a patient: a keyword, or a dialog step; the replies go back as TwiML."""
    services = request.app.state.services
    form = await _signed_form(request, services)
    if form is None:
        return Response(status_code=403)
    settings = services.settings
    number = to_e164(str(form.get("From", "")), getattr(settings, "default_region", None))
    if number is None:
        log.info("sms from an unreadable number: nothing stored")
        return _twiml([sms_in.say(settings.default_language, "invalid_number")])
    inbound = sms_in.read(str(form.get("Body", "")), _opt(form))
    now = services.clock.now()
    async with services.sessions() as session, session.begin():
        address = await sms.sms_address(session, number)
        language = await sms.patient_language(session, number) or settings.default_language
        awaiting = address is not None and await sms.awaits_yes(session, address)
        if inbound.kind is sms_in.Kind.OPT_OUT:
            patient_id = await sms.opt_out(session, number, now)
            log.info("sms opt-out (patient %s)", patient_id)
            return _twiml([])  # Twilio confirms the opt-out itself; we send nothing more
        if inbound.kind is sms_in.Kind.OPT_IN:
            patient_id = await sms.opt_in(session, number, now)
            if patient_id is None:
                return _twiml([sms_in.say("en", "join_first")])
            await replan_patient(session, patient_id, services.plan, now)
            log.info("sms opt-in (patient %s)", patient_id)
            return _twiml([sms_in.say(language, "opted_in")])
        if inbound.kind is sms_in.Kind.HELP:
            if awaiting:  # the phone has not said it is the patient's: no program or condition named
                return _twiml([sms_in.say(language, "help_unconfirmed")])
            return _twiml([sms_in.help_text(language, getattr(settings, "clinic_contact", None))])
        if address is not None and address.state is not AddressState.ACTIVE:
            log.info("sms from an address that is %s: not answered", address.state.value)
            return _twiml([])
        if awaiting:
            return await _awaiting_yes(session, services, inbound, number, language, now)
        if inbound.kind is sms_in.Kind.YES:  # nothing awaited: an answer for the dialog, as any text
            inbound = sms_in.Inbound(sms_in.Kind.DIALOG, inbound.text)
        if address is None and inbound.kind is not sms_in.Kind.JOIN:
            body = str(form.get("Body", "")).strip()
            if not (sms_in.looks_like_code(body) and await sms.invite_exists(session, body)):
                return _twiml([sms_in.say("en", "join_first")])  # nothing stored for a stranger
            inbound = sms_in.Inbound(sms_in.Kind.JOIN, "/start", body)
    replies = await services.dialog.step(sms_in.event(number, inbound, now))
    async with services.sessions() as session:
        language = await sms.patient_language(session, number) or language
    return _twiml([sms_in.render(reply, language) for reply in replies])


async def _awaiting_yes(
    session: AsyncSession, services: Any, inbound: sms_in.Inbound, number: str, language: str, now: datetime
) -> Response:
    """A number typed in another channel, not yet confirmed: YES turns its reminders on; anything else gets
    the question again, and no dialog (whoever holds the phone learns nothing of the patient)."""
    if inbound.kind is not sms_in.Kind.YES:
        return _twiml([sms_in.say(language, "awaiting_yes")])
    patient_id = await sms.confirm(session, number, now)
    if patient_id is not None:
        await replan_patient(session, patient_id, services.plan, now)
        log.info("sms confirmed by the phone (patient %s)", patient_id)
    return _twiml([sms_in.say(language, "sms_on")])


@router.post("/status")
async def delivery_status(request: Request) -> Response:
    """A delivery status for a message we sent: recorded on its rows; 21610 opts the number out."""
    services = request.app.state.services
    form = await _signed_form(request, services)
    if form is None:
        return Response(status_code=403)
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "")
    error_code = str(form.get("ErrorCode") or "") or None
    if not sid or not status:
        return Response(status_code=400)
    now = services.clock.now()
    async with services.sessions() as session, session.begin():
        await sms.record_status(session, sid, status, error_code, now)
        if error_code == sms.OPTED_OUT_CODE:
            number = to_e164(str(form.get("To", "")), None)
            if number is not None:
                await sms.opt_out(session, number, now, cause="sms: the carrier refused (21610)")
    log.info("sms status %s%s", status, f" ({error_code})" if error_code else "")
    return Response(status_code=204)


async def _signed_form(request: Request, services: Any) -> FormData | None:
    """Returns the form when Twilio signed it for our public URL; None (after reading nothing else) if not."""
    token = services.settings.twilio_auth_token
    signature = request.headers.get(SIGNATURE_HEADER)
    if not token or not signature:
        return None
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return None
    form = await request.form()
    url = services.settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url = f"{url}?{request.url.query}"
    if not RequestValidator(token).validate(url, form, signature):
        log.warning("twilio webhook with a bad signature refused")
        return None
    return form


def _opt(form: FormData) -> str | None:
    value = form.get("OptOutType")
    return str(value) if value else None


def _twiml(bodies: list[str]) -> Response:
    return Response(sms_in.twiml(bodies), media_type=TWIML)
