"""The dispatcher: one deterministic step that sends the outbox rows due now and records what happened.

Owns the order of a send (DESIGN decisions 1 and 2, `storage.outbox` rules): recover expired leases (those
rows become uncertain, never resent); claim a batch and commit at once; for each row, re-check in a fresh
transaction (patient no longer active -> cancelled; no longer planned -> cancelled; past its catch-up
window or superseded -> expired; due in the patient's quiet hours -> held until they end: `care.catch_up`),
choose the channel (an address that blocked us is marked so, with a timeline entry, and the next channel
tried: Telegram, then SMS with consent; none left -> the clinic is flagged, `storage.reachability`; a request
for a typed number's YES goes only to that address, before consent),
render, send outside any transaction, then record the outcome in a new transaction. Sends run
concurrently, bounded; one patient's rows go in due order. Provider limits live in the senders. Logs carry
ids only, never names, addresses or text. Imports `care`, `storage`, `bot` channels.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Option, Sender, SendResult, tag_option
from care import catch_up
from care.clock import Clock
from care.plan import ReminderPlan
from storage import outbox, patients, plans, reachability, sms
from storage.models import (
    AddressState,
    Channel,
    ChannelAddress,
    Patient,
    PatientStatus,
    ScheduledMessage,
)
from storage.outbox import ClaimedMessage
from storage.writer_turns import writer_turn

log = logging.getLogger(__name__)

NO_CHANNEL_ERROR = "no reachable channel"


class Rendered(Protocol):
    """A message ready for one channel (`bot.outbound.Rendered` is one)."""

    @property
    def text(self) -> str: ...

    @property
    def options(self) -> Sequence[Option]: ...


class Renderer(Protocol):
    """Turns a claimed row into text and options for the patient on `channel`; may read the session."""

    async def __call__(
        self, session: AsyncSession, message: ClaimedMessage, patient: Patient, channel: Channel
    ) -> Rendered: ...


@dataclass(frozen=True)
class DispatchReport:
    """What one `run_once` did: rows claimed and how each ended; `uncertain` counts leases recovered.

    A claimed row missing from every outcome hit an unexpected error (database, or a sender that raised):
    it is left claimed, and its lease makes it uncertain, because it may have gone out.
    """

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    cancelled: int = 0
    uncertain: int = 0
    deferred: int = 0  # due in the patient's quiet hours (after downtime): back to pending until they end


class _Outcome(StrEnum):
    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DEFERRED = "deferred"
    LEFT = "left"  # unknown whether it went out: the lease runs out and the row becomes uncertain


@dataclass(frozen=True)
class _Send:
    channel: Channel
    address_id: int | None
    address: str
    text: str
    options: tuple[Option, ...]


class Dispatcher:
    """Sends due outbox rows; `run_once(now)` is the whole job, APScheduler only wakes it.

    sessions: the session maker; senders: one `Sender` per channel that is on (a channel without a sender is
    skipped). plan: the reminder plan the rows came from (their catch-up windows). renderer: text for a row.
    clock: stamps outcomes after a send and checks the lease before one. worker_id: who holds the claims.
    batch_size, lease_s: rows claimed per run and for how long (longer than the slowest paced send).
    channel_order: the channels tried, in order, for a patient outside the sandbox (sandbox: web only).
    max_concurrency: sends in flight at once. max_attempts: transient failures before a row fails;
    backoff_s, backoff_cap_s: the wait after the first transient failure, doubling up to the cap.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[Channel, Sender],
        plan: ReminderPlan,
        renderer: Renderer,
        clock: Clock,
        worker_id: str,
        *,
        batch_size: int = 100,
        lease_s: float = 120,
        channel_order: Sequence[Channel] = (Channel.TELEGRAM, Channel.SMS),
        max_concurrency: int = 10,
        max_attempts: int = 8,
        backoff_s: float = 30,
        backoff_cap_s: float = 3600,
    ) -> None:
        self._sessions = sessions
        self._senders = dict(senders)
        self._plan = plan
        self._render = renderer
        self._clock = clock
        self.worker_id = worker_id
        self.batch_size = batch_size
        self._lease_s = lease_s
        self._channel_order = tuple(channel_order)
        self._limit = asyncio.Semaphore(max_concurrency)
        self._max_attempts = max_attempts
        self._backoff = (backoff_s, backoff_cap_s)

    async def run_once(self, now: datetime) -> DispatchReport:
        """Recovers expired leases, claims the rows due by `now`, sends them and records each outcome."""
        async with writer_turn(self._sessions), self._sessions() as session, session.begin():
            uncertain = await outbox.recover_expired_leases(session, now)
        if uncertain:
            log.warning("lease expired, now uncertain: messages %s", uncertain)
        async with writer_turn(self._sessions), self._sessions() as session, session.begin():
            claimed = await outbox.claim_due(session, now, self.batch_size, self.worker_id, self._lease_s)
        by_patient: dict[int, list[ClaimedMessage]] = {}
        for message in claimed:  # already in due order
            by_patient.setdefault(message.patient_id, []).append(message)
        results = await asyncio.gather(*(self._deliver_in_turn(rows, now) for rows in by_patient.values()))
        counts = Counter(outcome for outcomes in results for outcome in outcomes)
        return DispatchReport(
            claimed=len(claimed),
            sent=counts[_Outcome.SENT],
            retried=counts[_Outcome.RETRIED],
            failed=counts[_Outcome.FAILED],
            expired=counts[_Outcome.EXPIRED],
            cancelled=counts[_Outcome.CANCELLED],
            uncertain=len(uncertain),
            deferred=counts[_Outcome.DEFERRED],
        )

    async def next_due_at(self) -> datetime | None:
        """Returns when the next pending row becomes claimable, or None when none is pending."""
        async with writer_turn(self._sessions), self._sessions() as session, session.begin():
            return await outbox.next_due_at(session)

    async def _deliver_in_turn(self, messages: list[ClaimedMessage], now: datetime) -> list[_Outcome]:
        outcomes = []
        for message in messages:
            async with self._limit:
                try:
                    outcomes.append(await self._deliver(message, now))
                except Exception as exc:  # the database failed us: the lease decides (uncertain)
                    log.error("message %s: %s while dispatching", message.id, type(exc).__name__)
                    outcomes.append(_Outcome.LEFT)
        return outcomes

    async def _deliver(self, message: ClaimedMessage, now: datetime) -> _Outcome:
        blocked: set[int] = set()
        blocked_error: str | None = None
        while True:
            async with writer_turn(self._sessions), self._sessions() as session, session.begin():
                step = await self._prepare(session, message, now, blocked, blocked_error)
            if isinstance(step, _Outcome):
                return step
            if self._clock.now() >= message.lease_until:  # waited too long: another worker may act on it
                async with writer_turn(self._sessions), self._sessions() as session, session.begin():
                    await outbox.mark_retry(session, message.id, "lease ran out before sending", now, now)
                return _Outcome.RETRIED
            try:
                result = await self._senders[step.channel].send(step.address, step.text, step.options)
            except Exception as exc:  # a sender must not raise; if one does, it may have sent
                log.error("message %s: %s from the %s sender", message.id, type(exc).__name__, step.channel)
                return _Outcome.LEFT
            async with writer_turn(self._sessions), self._sessions() as session, session.begin():
                outcome = await self._record(session, message, step, result)
            if outcome is not None or step.address_id is None:
                return outcome or _Outcome.FAILED
            blocked.add(step.address_id)  # the address blocked us: try the next one
            blocked_error = result.error

    async def _prepare(
        self,
        session: AsyncSession,
        message: ClaimedMessage,
        now: datetime,
        blocked: set[int],
        blocked_error: str | None,
    ) -> _Send | _Outcome:
        """Re-checks the row just before sending; closes it, or returns what to send where."""
        patient = await patients.fresh_patient(session, message.patient_id)
        if patient is None or patient.status is not PatientStatus.ACTIVE:
            status = "gone" if patient is None else patient.status
            await plans.cancel_claimed(session, message.id, f"patient {status}", now)
            log.info("message %s cancelled: patient %s", message.id, status)
            return _Outcome.CANCELLED
        if message.touchpoint_id is not None:
            key = await session.scalar(
                select(ScheduledMessage.dedupe_key).where(ScheduledMessage.id == message.id)
            )
            planned, schedule = await plans.planned_with_schedule(session, patient, self._plan, key or "")
            if planned is None:
                await plans.cancel_claimed(session, message.id, "no longer in the plan", now)
                log.info("message %s cancelled: no longer in the plan", message.id)
                return _Outcome.CANCELLED
            decision = catch_up.decide(planned, now, schedule, self._quiet(patient))
        elif (job := plans.JOB_MESSAGES.get(message.kind)) is not None:  # a job's row: a tip, a nudge
            if job.opt_in is not None and not getattr(patient, job.opt_in):
                await plans.cancel_claimed(session, message.id, f"patient turned {message.kind} off", now)
                log.info("message %s cancelled: turned off", message.id)
                return _Outcome.CANCELLED
            decision = catch_up.decide_unplanned(message.due_at, now, job.catch_up, self._quiet(patient))
        else:  # an operator's one-off, an SMS confirmation: a person chose to send it now, whatever the hour
            decision = catch_up.SEND
        if decision.fate is catch_up.Fate.DEFER and decision.resume_at is not None:
            await outbox.mark_retry(
                session, message.id, decision.reason or "quiet hours", decision.resume_at, now
            )
            log.info("message %s held by quiet hours", message.id)
            return _Outcome.DEFERRED
        if decision.fate is not catch_up.Fate.SEND:
            await plans.expire_claimed(session, message.id, decision.reason or decision.fate.value, now)
            log.info("message %s expired (%s)", message.id, decision.fate.value)
            return _Outcome.EXPIRED
        target = await self._choose(session, patient, message, blocked)
        if target is None:
            if not patient.sandbox:
                await reachability.check(session, patient, now)  # flags the clinic, once while open
            reason = NO_CHANNEL_ERROR if blocked_error is None else f"{blocked_error}; {NO_CHANNEL_ERROR}"
            await outbox.mark_failed(session, message.id, reason, now)
            log.info("message %s failed: %s", message.id, NO_CHANNEL_ERROR)
            return _Outcome.FAILED
        channel, address_id, address = target
        try:
            rendered = await self._render(session, message, patient, channel)
        except Exception as exc:
            await outbox.mark_failed(session, message.id, f"render failed: {type(exc).__name__}", now)
            log.error("message %s: rendering for %s failed with %s", message.id, channel, type(exc).__name__)
            return _Outcome.FAILED
        options = tuple(tag_option(message.id, option) for option in rendered.options)
        return _Send(channel, address_id, address, rendered.text, options)

    def _quiet(self, patient: Patient) -> catch_up.Quiet:
        return catch_up.Quiet(plans.quiet_hours_of(patient, self._plan), ZoneInfo(patient.timezone))

    async def _choose(
        self, session: AsyncSession, patient: Patient, message: ClaimedMessage, blocked: set[int]
    ) -> tuple[Channel, int | None, str] | None:
        addresses = [a for a in await patients.active_addresses(session, patient.id) if a.id not in blocked]
        if patient.sandbox:  # the simulator's patients never reach Telegram or SMS
            if Channel.WEB not in self._senders:
                return None
            web = _first(addresses, Channel.WEB)
            if web is None:
                return Channel.WEB, None, f"patient-{patient.id}"
            return Channel.WEB, web.id, web.address
        if message.kind == outbox.SMS_CONFIRM:  # asks a typed number for its consent: that address only
            return await self._confirming(session, message, addresses)
        channels = (message.channel,) if message.channel is not None else self._channel_order
        for channel in channels:
            if channel not in self._senders or channel is Channel.WEB:
                continue
            if channel is Channel.SMS and not patient.sms_consent:
                continue
            address = _first(addresses, channel)
            if address is not None:
                return channel, address.id, address.address
        return None

    async def _confirming(
        self, session: AsyncSession, message: ClaimedMessage, addresses: list[ChannelAddress]
    ) -> tuple[Channel, int | None, str] | None:
        """The address a confirmation request is for, while it is active and SMS is on; else None."""
        key_of = select(ScheduledMessage.dedupe_key).where(ScheduledMessage.id == message.id)
        key = await session.scalar(key_of)
        address_id = sms.confirm_address_id(key or "")
        address = next((a for a in addresses if a.id == address_id and a.channel is Channel.SMS), None)
        if address is None or Channel.SMS not in self._senders:
            return None
        return Channel.SMS, address.id, address.address

    async def _record(
        self, session: AsyncSession, message: ClaimedMessage, step: _Send, result: SendResult
    ) -> _Outcome | None:
        """Stores the provider's answer; None means the address blocked us and the next channel should try."""
        at = self._clock.now()
        if result.ok:
            if not await outbox.mark_sent(session, message.id, result.provider_id, at, step.channel):
                log.warning("message %s sent, but its row had moved on", message.id)
            await patients.log_outbound(
                session,
                patient_id=message.patient_id,
                channel=step.channel,
                text=step.text,
                now=at,
                scheduled_message_id=message.id,
                provider_id=result.provider_id,
            )
            log.info("message %s sent via %s", message.id, step.channel)
            return _Outcome.SENT
        error = result.error or "unknown error"
        if result.blocked and step.address_id is not None:
            cause = f"{step.channel.value} refused a send: blocked"
            await reachability.set_address_state(session, step.address_id, AddressState.BLOCKED, at, cause)
            log.info("message %s: address %s blocked us", message.id, step.address_id)
            return None
        if result.retry_after_s is not None:
            await outbox.mark_retry(
                session, message.id, error, at + timedelta(seconds=result.retry_after_s), at
            )
            return _Outcome.RETRIED
        if result.permanent:
            await outbox.mark_failed(session, message.id, error, at)
            log.info("message %s failed permanently on %s", message.id, step.channel)
            return _Outcome.FAILED
        if message.attempts >= self._max_attempts:
            await outbox.mark_failed(
                session, message.id, f"gave up after {message.attempts} attempts: {error}", at
            )
            log.info("message %s failed after %s attempts", message.id, message.attempts)
            return _Outcome.FAILED
        base_s, cap_s = self._backoff
        wait_s = min(base_s * 2 ** (message.attempts - 1), cap_s)
        await outbox.mark_retry(session, message.id, error, at + timedelta(seconds=wait_s), at)
        return _Outcome.RETRIED


def _first(addresses: list[ChannelAddress], channel: Channel) -> ChannelAddress | None:
    return next((address for address in addresses if address.channel is channel), None)
