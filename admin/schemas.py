"""The JSON API's shapes (pydantic): what goes out, and the bodies that come in.

Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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
