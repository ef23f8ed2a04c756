"""initial: patients, addresses, courses and doses, the outbox, logs, check-ins, dialog state, operators

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written by hand to match storage/models.py; enum columns are VARCHAR(24) with a named CHECK, and every
constraint name is spelled out, so this file never depends on the models' naming convention.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CHANNELS = ("telegram", "sms", "web")
FORMULATIONS = ("iv", "sc")


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def upgrade() -> None:
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("last_login_at", UTC_INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("email", name=op.f("uq_operator_email")),
        _one_of("operator", "role", ("admin", "operator", "viewer")),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("language", sa.String(length=24), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("formulation", sa.String(length=24), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("consent_version", sa.String(length=32), nullable=True),
        sa.Column("consented_at", UTC_INSTANT, nullable=True),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("quiet_hours_start", sa.Time(), nullable=True),
        sa.Column("quiet_hours_end", sa.Time(), nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)",
            name=op.f("ck_patient_quiet_hours_both_or_none"),
        ),
        _one_of("patient", "language", ("en", "es")),
        _one_of("patient", "status", ("signing_up", "active", "paused", "stopped", "erased")),
        _one_of("patient", "formulation", FORMULATIONS),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_INSTANT, nullable=False),
        sa.Column("actor_type", sa.String(length=24), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", JSON_DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_audit_log_operator_id_operator"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_audit_log_patient_id_patient"), ondelete="SET NULL"
        ),
        _one_of("audit_log", "actor_type", ("patient", "operator", "system")),
    )
    _index("audit_log", "at")
    _index("audit_log", "operator_id")
    _index("audit_log", "patient_id")
    op.create_table(
        "channel_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("state_changed_at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_address")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_channel_address_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_channel_address_channel_address")),
        _one_of("channel_address", "channel", CHANNELS),
        _one_of("channel_address", "state", ("active", "blocked", "opted_out", "invalid")),
    )
    _index("channel_address", "patient_id")
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("expires_at", UTC_INSTANT, nullable=False),
        sa.Column("used_at", UTC_INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["operator.id"],
            name=op.f("fk_invite_created_by_id_operator"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_invite_patient_id_patient"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("code", name=op.f("uq_invite_code")),
    )
    _index("invite", "created_by_id")
    _index("invite", "patient_id")
    op.create_table(
        "treatment_course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("formulation", sa.String(length=24), nullable=False),
        sa.Column("started_at", UTC_INSTANT, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_course")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_treatment_course_patient_id_patient"),
            ondelete="CASCADE",
        ),
        _one_of("treatment_course", "formulation", FORMULATIONS),
    )
    _index("treatment_course", "patient_id")
    op.create_table(
        "dialog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_address_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=True),
        sa.Column("step", sa.String(length=40), nullable=True),
        sa.Column("data", JSON_DOCUMENT, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialog_state")),
        sa.ForeignKeyConstraint(
            ["channel_address_id"],
            ["channel_address.id"],
            name=op.f("fk_dialog_state_channel_address_id_channel_address"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("channel_address_id", name=op.f("uq_dialog_state_channel_address_id")),
    )
    op.create_table(
        "dose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("amount_mg", sa.Integer(), nullable=False),
        sa.Column("planned_at", UTC_INSTANT, nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("given_at", UTC_INSTANT, nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_course.id"],
            name=op.f("fk_dose_course_id_treatment_course"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("course_id", "number", name=op.f("uq_dose_course_id_number")),
        sa.CheckConstraint("number >= 1", name=op.f("ck_dose_number_from_1")),
        _one_of("dose", "status", ("planned", "given", "missed", "cancelled")),
    )
    op.create_table(
        "scheduled_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("dose_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("touchpoint_id", sa.String(length=64), nullable=True),
        sa.Column("due_at", UTC_INSTANT, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_INSTANT, nullable=True),
        sa.Column("channel", sa.String(length=24), nullable=True),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC_INSTANT, nullable=True),
        sa.Column("sent_at", UTC_INSTANT, nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_message")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_scheduled_message_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dose_id"], ["dose.id"], name=op.f("fk_scheduled_message_dose_id_dose"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "patient_id", "dedupe_key", name=op.f("uq_scheduled_message_patient_id_dedupe_key")
        ),
        _one_of(
            "scheduled_message",
            "status",
            ("pending", "claimed", "sent", "delivered", "failed", "uncertain", "cancelled", "expired"),
        ),
        _one_of("scheduled_message", "channel", CHANNELS),
    )
    _index("scheduled_message", "dose_id")
    _index("scheduled_message", "provider_id")
    _index("scheduled_message", "status", "due_at")
    op.create_table(
        "check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("dose_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_message_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("acknowledged_at", UTC_INSTANT, nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_check_in_patient_id_patient"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dose_id"], ["dose.id"], name=op.f("fk_check_in_dose_id_dose"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["scheduled_message_id"],
            ["scheduled_message.id"],
            name=op.f("fk_check_in_scheduled_message_id_scheduled_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["operator.id"],
            name=op.f("fk_check_in_acknowledged_by_id_operator"),
            ondelete="SET NULL",
        ),
        _one_of("check_in", "level", ("fine", "clinic_today", "clinic_now", "emergency")),
    )
    _index("check_in", "acknowledged_by_id")
    _index("check_in", "dose_id")
    _index("check_in", "patient_id")
    _index("check_in", "scheduled_message_id")
    op.create_table(
        "message_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("direction", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("scheduled_message_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.String(length=128), nullable=True),
        sa.Column("delivery_status", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_log")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_message_log_patient_id_patient"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scheduled_message_id"],
            ["scheduled_message.id"],
            name=op.f("fk_message_log_scheduled_message_id_scheduled_message"),
            ondelete="SET NULL",
        ),
        _one_of("message_log", "channel", CHANNELS),
        _one_of("message_log", "direction", ("in", "out")),
    )
    _index("message_log", "patient_id")
    _index("message_log", "provider_id")
    _index("message_log", "scheduled_message_id")


def downgrade() -> None:
    for table in (
        "message_log",
        "check_in",
        "scheduled_message",
        "dose",
        "dialog_state",
        "treatment_course",
        "invite",
        "channel_address",
        "audit_log",
        "patient",
        "operator",
    ):
        op.drop_table(table)
