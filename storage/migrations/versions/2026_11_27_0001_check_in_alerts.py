"""check-in alerts: who answered what, why a row is flagged, and whether operators were told

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

`scheduled_message.answered_at`: the patient answered the message's question (a check-in or "did you have
your dose?"), so the follow-up job leaves it alone. `check_in.reason`: an answer, or a silence flagged for
operators (no answer after the nudge, a dose not confirmed). `check_in.alerted_at`: the alert reached the
operators' channel; a flagged row without it is alerted again. Written by hand; SQLite gets batch mode (the
table is rebuilt, its constraints named as in 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
REASONS = ("answer", "no_answer", "dose_unconfirmed")


def upgrade() -> None:
    with op.batch_alter_table("scheduled_message") as batch:
        batch.add_column(sa.Column("answered_at", UTC_INSTANT, nullable=True))
    with op.batch_alter_table("check_in") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=24), nullable=False, server_default="answer"))
        batch.add_column(sa.Column("alerted_at", UTC_INSTANT, nullable=True))
        listed = ", ".join(f"'{reason}'" for reason in REASONS)
        batch.create_check_constraint(op.f("ck_check_in_reason"), f"reason IN ({listed})")


def downgrade() -> None:
    with op.batch_alter_table("check_in") as batch:
        batch.drop_constraint(op.f("ck_check_in_reason"), type_="check")
        batch.drop_column("alerted_at")
        batch.drop_column("reason")
    with op.batch_alter_table("scheduled_message") as batch:
        batch.drop_column("answered_at")
