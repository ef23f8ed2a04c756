"""weekly tips and clinic flags: a patient's opt-in to a weekly tip, two more reasons to flag a patient

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

`patient.weekly_tips`: the patient asked for one short education tip a week (off by default).
`check_in.reason` gains `booking_gap` (no next dose booked 6 months, and again 6 months plus two weeks,
after the last one) and `unreachable` (no channel left to reach the patient: Telegram blocked and no SMS
consent, or the other way round). Written by hand; SQLite gets batch mode as in 0002.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_REASONS = ("answer", "no_answer", "dose_unconfirmed")
NEW_REASONS = (*OLD_REASONS, "booking_gap", "unreachable")


def _reasons(reasons: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{reason}'" for reason in reasons)
    return f"reason IN ({listed})"


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("weekly_tips", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("check_in") as batch:
        batch.drop_constraint(op.f("ck_check_in_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_check_in_reason"), _reasons(NEW_REASONS))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM check_in WHERE reason IN ('booking_gap', 'unreachable')"))
    with op.batch_alter_table("check_in") as batch:
        batch.drop_constraint(op.f("ck_check_in_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_check_in_reason"), _reasons(OLD_REASONS))
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("weekly_tips")
