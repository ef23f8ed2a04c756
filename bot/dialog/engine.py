"""The dialog engine: one inbound event in, one step of the conversation in one transaction, replies out.

Owns the unit of work of a step: load (or create) the address, patient and dialog state; route the event;
store the new state, any patient and course change and the rewritten reminder plan together, or nothing when
the input could not be used. Flagged check-ins go to the `Alerter` only after that commit, and a failing
alerter loses neither the stored row nor the patient's replies (`bot.alerts.deliver`). One address's events
run one at a time in this process (an asyncio lock per address); another process writing the same state
first makes the version check fail (StaleDataError), and the step is retried once on fresh state. State
lives only in the database, so a restart resumes where the conversation was. A Telegram chat marked blocked
that writes again is usable again (`storage.reachability`). Logs carry no patient data: no
text, name or address. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from bot.alerts import Alerter, LoggingAlerter, deliver
from bot.dialog import flows, records
from bot.dialog.events import InboundEvent, Reply
from bot.dialog.turn import Turn
from care.clock import Clock
from care.plan import ReminderPlan
from care.triage import TriagePolicy
from storage import reachability
from storage.models import AddressState, Channel, Direction, Language, MessageLog
from storage.writer_turns import URGENT, writer_turn

log = logging.getLogger(__name__)

NON_TEXT = "[not text: a sticker, photo, voice or location]"
ATTEMPTS = 2  # the step, and one retry on fresh state after a concurrent writer won


class _AddressLocks:
    """One asyncio lock per address, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class DialogEngine:
    """Takes conversation steps for every channel.

    sessions: the database's session maker. plan: the reminder plan replans use. clock: where "now" comes
    from. default_timezone, default_language: for a patient who has not said yet (Settings).
    sms_enabled: SMS is configured, so a number typed at sign-up is texted for its own YES.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        plan: ReminderPlan,
        clock: Clock,
        *,
        default_timezone: str,
        default_language: str,
        alerter: Alerter | None = None,
        triage_policy: TriagePolicy | None = None,
        default_emergency_number: str | None = None,
        sms_enabled: bool = False,
    ) -> None:
        self._sessions = sessions
        self._plan = plan
        self._clock = clock
        self._default_timezone = default_timezone
        self._default_language = Language(default_language)
        self._locks = _AddressLocks()
        self._alerter = alerter or LoggingAlerter()
        self._policy = triage_policy
        self._emergency_number = default_emergency_number
        self._sms_enabled = sms_enabled

    async def step(self, event: InboundEvent) -> list[Reply]:
        """Handles one event from one address and returns the replies to send back, in order."""
        async with self._locks.hold((event.channel.value, event.address)):
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    async with self._write_turn():
                        turn = await self._step_once(event)
                except (StaleDataError, IntegrityError) as exc:
                    if attempt == ATTEMPTS:
                        raise
                    log.info("dialog step lost a race (%s); retrying on fresh state", type(exc).__name__)
                    continue
                if turn.alerts:  # committed: now a person hears of it
                    await deliver(self._alerter, turn.alerts, self._sessions, self._clock)
                return turn.replies
        raise AssertionError("unreachable")

    def _write_turn(self) -> AbstractAsyncContextManager[None]:
        # SQLite has one writer and every transaction takes the write lock at BEGIN (storage.db): waiting
        # for it in SQLite's busy handler (sleep and retry, no queue) starved some steps past the busy
        # timeout when 200 patients wrote at once ("database is locked": their input was lost), and made a
        # reply wait behind a dispatcher burst. Steps take a turn instead, ahead of background writers.
        return writer_turn(self._sessions, URGENT)

    async def _step_once(self, event: InboundEvent) -> Turn:
        started = time.perf_counter()
        async with self._sessions() as session:
            now = self._clock.now()
            conversation = await records.open_conversation(
                session,
                event.channel,
                event.address,
                now,
                language=self._language_for(event.language_hint),
                timezone=self._default_timezone,
            )
            turn = Turn(
                session=session,
                event=event,
                now=now,
                plan=self._plan,
                address=conversation.address,
                patient=conversation.patient,
                state=conversation.state,
                asker=flows.ask_current,
                policy=self._policy,
                emergency_number=self._emergency_number,
                sms_on=self._sms_enabled,
            )
            if event.channel is Channel.TELEGRAM and conversation.address.state is AddressState.BLOCKED:
                await _restore(session, conversation.address.id, now)
                turn.replan = True  # rows cancelled while no channel was left come back
            await flows.route(turn)
            turn.flush_notes()
            consented = not turn.erased and turn.patient.consented_at is not None  # read before commit
            where = "-" if turn.erased else f"{turn.flow or '-'}/{turn.step_name or '-'}"
            if turn.erased:
                for row in (turn.state, turn.address):  # gone with the patient (ON DELETE CASCADE)
                    if row in session and row not in session.deleted:
                        session.expunge(row)
                await session.commit()
            elif turn.changed or turn.replan or conversation.created or _pending_writes(session):
                turn.state.updated_at = now
                flag_modified(turn.state, "data")  # every stored step bumps the version
                if turn.replan:
                    await records.replan(session, turn.patient.id, self._plan, now)
                await session.commit()
            else:
                await session.rollback()  # nothing to keep: an input we could not use
                turn.alerts.clear()
            patient_id = None if turn.erased else inspect(turn.patient).identity
        # Words are kept once the patient consented (consent says what is stored); the simulator logs its own.
        if patient_id is not None and consented and event.channel is not Channel.WEB:
            await self._log(patient_id[0], event, turn.replies, now)
        log.debug(
            "dialog step channel=%s at=%s replies=%d in %.1f ms",
            event.channel.value,
            where,
            len(turn.replies),
            (time.perf_counter() - started) * 1000,
        )
        return turn

    async def _log(self, patient_id: int, event: InboundEvent, replies: list[Reply], now: datetime) -> None:
        """Adds the message_log rows of one step: what came in, and each reply (even to unusable input)."""
        inbound = event.text if event.text is not None else (event.option or NON_TEXT)
        async with self._sessions() as session, session.begin():
            rows = [(Direction.INBOUND, inbound)] + [(Direction.OUTBOUND, reply.text) for reply in replies]
            session.add_all(
                MessageLog(
                    patient_id=patient_id,
                    channel=event.channel,
                    direction=direction,
                    text=text,
                    created_at=now,
                    delivery_status="received" if direction is Direction.INBOUND else "sent",
                )
                for direction, text in rows
            )

    def _language_for(self, hint: str | None) -> Language:
        code = (hint or "").split("-")[0].split("_")[0].lower()
        return Language(code) if code in Language._value2member_map_ else self._default_language


async def _restore(session: AsyncSession, address_id: int, now: datetime) -> None:
    """A blocked chat wrote again (a new /start after unblocking): the address is usable, and the switch
    goes in the patient's timeline."""
    cause = "telegram: the patient wrote again (/start)"
    await reachability.set_address_state(session, address_id, AddressState.ACTIVE, now, cause)


def _pending_writes(session: AsyncSession) -> bool:
    return bool(session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty))
