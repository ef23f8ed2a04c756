"""The alert port: a flagged check-in told to a person, after the transaction that stored it has committed.

Owns `Alert` (what an operator is told), `Alerter` (where it goes: the ops Telegram chat, or only the log),
`LoggingAlerter` (the stand-in when no ops chat is set) and `deliver` (send, then record `alerted_at`).
The stored check-in is the truth and the console's queue; an alert is a best-effort copy, so a failing
alerter is logged and never undoes the row nor the patient's reply. A row whose alert failed keeps
`alerted_at` empty and `jobs.followups` sends it again. Logs carry ids and levels only.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from care.clock import Clock
from storage import alerts as stored_alerts
from storage.models import CheckIn

log = logging.getLogger(__name__)

ALERT_TIMEOUT_S = 5.0  # an alert waits no longer than this in the patient's step


@dataclass(frozen=True)
class Alert:
    """One flagged check-in, for a person.

    check_in_id, patient_id: the rows; display_name: the name the patient gave (None if none).
    level: "emergency", "clinic_now" or "clinic_today" (`storage.models.CheckInLevel`); reason: "answer",
    "no_answer", "dose_unconfirmed", "booking_gap" or "unreachable" (`storage.models.CheckInReason`); answer:
    the patient's words (None for a silence); at: when (UTC).
    """

    check_in_id: int
    patient_id: int
    display_name: str | None
    level: str
    answer: str | None
    at: datetime
    reason: str = "answer"

    @classmethod
    def of(cls, check_in: CheckIn, display_name: str | None) -> Alert:
        """Returns the alert of a stored (flushed) check-in row."""
        return cls(
            check_in_id=check_in.id,
            patient_id=check_in.patient_id,
            display_name=display_name,
            level=check_in.level.value,
            answer=check_in.answer,
            at=check_in.created_at,
            reason=check_in.reason.value,
        )


class Alerter(Protocol):
    """Tells operators about one flagged check-in; raises when it could not."""

    async def alert(self, alert: Alert) -> None:
        """Sends `alert` to the operators."""
        ...


class LoggingAlerter:
    """The alerter when no ops chat is set: a log line with ids and level only; the console shows the rest."""

    async def alert(self, alert: Alert) -> None:
        """Logs that a check-in was flagged."""
        log.warning(
            "flagged check-in %s: patient %s, level %s, reason %s (no ops chat set)",
            alert.check_in_id,
            alert.patient_id,
            alert.level,
            alert.reason,
        )


async def deliver(
    alerter: Alerter,
    alerts: Sequence[Alert],
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    timeout_s: float = ALERT_TIMEOUT_S,
) -> int:
    """Sends each alert, then records which went out; returns how many did. Never raises for the alerter."""
    delivered: list[int] = []
    for alert in alerts:
        try:
            async with asyncio.timeout(timeout_s):
                await alerter.alert(alert)
        except Exception as exc:  # the row stays in the queue, unalerted: the follow-up job tries again
            log.error("alert for check-in %s failed: %s", alert.check_in_id, type(exc).__name__)
            continue
        delivered.append(alert.check_in_id)
    if delivered:
        try:
            async with sessions() as session, session.begin():
                await stored_alerts.mark_alerted(session, delivered, clock.now())
        except Exception as exc:  # sent but not recorded: it may be sent once more, never lost
            log.error("recording %d alerts as sent failed: %s", len(delivered), type(exc).__name__)
    return len(delivered)
