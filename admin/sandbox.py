"""The simulator's sandbox clock and its dispatcher run, for one sandbox patient at a time.

Design: a sandbox patient lives at real time plus an offset, the sum of the operator's clock jumps (audit
rows `simulator.clock_jump`, so the offset survives restarts and says who moved it). Everything the
simulator does for that patient runs at sandbox time: its dialog steps (a `DialogEngine` on the offset
clock, so an appointment typed as "tomorrow" and the plan rows it creates are in sandbox time), and its
dispatch. A jump fast-forwards: each of the patient's pending rows falling inside the jump is claimed and
sent at its own due instant, in order, so every reminder arrives as it would have in real time (jumping a
week at once must not expire the reminders of day 2). The claim is scoped to the one sandbox patient (the
real dispatcher's `run_once` claims everyone's rows, and recovers leases, at the instant it is given), and
the claimed rows go through the real dispatcher's delivery (re-check, render, send, record) with the web
sender only: a sandbox patient cannot reach Telegram or SMS here, and the real dispatcher's own rule sends
sandbox rows to the web channel only when it meets them at real time.
Must not import `ocrebot`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.accounts import audit
from bot.channels.base import Option, SendResult
from bot.channels.web import WebSender
from bot.dialog import DialogEngine
from care.clock import Clock
from care.plan import ReminderPlan
from care.triage import load_policy
from jobs.dispatcher import Dispatcher
from jobs.render import OutboxRenderer
from storage import outbox
from storage.models import (
    AuditLog,
    Channel,
    ChannelAddress,
    Direction,
    Language,
    MessageLog,
    MessageStatus,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from storage.outbox import ClaimedMessage

JUMP_ACTION = "simulator.clock_jump"
ALLOWED_JUMPS_H = (1, 24, 24 * 7)
SANDBOX_BATCH = 500  # rows one jump may deliver at once
LEASE_S = 120.0
MAX_ROUNDS = 500  # rows one jump may deliver


class OffsetClock:
    """Another clock moved forward by a fixed offset."""

    def __init__(self, base: Clock, offset: timedelta) -> None:
        self._base = base
        self.offset = offset

    def now(self) -> datetime:
        """Returns the base clock's instant plus the offset."""
        return self._base.now() + self.offset


class _FixedClock:
    def __init__(self, instant: datetime) -> None:
        self._instant = instant

    def now(self) -> datetime:
        return self._instant


class SimulatorSender(WebSender):
    """The web sender that also remembers the choices offered, so the page can show them as buttons."""

    def __init__(self, choices: dict[int, list[Option]], patient_id: int) -> None:
        self._choices = choices
        self._patient_id = patient_id

    async def send(self, address: str, text: str, options: Sequence[Option]) -> SendResult:
        """Accepts the message; its options become the page's buttons."""
        self._choices[self._patient_id] = list(options)
        return await super().send(address, text, options)


async def create_sandbox_patient(
    sessions: async_sessionmaker[AsyncSession],
    *,
    operator_id: int,
    language: Language,
    timezone: str,
    now: datetime,
) -> int:
    """Adds a sandbox patient with a web address (signing up; the dialog takes over) and returns its id."""
    async with sessions() as session, session.begin():
        patient = Patient(
            language=language,
            timezone=timezone,
            status=PatientStatus.SIGNING_UP,
            sandbox=True,
            created_at=now,
            updated_at=now,
        )
        session.add(patient)
        await session.flush()
        session.add(
            ChannelAddress(
                patient_id=patient.id, channel=Channel.WEB, address=web_address(), state_changed_at=now
            )
        )
        await audit(session, now, operator_id=operator_id, action="simulator.create", patient_id=patient.id)
        return patient.id


def web_address() -> str:
    """Returns a fresh web-channel address for a sandbox conversation."""
    return f"sim-{secrets.token_hex(8)}"


async def sandbox_offset(session: AsyncSession, patient_id: int) -> timedelta:
    """Returns how far the patient's sandbox clock is ahead of real time (the sum of their jumps)."""
    details = await session.scalars(
        select(AuditLog.detail).where(AuditLog.patient_id == patient_id, AuditLog.action == JUMP_ACTION)
    )
    return timedelta(hours=sum(int(detail.get("hours", 0)) for detail in details))


async def sandbox_patient(session: AsyncSession, patient_id: int) -> tuple[Patient, ChannelAddress] | None:
    """Returns the sandbox patient and their web address, or None when it is not a sandbox patient."""
    row = (
        await session.execute(
            select(Patient, ChannelAddress)
            .join(ChannelAddress, ChannelAddress.patient_id == Patient.id)
            .where(Patient.id == patient_id, Patient.sandbox.is_(True), ChannelAddress.channel == Channel.WEB)
            .order_by(ChannelAddress.id)
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def log_message(
    session: AsyncSession, patient_id: int, direction: Direction, text: str, at: datetime
) -> None:
    """Adds a web-channel message_log row of the simulator's conversation."""
    session.add(
        MessageLog(patient_id=patient_id, channel=Channel.WEB, direction=direction, text=text, created_at=at)
    )
    await session.flush()


class Sandbox:
    """Runs one sandbox patient's conversation and outbox on their own clock.

    sessions, plan, clock: the service's. default_timezone, default_language, default_emergency_number: the
    settings the dialog engine and the renderer use. choices: the last options sent to each sandbox patient.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: ReminderPlan,
        clock: Clock,
        *,
        default_timezone: str,
        default_language: str,
        default_emergency_number: str | None,
        worker_id: str,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._clock = clock
        self._defaults = (default_timezone, default_language)
        self._emergency = default_emergency_number
        self._worker_id = worker_id
        self.choices: dict[int, list[Option]] = {}

    async def clock_for(self, patient_id: int) -> OffsetClock:
        """Returns the patient's sandbox clock."""
        async with self._sessions() as session:
            return OffsetClock(self._clock, await sandbox_offset(session, patient_id))

    def dialog(self, clock: Clock) -> DialogEngine:
        """Returns a dialog engine on `clock` (the sandbox's), otherwise the service's."""
        timezone, language = self._defaults
        return DialogEngine(
            self._sessions, self._plan, clock, default_timezone=timezone, default_language=language
        )

    async def jump(self, patient_id: int, hours: int, *, operator_id: int) -> int:
        """Moves the patient's clock `hours` ahead, delivering what falls due on the way; returns how many."""
        if hours not in ALLOWED_JUMPS_H:
            raise ValueError(f"jumps are {ALLOWED_JUMPS_H} hours, not {hours}")
        before = await self.clock_for(patient_id)
        target = before.now() + timedelta(hours=hours)
        delivered = await self.deliver_until(patient_id, target, start=before.now())
        async with self._sessions() as session, session.begin():
            await audit(
                session,
                self._clock.now(),
                operator_id=operator_id,
                action=JUMP_ACTION,
                patient_id=patient_id,
                detail={"hours": hours},
            )
        return delivered

    async def deliver_until(self, patient_id: int, target: datetime, *, start: datetime | None = None) -> int:
        """Sends the patient's pending rows due by `target`, each at its own due instant; returns how many."""
        sent = 0
        moment = start or target
        for _ in range(MAX_ROUNDS):
            async with self._sessions() as session:
                due = await _next_due(session, patient_id, target)
            if due is None:
                break
            moment = max(moment, due)
            sent += await self._dispatch_at(patient_id, moment)
        return sent

    async def _dispatch_at(self, patient_id: int, now: datetime) -> int:
        clock = _FixedClock(now)
        sender = SimulatorSender(self.choices, patient_id)
        renderer = OutboxRenderer(clock, load_policy(), self._emergency)
        dispatcher = Dispatcher(
            self._sessions,
            {Channel.WEB: sender},
            self._plan,
            renderer,
            clock,
            self._worker_id,
            lease_s=LEASE_S,
        )
        async with self._sessions() as session, session.begin():
            claimed = await claim_patient_due(session, patient_id, now, self._worker_id, LEASE_S)
        if not claimed:
            return 0
        # The dispatcher's own delivery path (re-check, render, send, record) for rows claimed above; see
        # the module docstring for why the claim is ours.
        outcomes = await dispatcher._deliver_in_turn(claimed, now)
        return sum(1 for outcome in outcomes if outcome == "sent")


async def _next_due(session: AsyncSession, patient_id: int, target: datetime) -> datetime | None:
    SM = ScheduledMessage
    due = func.coalesce(SM.next_attempt_at, SM.due_at)
    row = (
        await session.execute(
            select(SM.due_at, SM.next_attempt_at)
            .where(SM.patient_id == patient_id, SM.status == MessageStatus.PENDING, due <= target)
            .order_by(due)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return row.next_attempt_at if row.next_attempt_at is not None else row.due_at  # type: ignore[no-any-return]


async def claim_patient_due(
    session: AsyncSession, patient_id: int, now: datetime, worker_id: str, lease_s: float
) -> list[ClaimedMessage]:
    """Claims one sandbox patient's pending rows due by `now`; nothing for a patient who is not sandbox."""
    is_sandbox = await session.scalar(select(Patient.sandbox).where(Patient.id == patient_id))
    if not is_sandbox:
        return []
    return await outbox.claim_due(session, now, SANDBOX_BATCH, worker_id, lease_s, patient_id=patient_id)
