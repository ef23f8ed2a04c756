"""The tables of ocrebot as SQLAlchemy 2 typed models, and the vocabularies their string columns hold.

Owns the schema; `storage/migrations/versions/` must match it (a test compares them on both databases).
Rules: tables are singular snake_case; `_at` columns are UTC instants (aware in Python, naive rejected) and
are set by the caller from the injected clock, never defaulted from the machine's clock; rows a patient
owns go with the patient (ON DELETE CASCADE); logs keep their rows and forget the patient (SET NULL).
Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from care.formulation import Formulation
from storage.types import JSONDocument, UTCDateTime, str_enum

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint by NAMING_CONVENTION."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDocument()}


class Language(StrEnum):
    EN = "en"
    ES = "es"


class PatientStatus(StrEnum):
    SIGNING_UP = "signing_up"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERASED = "erased"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SMS = "sms"
    WEB = "web"


class AddressState(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the patient blocked the bot (Telegram 403)
    OPTED_OUT = "opted_out"  # STOP by SMS
    INVALID = "invalid"  # the provider says the address cannot receive


class DoseStatus(StrEnum):
    PLANNED = "planned"
    GIVEN = "given"
    MISSED = "missed"
    CANCELLED = "cancelled"


class MessageStatus(StrEnum):
    """Life of an outbox row; see `storage.outbox` for the transitions."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class CheckInLevel(StrEnum):
    FINE = "fine"
    CLINIC_TODAY = "clinic_today"
    CLINIC_NOW = "clinic_now"
    EMERGENCY = "emergency"


class CheckInReason(StrEnum):
    """Why a check-in row exists: the patient answered, or their silence is what an operator must see."""

    ANSWER = "answer"  # the patient's answer, triaged
    NO_ANSWER = "no_answer"  # a check-in still unanswered after its nudge
    DOSE_UNCONFIRMED = "dose_unconfirmed"  # "did you have your dose?" unanswered for days
    BOOKING_GAP = "booking_gap"  # no next dose booked 6 months (and 6 months + 2 weeks) after the last
    UNREACHABLE = "unreachable"  # no channel left: Telegram blocked without SMS consent, or the reverse


class OperatorRole(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class ActorType(StrEnum):
    PATIENT = "patient"
    OPERATOR = "operator"
    SYSTEM = "system"


def _patient_fk(*, nullable: bool = False, index: bool = True) -> Any:
    ondelete = "SET NULL" if nullable else "CASCADE"
    return mapped_column(sa.ForeignKey("patient.id", ondelete=ondelete), nullable=nullable, index=index)


def _operator_fk() -> Any:
    return mapped_column(sa.ForeignKey("operator.id", ondelete="SET NULL"), nullable=True, index=True)


class Patient(Base):
    """A person who gets reminders; `sandbox` patients live on the simulator's clock."""

    __tablename__ = "patient"
    __table_args__ = (
        sa.CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)", name="quiet_hours_both_or_none"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(100))
    language: Mapped[Language] = mapped_column(str_enum(Language, "language"))
    timezone: Mapped[str] = mapped_column(sa.String(64))  # IANA name, e.g. "Europe/Madrid"
    country: Mapped[str | None] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    status: Mapped[PatientStatus] = mapped_column(
        str_enum(PatientStatus, "status"), default=PatientStatus.SIGNING_UP
    )
    formulation: Mapped[Formulation | None] = mapped_column(str_enum(Formulation, "formulation"))
    stage: Mapped[str | None] = mapped_column(sa.String(32))  # where in the course; values owned by care
    sandbox: Mapped[bool] = mapped_column(default=False)
    consent_version: Mapped[str | None] = mapped_column(sa.String(32))
    consented_at: Mapped[datetime | None]
    sms_consent: Mapped[bool] = mapped_column(default=False)
    quiet_hours_start: Mapped[time | None] = mapped_column(sa.Time())  # patient's wall clock
    quiet_hours_end: Mapped[time | None] = mapped_column(sa.Time())
    weekly_tips: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # a tip a week
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChannelAddress(Base):
    """Where a patient is reached: a Telegram chat id, an E.164 number, or a web session id."""

    __tablename__ = "channel_address"
    __table_args__ = (sa.UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    address: Mapped[str] = mapped_column(sa.String(128))
    state: Mapped[AddressState] = mapped_column(str_enum(AddressState, "state"), default=AddressState.ACTIVE)
    state_changed_at: Mapped[datetime]


class TreatmentCourse(Base):
    """One course of Ocrevus in one formulation; a patient has at most one active course."""

    __tablename__ = "treatment_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    formulation: Mapped[Formulation] = mapped_column(str_enum(Formulation, "formulation"))
    started_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)


class Dose(Base):
    """One planned or given dose; `number` counts from 1 within the course."""

    __tablename__ = "dose"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_from_1"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("treatment_course.id", ondelete="CASCADE"))
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(40))  # a care.formulation.DoseKind value
    amount_mg: Mapped[int]
    planned_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(sa.String(200))
    given_at: Mapped[datetime | None]
    status: Mapped[DoseStatus] = mapped_column(str_enum(DoseStatus, "status"), default=DoseStatus.PLANNED)
    source: Mapped[str] = mapped_column(sa.String(32))  # who said so: clinic, patient, operator, suggested


# A pending row becomes claimable at its due_at, or at its next_attempt_at when a retry put that later.
# These two predicates split the pending rows by which of the two it is; each has a partial index, so the
# earliest claimable instant (`storage.outbox.next_due_at`) is the first entry of one or the other
# (migration 0006). Queries repeat a predicate word for word: a partial index serves a query whose WHERE
# holds the same terms.
PENDING_AT_DUE_INDEX = "ix_scheduled_message_pending_due_at"
PENDING_AT_DUE = "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= due_at)"
PENDING_AT_RETRY_INDEX = "ix_scheduled_message_pending_retry_at"
PENDING_AT_RETRY = "status = 'pending' AND next_attempt_at > due_at"


def _partial_index(name: str, column: str, where: str) -> sa.Index:
    return sa.Index(name, column, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


class ScheduledMessage(Base):
    """The outbox: one message the service will send, or has sent. Transitions live in `storage.outbox`."""

    __tablename__ = "scheduled_message"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "dedupe_key"),
        sa.Index(None, "status", "due_at", "id"),  # the claim's order (migration 0005)
        # where `next_due_at` looks (migration 0006)
        _partial_index(PENDING_AT_DUE_INDEX, "due_at", PENDING_AT_DUE),
        _partial_index(PENDING_AT_RETRY_INDEX, "next_attempt_at", PENDING_AT_RETRY),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk(index=False)  # uq (patient_id, dedupe_key) indexes it
    dose_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dose.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    touchpoint_id: Mapped[str | None] = mapped_column(sa.String(64))  # the plan item it came from
    due_at: Mapped[datetime]
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "status"), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel, "channel"))
    provider_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    dedupe_key: Mapped[str] = mapped_column(sa.String(200))
    answered_at: Mapped[datetime | None]  # the patient answered its question (check-ins, dose confirmations)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MessageLog(Base):
    """Every message in or out; `text` is blanked by retention, the row stays."""

    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = _patient_fk(nullable=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "direction"))
    text: Mapped[str | None] = mapped_column(sa.Text())
    scheduled_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("scheduled_message.id", ondelete="SET NULL"), index=True
    )
    provider_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    delivery_status: Mapped[str | None] = mapped_column(sa.String(32))  # the provider's word for it
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime]


class CheckIn(Base):
    """A patient's answer to a check-in, triaged, or their silence; flagged ones wait for an operator.

    Every flagged row is an alert (`storage.alerts`): `alerted_at` is set once the alert reached the
    operators' channel, so a failed one is sent again later.
    """

    __tablename__ = "check_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    dose_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dose.id", ondelete="SET NULL"), index=True)
    scheduled_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("scheduled_message.id", ondelete="SET NULL"), index=True
    )
    answer: Mapped[str | None] = mapped_column(sa.Text())
    level: Mapped[CheckInLevel] = mapped_column(str_enum(CheckInLevel, "level"))
    flagged: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[CheckInReason] = mapped_column(
        str_enum(CheckInReason, "reason"),
        default=CheckInReason.ANSWER,
        server_default=CheckInReason.ANSWER.value,
    )
    alerted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = _operator_fk()
    ack_note: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime]


class DialogState(Base):
    """Where one conversation stands; `version` makes a concurrent second writer fail (StaleDataError)."""

    __tablename__ = "dialog_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_address_id: Mapped[int] = mapped_column(
        sa.ForeignKey("channel_address.id", ondelete="CASCADE"), unique=True
    )
    flow: Mapped[str | None] = mapped_column(sa.String(40))
    step: Mapped[str | None] = mapped_column(sa.String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime]

    __mapper_args__ = {"version_id_col": version}


class Operator(Base):
    """A clinic staff member who signs in to the console; `email` is stored lower-cased."""

    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[OperatorRole] = mapped_column(str_enum(OperatorRole, "role"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class AuditLog(Base):
    """Who did what to whom; rows outlive the operator and the patient."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_type: Mapped[ActorType] = mapped_column(str_enum(ActorType, "actor_type"))
    operator_id: Mapped[int | None] = _operator_fk()
    patient_id: Mapped[int | None] = _patient_fk(nullable=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Invite(Base):
    """A clinic's sign-up code for an enrolled patient."""

    __tablename__ = "invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    patient_id: Mapped[int] = _patient_fk()
    created_by_id: Mapped[int | None] = _operator_fk()
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiToken(Base):
    """A Bearer token a script uses to call the JSON API as an operator; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(sa.ForeignKey("operator.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed console sign-in, keyed by a hash of (email, client address); counted to throttle."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime]
