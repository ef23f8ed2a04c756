"""Catch-up: whether a message sent late (after downtime, a long outage or a backlog) is still worth sending.

Owns `decide(message, now, schedule)`, the one rule the dispatcher applies just before a send:
- past its `catch_up_until` (the plan's `catch_up`, per touchpoint, as data) -> expired, never sent;
- a later message of the same kind about the same dose is also due by now -> superseded (expired too): after
  downtime a patient gets the freshest reminder ("your infusion is today"), not also yesterday's ("it is
  tomorrow"), and the 24-hour check-in rather than the evening one as well;
- otherwise sent, late, in due order. The texts say "today"/"tomorrow" from the real sending day, so a
  reminder caught up on the day itself reads "today" (`bot.outbound`).
A message outside the plan (the one nudge about a check-in) has its own window, `NUDGE_CATCH_UP`.
Pure: `now` is a parameter; imports only the standard library and `care`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from care.message_schedule import PlannedMessage
from care.wall_clock import require_aware

# A check-in nudge is worth sending until the follow-ups would flag the silence to a person (12 h after it).
NUDGE_CATCH_UP = timedelta(hours=12)


class Fate(StrEnum):
    """What becomes of a due message at the moment it could be sent."""

    SEND = "send"
    EXPIRE = "expire"  # its catch-up window ended
    SUPERSEDE = "supersede"  # a later message of the same kind and dose says it better now


@dataclass(frozen=True)
class Decision:
    """A fate and, unless it is SEND, the reason stored on the row (no patient data)."""

    fate: Fate
    reason: str | None = None


SEND = Decision(Fate.SEND)


def decide(message: PlannedMessage, now: datetime, schedule: Sequence[PlannedMessage] = ()) -> Decision:
    """Decides the fate of a planned message due at or before `now`, given the patient's whole schedule."""
    now = require_aware(now, "now")
    if now > message.catch_up_until:
        return Decision(Fate.EXPIRE, f"catch-up window ended at {message.catch_up_until.isoformat()}")
    for later in schedule:
        if (
            later.kind is message.kind
            and later.dose_number == message.dose_number
            and message.due_at < later.due_at <= now < later.catch_up_until
        ):
            return Decision(Fate.SUPERSEDE, f"superseded by {later.touchpoint_id}, also due")
    return SEND


def decide_unplanned(due_at: datetime, now: datetime, window: timedelta = NUDGE_CATCH_UP) -> Decision:
    """Decides the fate of a message outside the plan that has a catch-up window (a check-in nudge)."""
    until = require_aware(due_at, "due_at") + window
    if require_aware(now, "now") > until:
        return Decision(Fate.EXPIRE, f"catch-up window ended at {until.isoformat()}")
    return SEND
