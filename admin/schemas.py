"""The JSON API's shapes (pydantic): what goes out, and the bodies that come in.

Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from admin.enroll import BadPhone, e164
from care.formulation import Formulation
from storage.models import (
    AddressState,
    Channel,
    CheckInLevel,
    Direction,
    DoseStatus,
    Language,
    MessageStatus,
    PatientStatus,
)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AddressOut(_Out):
    channel: Channel
    address: str
    state: AddressState
    state_changed_at: datetime


class PatientSummary(_Out):
    id: int
    display_name: str | None
    status: PatientStatus
    formulation: Formulation | None
    language: Language
    timezone: str
    sandbox: bool
    created_at: datetime
    channels: list[AddressOut] = []


class PatientList(BaseModel):
    items: list[PatientSummary]
    total: int
    limit: int
    offset: int


class DoseOut(_Out):
    id: int
    number: int
    kind: str
    amount_mg: int
    planned_at: datetime
    given_at: datetime | None
    location: str | None
    status: DoseStatus


class TimelineItem(_Out):
    id: int
    kind: str
    due_at: datetime
    status: MessageStatus
    channel: Channel | None
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    text: str | None = None


class CheckInOut(_Out):
    id: int
    level: CheckInLevel
    flagged: bool
    answer: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    ack_note: str | None


class LogItem(_Out):
    id: int
    channel: Channel
    direction: Direction
    text: str | None
    delivery_status: str | None
    created_at: datetime


class PatientDetail(PatientSummary):
    country: str | None
    stage: str | None
    consented_at: datetime | None
    sms_consent: bool
    doses: list[DoseOut]
    timeline: list[TimelineItem]
    check_ins: list[CheckInOut]
    messages: list[LogItem]


class StatusChangeOut(BaseModel):
    patient_id: int
    before: PatientStatus
    after: PatientStatus
    cancelled_messages: int


class AlertOut(BaseModel):
    id: int
    patient_id: int
    patient_name: str | None
    sandbox: bool
    level: CheckInLevel
    reason: str
    answer: str | None
    created_at: datetime
    age_s: int


class AckIn(BaseModel):
    """The operator's acknowledgement of an alert: what they did about it."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000, description="what the operator did (called, booked...)")


class AckOut(BaseModel):
    id: int
    acknowledged_at: datetime
    ack_note: str | None


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Europe/Madrid") from None
    return value


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return e164(value)
    except BadPhone as exc:
        raise ValueError(str(exc)) from None


Zone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_zone)]
Phone = Annotated[
    str | None,
    Field(default=None, max_length=32, description="E.164, e.g. +34600111222: the invite goes by SMS"),
    AfterValidator(_phone),
]


class EnrollIn(BaseModel):
    """A patient to enroll: they get an invite (Telegram link and QR, and an SMS when a phone is given)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str = Field(min_length=1, max_length=100)
    language: Language | None = Field(default=None, description="DEFAULT_LANGUAGE when left out")
    timezone: Zone | None = Field(default=None, description="DEFAULT_TIMEZONE when left out")
    formulation: Formulation | None = None
    phone: Phone = None


class InviteIn(BaseModel):
    """A fresh invite: texted to `phone` when given (patients signing up only); for a patient active or
    paused, a Telegram link invite (no phone)."""

    model_config = ConfigDict(extra="forbid")

    phone: Phone = None


class InviteOut(BaseModel):
    patient_id: int
    code: str
    expires_at: datetime
    telegram_link: str | None = Field(description="the bot's deep link; null when Telegram is off")
    sms: str | None = Field(
        description="the SMS invite: sent, failed, opted_out, sms_off (SMS is not configured), or null"
    )
    sms_error: str | None = None


class AppointmentIn(BaseModel):
    """The next appointment: a time in the patient's time zone (or with an offset), and where."""

    model_config = ConfigDict(extra="forbid")

    starts_at: datetime = Field(description="local wall time of the patient (no offset), or an aware time")
    location: str | None = Field(default=None, max_length=200)
    confirm: bool = Field(default=False, description="book it even though it breaks a label rule")


class WarningOut(BaseModel):
    code: str
    message: str


class AppointmentOut(BaseModel):
    dose_id: int
    number: int
    planned_at: datetime
    warnings: list[WarningOut]


class DoseGivenIn(BaseModel):
    """When a dose was given: the patient's local wall time (no offset), or an aware time."""

    model_config = ConfigDict(extra="forbid")

    given_at: datetime


class DoseGivenOut(BaseModel):
    dose_id: int
    number: int
    given_at: datetime
    suggested_next: datetime = Field(description="when the label says the next dose is due; clinic decides")


class OneOffIn(BaseModel):
    """A message sent once, now, as written, in the patient's channel."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=1000)


class OneOffOut(BaseModel):
    message_id: int
    due_at: datetime
    status: MessageStatus


class EraseIn(BaseModel):
    """Erasing cannot be undone: `confirm` must be the patient's number."""

    model_config = ConfigDict(extra="forbid")

    confirm: str = Field(min_length=1, max_length=20)
