"""The weekly tip: which library topics make a tip, in what order, when in the week one goes, and its text.

Owns the curated order of tip topics (general ones only: nothing alarming arrives unasked as a "tip"; every
text is the library's, so each health statement is already traced to a [V] fact), the weekly slot (a
weekday and a local wall-clock time, moved out of quiet hours, later), the dedupe key of a patient's tip
(one per ISO week of the slot's local date), which topic comes next (the next in the order the patient has
not had, then round again) and the tip's text for a channel: a short header, the topic's text, and how to
stop. Pure: `now` is a parameter. Must not import anything outside the standard library and `care`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from care.library import Library, TextKind, region_for_timezone
from care.quiet_hours import QuietHours, QuietMove
from care.wall_clock import require_aware, resolve_wall

TIP_KIND = "tip"  # the outbox kind of a tip row
KEY_PREFIX = "tip:"
# General topics, in the order a patient gets them. Left out on purpose: side effects, infections, PML,
# herpes, hepatitis B, colitis, liver, cancer, low antibodies, reactions, when to call, pregnancy and
# breastfeeding (a patient asks for those with /learn; unasked, they would alarm or not apply).
TIP_TOPICS = (
    "what_is_ocrevus", "dose_day", "iv_schedule", "injection_schedule", "how_it_works", "vaccines",
    "tests_before_treatment", "missed_dose", "who_is_it_for", "ms_types", "trials", "learn_more",
)  # fmt: skip
ONLY_FOR = {"iv_schedule": "iv", "injection_schedule": "sc"}  # topic -> the formulation it is about
_WORDS = {
    "en": {
        "header": "Weekly tip",
        "stop": "Send /tips to stop these tips.",
        "stop_sms": "Reply TIPS OFF to stop tips.",
    },
    "es": {
        "header": "Consejo semanal",
        "stop": "Envía /tips para dejar de recibirlos.",
        "stop_sms": "Responde CONSEJOS NO para no recibirlos.",
    },
}


@dataclass(frozen=True)
class TipSlot:
    """When in the week a tip goes: `weekday` (0 Monday .. 6 Sunday) at `at`, local wall-clock time."""

    weekday: int = 1
    at: time = time(11, 0)

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"tip weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")

    @classmethod
    def parse(cls, text: str) -> TipSlot:
        """Returns a slot from text like "tue 11:00" (English three-letter day, 24-hour time)."""
        day, _, clock = text.strip().lower().partition(" ")
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        try:
            return cls(days.index(day[:3]) if len(day) >= 3 else -1, time.fromisoformat(clock.strip()))
        except ValueError:
            raise ValueError(f"a tip slot looks like 'tue 11:00', got {text!r}") from None


DEFAULT_SLOT = TipSlot()  # Tuesday late morning: after the weekend, away from mornings of appointments


@dataclass(frozen=True)
class NextTip:
    """The next tip's outbox row: its dedupe key (the ISO week) and when it is due (UTC)."""

    dedupe_key: str
    due_at: datetime


def week_key(day: date) -> str:
    """Returns the dedupe key of the tip of `day`'s ISO week, like "tip:2026-W48"."""
    year, week, _ = day.isocalendar()
    return f"{KEY_PREFIX}{year}-W{week:02d}"


def next_tip(now: datetime, tz: ZoneInfo, quiet: QuietHours, slot: TipSlot = DEFAULT_SLOT) -> NextTip:
    """Returns the first weekly slot still ahead of `now` in the patient's wall clock, out of quiet hours."""
    local_day = require_aware(now, "now").astimezone(tz).date()
    monday = local_day - timedelta(days=local_day.weekday())
    for weeks in (0, 1, 2):
        day = monday + timedelta(weeks=weeks, days=slot.weekday)
        due = quiet.move_out(resolve_wall(day, slot.at, tz), tz, QuietMove.LATER)
        if due > now:
            return NextTip(week_key(day), due)
    raise AssertionError("a weekly slot is always within two weeks")  # unreachable


def tip_order(formulation: str | None) -> tuple[str, ...]:
    """Returns the tip topics for a patient on `formulation` ("iv", "sc", or None: both schedules)."""
    return tuple(t for t in TIP_TOPICS if formulation is None or ONLY_FOR.get(t, formulation) == formulation)


def topic_for(tips_had: int, formulation: str | None) -> str:
    """Returns the topic of a patient's next tip, after `tips_had` tips sent: the order, then round again."""
    order = tip_order(formulation)
    return order[tips_had % len(order)]


def tip_text(library: Library, topic_id: str, language: str, timezone: str, *, sms: bool) -> str:
    """Returns a tip for a channel: the header and topic title, the topic's text, and how to stop."""
    lang = language if language in _WORDS else "en"
    topic = library.topic(topic_id)
    answer = topic.answer(region_for_timezone(timezone, library.default_region))
    words = _WORDS[lang]
    if sms:
        return f"{words['header']}: {answer.text(lang, TextKind.SMS)} {words['stop_sms']}"
    body = answer.text(lang, TextKind.TELEGRAM).strip()
    return f"{words['header']}: {topic.title[lang]}\n\n{body}\n\n{words['stop']}"
