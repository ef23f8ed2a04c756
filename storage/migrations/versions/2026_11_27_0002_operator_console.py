"""operator console: API tokens for scripts, and failed sign-ins counted for throttling

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

`api_token`: a Bearer token of an operator, stored as its SHA-256 only (the token itself is shown once).
`login_failure`: one row per failed console sign-in, keyed by a SHA-256 of (email, client address), so
every process counts the same failures. Written by hand; constraint names spelled out as in 0001.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("last_used_at", UTC_INSTANT, nullable=True),
        sa.Column("revoked_at", UTC_INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_api_token_operator_id_operator"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_operator_id"), "api_token", ["operator_id"], unique=False)
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index(op.f("ix_login_failure_key_hash"), "login_failure", ["key_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failure_key_hash"), table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_index(op.f("ix_api_token_operator_id"), table_name="api_token")
    op.drop_table("api_token")
