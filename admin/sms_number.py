"""An operator setting or removing a patient's SMS number for them (console form and JSON API).

Patients change phones and call the clinic; an SMS-only patient has no /phone. The change is the one
/phone makes (`storage.sms.set_number`, `storage.sms.remove_number`): the old number removed (its pending
request cancelled, rows pinned to it left to the other channels, SMS consent off, in the timeline), the new
one stored and texted its one request for a YES: a number an operator typed is no proof its owner agrees, so
the patient has SMS consent only after that phone replies YES. The outbox is replanned and an audit row
written in the same transaction; the audit keeps the number's last two digits only.
Refused (`actions.Conflict`, a 409): a sandbox or stopped patient; setting for a patient not active (still
signing up: the invite carries their phone; paused: nothing is texted until resumed), where SMS is not
configured, or a number that is another patient's (said without naming them). The same number again
changes nothing. Imports `bot.dialog.texts` for the request's words, the same the dialog sends; nothing
else of `bot`. Must not import `jobs` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from admin.actions import Conflict, locked_patient
from admin.enroll import BadPhone, e164
from bot.dialog import texts
from care.plan import ReminderPlan
from storage import plans, sms
from storage.models import Patient, PatientStatus

SET_ACTION, REMOVED_ACTION = "patient.sms_number_set", "patient.sms_number_removed"
CHANGED = "console: an operator changed the SMS number"
ADDED = "console: an operator gave an SMS number; it waits for its own YES"
REMOVED = "console: an operator removed the SMS number"
TAKEN = "this number is another patient's SMS number"


class SmsNumberIn(BaseModel):
    """The patient's new SMS number, international (E.164)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=32, examples=["+34600111222"])

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        try:
            return e164(value)
        except BadPhone as exc:
            raise ValueError(str(exc)) from None


class SmsNumberOut(BaseModel):
    """The patient's SMS number now, its state, and whether the request changed anything."""

    patient_id: int
    phone: str | None
    state: sms.NumberState = Field(
        description="none, on, awaiting_yes (texted: on when the phone replies YES), opted_out (the phone "
        "texted STOP), unreachable, or off (no SMS consent)"
    )
    changed: bool


async def number_state(session: AsyncSession, patient: Patient) -> tuple[str | None, sms.NumberState]:
    """Returns the patient's SMS number (None without one) and its state (`storage.sms.number_state`)."""
    address = await sms.address_of(session, patient.id)
    return (address.address if address else None), sms.number_state(patient, address)


def _check_changeable(patient: Patient) -> None:
    if patient.sandbox:
        raise Conflict("a sandbox patient has no real phone")
    if patient.status in (PatientStatus.STOPPED, PatientStatus.ERASED):
        raise Conflict(f"the patient is {patient.status.value}: nothing is texted to them")


async def set_sms_number(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    number: str,
    *,
    sms_on: bool,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> SmsNumberOut:
    """Makes `number` (E.164) the patient's SMS number and texts it for its YES; NotFound or Conflict."""
    async with sessions() as session, session.begin():
        patient = await locked_patient(session, patient_id)
        _check_changeable(patient)
        if patient.status is PatientStatus.SIGNING_UP:
            raise Conflict("the patient is still signing up: text them the invite instead")
        if patient.status is PatientStatus.PAUSED:
            raise Conflict("the patient is paused: resume them first (nothing is texted while paused)")
        if not sms_on:
            raise Conflict("SMS is not configured: the number could not be asked for its YES")
        old = await sms.address_of(session, patient_id)
        outcome = await sms.set_number(
            session, patient, number, now,
            request=texts.say(patient.language.value, "sms_confirm_request"),
            changed_cause=CHANGED, added_cause=ADDED,
        )  # fmt: skip
        if outcome == sms.NUMBER_TAKEN:
            raise Conflict(TAKEN)  # rolls back an old number removed a moment before
        if outcome == sms.NUMBER_SET:
            await plans.replan_patient(session, patient_id, plan, now)
            await audit(
                session, now, operator_id=operator_id, patient_id=patient_id, action=SET_ACTION,
                detail={"ends_with": number[-2:], "replaced": old is not None},
            )  # fmt: skip
        phone, state = await number_state(session, patient)
    return SmsNumberOut(patient_id=patient_id, phone=phone, state=state, changed=outcome == sms.NUMBER_SET)


async def remove_sms_number(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    *,
    operator_id: int,
    plan: ReminderPlan,
    now: datetime,
) -> SmsNumberOut:
    """Removes the patient's SMS number (nothing to remove changes nothing); NotFound or Conflict."""
    async with sessions() as session, session.begin():
        patient = await locked_patient(session, patient_id)
        _check_changeable(patient)
        address = await sms.address_of(session, patient_id)
        if address is not None:
            ends_with = address.address[-2:]
            await sms.remove_number(session, address, now, REMOVED)
            await plans.replan_patient(session, patient_id, plan, now)
            await audit(
                session, now, operator_id=operator_id, patient_id=patient_id, action=REMOVED_ACTION,
                detail={"ends_with": ends_with},
            )  # fmt: skip
        phone, state = await number_state(session, patient)
    return SmsNumberOut(patient_id=patient_id, phone=phone, state=state, changed=address is not None)
