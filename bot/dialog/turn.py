"""One step of one conversation: what the flows see and change while the engine holds the transaction.

Owns `Turn` (the patient, their address and dialog state, the clock's `now`, the replies so far, and
what must be stored), `Answer` (what the patient sent, read) and `Step` (a question and its handler).
Flows change state only through `Turn`, so the engine knows what to store. Must not import `jobs`, `admin`
or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import Alert
from bot.dialog import texts
from bot.dialog.events import Attachment, InboundEvent, Reply
from bot.options import Option
from care.plan import ReminderPlan
from care.triage import TriagePolicy
from storage.models import Channel, ChannelAddress, DialogState, Patient

IDLE = ""


@dataclass(frozen=True)
class Answer:
    """What the patient sent at a step: cleaned text, a chosen option key, or a shared phone number."""

    text: str | None = None
    option: str | None = None
    contact: str | None = None


@dataclass(frozen=True)
class Step:
    """One question: `ask` renders it with its options; `handle` takes the answer.

    numbered: a bare number ("2") or an option's label typed out picks that option; off where numbers and
    words are real answers (dates, phone numbers, names).
    accepts_contact: a shared contact is an answer here, not an input to refuse.
    choice_only: the answer must be one of the options; other text is asked again, never handled.
    """

    ask: Callable[[Turn], Awaitable[Reply]]
    handle: Callable[[Turn, Answer], Awaitable[None]]
    numbered: bool = True
    accepts_contact: bool = False
    choice_only: bool = False


@dataclass
class Turn:
    """Everything one step sees, and what it changed."""

    session: AsyncSession
    event: InboundEvent
    now: datetime
    plan: ReminderPlan
    address: ChannelAddress
    patient: Patient
    state: DialogState
    replies: list[Reply] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: bool = False  # store the dialog state (and bump its version)
    replan: bool = False  # rewrite the patient's outbox before commit
    erased: bool = False  # the patient is gone: store nothing more
    asker: Callable[[Turn], Awaitable[None]] | None = None  # sends the current step's question (the engine's)
    policy: TriagePolicy | None = None  # check-in triage (None: the default policy)
    emergency_number: str | None = None  # quoted when the patient's country's number is unknown
    alerts: list[Alert] = field(default_factory=list)  # flagged check-ins, alerted after the commit
    sms_on: bool = False  # SMS is configured: a typed number can be texted for its own YES

    @property
    def lang(self) -> str:
        """Returns the patient's language code, "en" or "es"."""
        return str(self.patient.language.value)

    @property
    def tz(self) -> ZoneInfo:
        """Returns the patient's time zone."""
        return ZoneInfo(self.patient.timezone)

    @property
    def locale(self) -> Locale:
        """Returns the locale dates are written in: the language, with the country when we know it."""
        if self.patient.country:
            try:
                return Locale.parse(f"{self.lang}_{self.patient.country}")
            except (UnknownLocaleError, ValueError):
                pass
        return Locale.parse(self.lang)

    @property
    def flow(self) -> str:
        """Returns the current flow's name, or IDLE."""
        return self.state.flow or IDLE

    @property
    def step_name(self) -> str:
        """Returns the current step's name within the flow, or IDLE."""
        return self.state.step or IDLE

    @property
    def data(self) -> dict[str, Any]:
        """Returns the flow's saved answers (read-only: change them with `remember`)."""
        return dict(self.state.data or {})

    def t(self, key: str, **values: object) -> str:
        """Returns sentence `key` in the patient's language (its shorter SMS form on an SMS address)."""
        return texts.say(self.lang, key, for_sms=self.address.channel is Channel.SMS, **values)

    def option(self, key: str, text_key: str, **values: object) -> Option:
        """Returns an option whose label is sentence `text_key`."""
        return Option(key, self.t(text_key, **values))

    def note(self, text_key: str, **values: object) -> None:
        """Queues a sentence that goes out before the next reply (or alone, at the end of the step)."""
        self.notes.append(self.t(text_key, **values))

    def send(
        self,
        text: str,
        options: tuple[Option, ...] = (),
        attachment: Attachment | None = None,
        ask_contact: str | None = None,
    ) -> None:
        """Adds a reply, with any queued notes in front of it."""
        body = "\n\n".join([*self.notes, text]) if self.notes else text
        self.notes.clear()
        self.replies.append(Reply(body, tuple(options), attachment, ask_contact))

    def say(self, text_key: str, *, options: tuple[Option, ...] = (), **values: object) -> None:
        """Adds a reply made of sentence `text_key`."""
        self.send(self.t(text_key, **values), options)

    def flush_notes(self) -> None:
        """Sends queued notes as one reply; the engine calls it at the end of a step."""
        if self.notes:
            self.replies.append(Reply("\n\n".join(self.notes)))
            self.notes.clear()

    async def ask(self) -> None:
        """Sends the question of the step the conversation is now at (the idle menu when there is none)."""
        if self.asker is not None:
            await self.asker(self)

    def go(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        """Moves the conversation to `step` of `flow`, with `data` (None keeps the current data)."""
        self.state.flow = flow or None
        self.state.step = step or None
        if data is not None:
            self.state.data = dict(data)
        self.changed = True

    def remember(self, **values: Any) -> None:
        """Stores answers in the flow's data (JSON values only); a None value forgets the key."""
        merged = {**self.data, **values}
        self.state.data = {key: value for key, value in merged.items() if value is not None}
        self.changed = True

    def idle(self) -> None:
        """Ends any flow."""
        self.go(IDLE, IDLE, {})

    def patient_changed(self) -> None:
        """Marks the patient row as updated now."""
        self.patient.updated_at = self.now
        self.changed = True

    def interrupt(self, flow: str, step: str) -> None:
        """Starts a side flow that returns to the current one when it ends (see `resume`)."""
        base = self.data.get("resume") or (
            {"flow": self.flow, "step": self.step_name, "data": self.data} if self.flow else None
        )
        self.go(flow, step, {"resume": base} if base else {})

    def resume(self) -> bool:
        """Returns to the flow a side flow interrupted; False (and idle) when there was none."""
        base = self.data.get("resume")
        if not base:
            self.idle()
            return False
        self.go(base["flow"], base["step"], base["data"])
        return True
