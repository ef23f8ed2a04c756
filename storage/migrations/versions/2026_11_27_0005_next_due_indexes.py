"""next due indexes: the earliest claimable pending row is the first entry of one of two partial indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

`next_due_at` took min(next_attempt_at if later than due_at, else due_at) over every pending row, after every
dispatcher run: at 1,000,000 pending rows PostgreSQL read them all (a parallel seq scan, ~100 ms). A pending
row is claimable at its due_at unless a retry put next_attempt_at later. One partial index on due_at holds
the first kind, one on next_attempt_at the second, so each answer is the first entry of its index. Reading
the first kind from (status, due_at, id) instead would walk past every early row waiting on a retry (a
provider outage: 20,000 of them took 16.6 ms). Both hold pending rows only, so a claim adds no entry to
them; an inserted row adds one. SQLite gets `INDEXED BY` in the query (`storage.outbox.next_due_at`).
Written by hand; the predicates are `storage.models.PENDING_AT_DUE` and `PENDING_AT_RETRY`, repeated
because a revision never imports the application.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT_DUE = "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= due_at)"
AT_RETRY = "status = 'pending' AND next_attempt_at > due_at"


def upgrade() -> None:
    for name, column, where in (
        ("ix_scheduled_message_pending_due_at", "due_at", AT_DUE),
        ("ix_scheduled_message_pending_retry_at", "next_attempt_at", AT_RETRY),
    ):
        op.create_index(
            name,
            "scheduled_message",
            [column],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade() -> None:
    op.drop_index("ix_scheduled_message_pending_retry_at", table_name="scheduled_message")
    op.drop_index("ix_scheduled_message_pending_due_at", table_name="scheduled_message")
