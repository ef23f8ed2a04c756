"""Catch-up: whether a message sent late (after downtime, a long outage or a backlog) is still worth sending.

Owns `decide(message, now, schedule)`, the one rule the dispatcher applies just before a send:
- past its `catch_up_until` (the plan's `catch_up`, per touchpoint, as data) -> expired, never sent;
- a later message of the same kind about the same dose is also due by now -> superseded (expired too): after
  downtime a patient gets the freshest reminder ("your infusion is today"), not also yesterday's ("it is
  tomorrow"), and the 24-hour check-in rather than the evening one as well;
- due now inside the patient's quiet hours (a restart at 03:00) -> deferred to when they end, if that is
  still inside its window, else expired: a caught-up message never arrives at night;
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
from zoneinfo import ZoneInfo

from care.message_schedule import PlannedMessage
from care.quiet_hours import QuietHours, QuietMove
from care.wall_clock import require_aware

# A check-in nudge is worth sending until the follow-ups would flag the silence to a person (12 h after it).
NUDGE_CATCH_UP = timedelta(hours=12)


class Fate(StrEnum):
    """What becomes of a due message at the moment it could be sent."""

    SEND = "send"
    EXPIRE = "expire"  # its catch-up window ended
    SUPERSEDE = "supersede"  # a later message of the same kind and dose says it better now
    DEFER = "defer"  # inside quiet hours now: try again when they end (`resume_at`)


@dataclass(frozen=True)
class Decision:
    """A fate and, unless it is SEND, the reason stored on the row (no patient data); DEFER: until when."""

    fate: Fate
    reason: str | None = None
    resume_at: datetime | None = None


SEND = Decision(Fate.SEND)


@dataclass(frozen=True)
class Quiet:
    """The patient's quiet hours and time zone, for holding a late message until morning."""

    hours: QuietHours
    tz: ZoneInfo


def decide(
    message: PlannedMessage,
    now: datetime,
    schedule: Sequence[PlannedMessage] = (),
    quiet: Quiet | None = None,
) -> Decision:
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
    return _outside_quiet(now, message.catch_up_until, quiet)


def decide_unplanned(
    due_at: datetime, now: datetime, window: timedelta = NUDGE_CATCH_UP, quiet: Quiet | None = None
) -> Decision:
    """Decides the fate of a message outside the plan that has a catch-up window (a check-in nudge)."""
    until = require_aware(due_at, "due_at") + window
    if require_aware(now, "now") > until:
        return Decision(Fate.EXPIRE, f"catch-up window ended at {until.isoformat()}")
    return _outside_quiet(now, until, quiet)


def _outside_quiet(now: datetime, until: datetime, quiet: Quiet | None) -> Decision:
    if quiet is None or not quiet.hours.is_quiet(now, quiet.tz):
        return SEND
    resume = quiet.hours.move_out(now, quiet.tz, QuietMove.LATER)
    if resume > until:
        return Decision(Fate.EXPIRE, f"catch-up window ended at {until.isoformat()}, in quiet hours")
    return Decision(Fate.DEFER, f"quiet hours: held until {resume.isoformat()}", resume)
