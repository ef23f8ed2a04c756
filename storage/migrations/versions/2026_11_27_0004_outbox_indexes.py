"""outbox indexes: the claim reads due pending rows in (due_at, id) order straight from an index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

`claim_due` asks for `status = 'pending' AND due_at <= now ORDER BY due_at, id LIMIT n`. The index on
(status, due_at) gave rows in due order only, so PostgreSQL read every pending row of the first due instant
(a burst shares one) and sorted them by id before it could take n: at 1,000,000 pending rows, 1,659 rows
and 1,790 buffers per batch of 100. (status, due_at, id) hands over exactly n rows in the claim's order and
still serves every query the old index served (a status, or a status and a due range). It replaces that
index, so an update still writes the same number of index entries. Written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_scheduled_message_status_due_at_id"), "scheduled_message", ["status", "due_at", "id"]
    )
    op.drop_index(op.f("ix_scheduled_message_status_due_at"), table_name="scheduled_message")


def downgrade() -> None:
    op.create_index(op.f("ix_scheduled_message_status_due_at"), "scheduled_message", ["status", "due_at"])
    op.drop_index(op.f("ix_scheduled_message_status_due_at_id"), table_name="scheduled_message")
