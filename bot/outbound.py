"""The texts of the messages the service sends on its own, rendered for one patient, language and channel.

Owns `render_outbound` and the texts file `outbound_texts.toml` (`load_outbound_texts`; `default_texts`
reads the shipped file once, on first use). Dates and times are formatted with Babel in the patient's
locale. May import `care` and `babel`; must not import `storage` or `telegram`.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from bot.options import Option
from care.dose_duration import DoseDuration, expected_duration
from care.formulation import Formulation

__all__ = [
    "CHANNELS",
    "JOB_TOUCHPOINTS",
    "LANGUAGES",
    "Option",
    "OutboundContext",
    "OutboundTexts",
    "OutboundTextsError",
    "Rendered",
    "default_texts",
    "load_outbound_texts",
    "render_outbound",
    "texts_from_mapping",
]

TEXTS_VERSION = 1
DEFAULT_TEXTS = "outbound_texts.toml"
CHANNELS = ("telegram", "sms", "web")
LANGUAGES = ("en", "es")  # the first is the fallback for a language we have no texts in
# Messages a job writes outside the reminder plan (its row's kind names the text): `jobs.followups`.
JOB_TOUCHPOINTS = ("check_in_nudge",)
TEXT_KEYS = (*LANGUAGES, *(f"sms_{lang}" for lang in LANGUAGES))
# Phrases and the variants each must have; an SMS uses "<name>_sms" when the file has it.
PHRASE_VARIANTS = {
    "dose": {"iv", "sc"},
    "plan_for": {"iv", "sc"},
    "premedication": {"iv", "sc"},
    "infection": {"all"},
    "emergency": {"with_number", "no_number"},
    "next_due": {"default", "iv_after_first", "iv_after_second"},
}
PHRASE_FIELDS = {"administration", "observation", "number"}
TEMPLATE_FIELDS = {"greeting", "when", "place", "on_date", "last_dose_date", "options", *PHRASE_VARIANTS}
LANGUAGE_KEYS = {
    "greeting", "greeting_no_name", "today", "tomorrow", "on_day", "at_time", "at_time_one", "place",
    "on_date", "hour", "minute", "duration_joiner", "sms_options", "sms_item", "sms_separator",
    "sms_last_separator",
}  # fmt: skip
_HOUR_ONE = re.compile(r"^0?1\D")  # "1:05", "01:05": Spanish says "a la 1", not "a las 1"


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel; an SMS also lists its options, numbered, in `text`."""

    text: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class OutboundContext:
    """What a message may say about the patient and the appointment, in the patient's wall clock."""

    display_name: str | None
    starts_at_local: datetime | None  # aware, in the patient's zone; None for the booking nudge
    location: str | None
    formulation: Formulation | str  # "iv" or "sc"
    dose_number: int  # the appointment's dose; for the booking nudge, the last dose given
    duration: DoseDuration | None = None  # None: the label's expected duration for this dose
    last_dose_local: datetime | None = None  # the booking nudge
    emergency_number: str | None = None  # check-ins name it when known
    sending_at_local: datetime | None = None  # when given, "today"/"tomorrow" follow the real sending day


class OutboundTextsError(ValueError):
    """An outbound texts file that cannot be used, naming the entry at fault."""

    def __init__(self, source: str, entry: str, problem: str) -> None:
        super().__init__(f"outbound texts {source}: {entry}: {problem}")
        self.source, self.entry, self.problem = source, entry, problem


@dataclass(frozen=True)
class Template:
    """One touchpoint's texts (`en`, `es`, `sms_en`, `sms_es`), options and facts."""

    id: str
    texts: Mapping[str, str]
    options: tuple[str, ...]
    facts: tuple[int, ...]
    days_before: int | None  # reminders: the nominal days between sending and the appointment


@dataclass(frozen=True)
class OutboundTexts:
    """A validated outbound texts file."""

    languages: Mapping[str, Mapping[str, Any]]
    date_format: Mapping[str, str]
    date_with_year_format: Mapping[str, str]
    phrases: Mapping[str, Mapping[str, Mapping[str, str]]]  # name -> variant -> language -> text
    options: Mapping[str, Mapping[str, str]]  # key -> en / es / sms_en / sms_es -> label
    touchpoints: Mapping[str, Template]


def render_outbound(
    touchpoint_id: str,
    ctx: OutboundContext,
    language: str,
    channel: str,
    *,
    texts: OutboundTexts | None = None,
) -> Rendered:
    """Renders one touchpoint's message for a patient, in their language, for one channel."""
    texts = default_texts() if texts is None else texts
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    if touchpoint_id not in texts.touchpoints:
        raise ValueError(f"no outbound text for touchpoint {touchpoint_id!r}")
    template = texts.touchpoints[touchpoint_id]
    lang, locale = _locale(language)
    sms = channel == "sms"
    body = template.texts[f"sms_{lang}" if sms else lang]
    render = _Renderer(texts, ctx, lang, locale, sms, template)
    text = body.format_map({name: render.value(name) for name in _fields(body)})
    options = tuple(Option(key, texts.options[key][lang]) for key in template.options)
    return Rendered(text.replace("\u202f", " ").replace("\u00a0", " "), options)


@cache
def default_texts() -> OutboundTexts:
    """Returns the texts shipped with `bot`, read once."""
    return load_outbound_texts()


def load_outbound_texts(path: str | Path | None = None) -> OutboundTexts:
    """Reads and validates a texts file; without a path, the one shipped with `bot`."""
    source = DEFAULT_TEXTS if path is None else str(path)
    try:
        if path is None:
            text = resources.files("bot").joinpath(DEFAULT_TEXTS).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise OutboundTextsError(source, "file", f"cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise OutboundTextsError(source, "file", f"is not valid TOML: {exc}") from None
    return texts_from_mapping(data, source)


@dataclass(frozen=True)
class _Renderer:
    texts: OutboundTexts
    ctx: OutboundContext
    lang: str
    locale: Locale
    sms: bool
    template: Template

    def value(self, name: str) -> str:
        words, ctx = self.texts.languages[self.lang], self.ctx
        if name == "greeting":
            person = _clean(ctx.display_name)
            return words["greeting"].format(name=person) if person else words["greeting_no_name"]
        if name == "place":
            location = _clean(ctx.location)
            return words["place"].format(location=location) if location else ""
        if name == "when":
            return self._when(self._starts())
        if name == "on_date":
            return words["on_date"].format(date=self._date(self._starts(), self.texts.date_format))
        if name == "last_dose_date":
            if ctx.last_dose_local is None:
                raise ValueError(f"{self.template.id} needs last_dose_local")
            return self._date(ctx.last_dose_local, self.texts.date_with_year_format)
        if name == "options":
            return self._sms_options()
        return self._phrase(name)

    def _phrase(self, name: str) -> str:
        ctx, formulation = self.ctx, Formulation(self.ctx.formulation)
        variant = {
            "infection": "all",
            "emergency": "with_number" if (ctx.emergency_number or "").strip() else "no_number",
            "next_due": _next_due_variant(formulation, ctx.dose_number),
        }.get(name, formulation.value)
        phrases = self.texts.phrases
        text = phrases.get(f"{name}_sms", phrases[name])[variant] if self.sms else phrases[name][variant]
        duration = ctx.duration or expected_duration(formulation, max(ctx.dose_number, 1))
        return text[self.lang].format(
            administration=self._duration(duration.administration),
            observation=self._duration(duration.observation),
            number=(ctx.emergency_number or "").strip(),
        )

    def _starts(self) -> datetime:
        starts = self.ctx.starts_at_local
        if starts is None or starts.utcoffset() is None:
            raise ValueError(f"{self.template.id} needs an aware starts_at_local")
        return starts

    def _when(self, starts: datetime) -> str:
        words = self.texts.languages[self.lang]
        sending = self.ctx.sending_at_local
        if sending is not None:
            if sending.utcoffset() is None:
                raise ValueError("sending_at_local must be timezone-aware")
            days = (starts.date() - sending.astimezone(starts.tzinfo).date()).days
        else:
            days = self.template.days_before if self.template.days_before is not None else -1
        clock = format_time(starts, "short", locale=self.locale)
        at_time = words["at_time_one" if _HOUR_ONE.match(clock) else "at_time"].format(time=clock)
        phrase = {0: "today", 1: "tomorrow"}.get(days, "on_day")
        return words[phrase].format(date=self._date(starts, self.texts.date_format), at_time=at_time)

    def _date(self, moment: datetime, formats: Mapping[str, str]) -> str:
        pattern = formats.get(str(self.locale), formats[self.lang])
        return format_date(moment.date(), pattern, locale=self.locale)

    def _duration(self, span: timedelta) -> str:
        words = self.texts.languages[self.lang]
        hours, minutes = divmod(int(span.total_seconds()) // 60, 60)
        counts = ((hours, "hour"), (minutes, "minute"))
        parts = [f"{count} {words[unit][count != 1]}" for count, unit in counts if count]
        return words["duration_joiner"].join(parts)

    def _sms_options(self) -> str:
        words, keys = self.texts.languages[self.lang], self.template.options
        items = [
            words["sms_item"].format(n=n, label=self.texts.options[key][f"sms_{self.lang}"])
            for n, key in enumerate(keys, start=1)
        ]
        listed = words["sms_separator"].join(items[:-1])
        joined = f"{listed}{words['sms_last_separator']}{items[-1]}" if listed else items[-1]
        return words["sms_options"].format(items=joined)


def _next_due_variant(formulation: Formulation, last_dose_number: int) -> str:
    if formulation is Formulation.IV and last_dose_number == 1:
        return "iv_after_first"  # fact 1: Infusion 2 comes two weeks after Infusion 1
    if formulation is Formulation.IV and last_dose_number == 2:
        return "iv_after_second"  # fact 3: the first 600 mg dose is timed from Infusion 1
    return "default"


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _locale(language: str) -> tuple[str, Locale]:
    lang = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    if lang not in LANGUAGES:
        return LANGUAGES[0], Locale.parse(LANGUAGES[0])
    try:
        return lang, Locale.parse(language.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return lang, Locale.parse(lang)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# ---------------------------------------------------------------------------------------------- validation
def texts_from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> OutboundTexts:
    """Validates a texts file already parsed from TOML."""

    def fail(entry: str, problem: str) -> OutboundTextsError:
        return OutboundTextsError(source, entry, problem)

    def table(parent: Mapping[str, Any], key: str, entry: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if not isinstance(value, dict):
            raise fail(f"{entry}{key}", "is required and must be a table")
        return value

    def text(parent: Mapping[str, Any], key: str, entry: str, fields: set[str]) -> str:
        value = parent.get(key)
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{entry}.{key}", "is required and must be non-empty text")
        if _fields(value) - fields:
            raise fail(
                f"{entry}.{key}", f"unknown placeholder {sorted(_fields(value) - fields)} in {value!r}"
            )
        return value

    def facts(parent: Mapping[str, Any], entry: str) -> tuple[int, ...]:
        value = parent.get("facts")
        if not isinstance(value, list) or not all(type(f) is int and f > 0 for f in value):
            raise fail(f"{entry}.facts", "must list the fact numbers the text rests on")
        return tuple(value)

    if data.get("version") != TEXTS_VERSION:
        raise fail("version", f"must be {TEXTS_VERSION}, got {data.get('version')!r}")
    languages = {}
    for lang in LANGUAGES:
        words = table(table(data, "language", ""), lang, "language.")
        missing = LANGUAGE_KEYS - set(words)
        if missing:
            raise fail(f"language.{lang}", f"lacks {', '.join(sorted(missing))}")
        for unit in ("hour", "minute"):
            if not (isinstance(words[unit], list) and len(words[unit]) == 2):
                raise fail(f"language.{lang}.{unit}", "must be [singular, plural]")
        languages[lang] = words
    formats = {key: dict(table(data, key, "")) for key in ("date_format", "date_with_year_format")}
    for key, patterns in formats.items():
        for lang in LANGUAGES:
            text(patterns, lang, key, set())
    phrases: dict[str, dict[str, dict[str, str]]] = {}
    phrase_tables = table(data, "phrase", "")
    for name, variants in phrase_tables.items():
        base = name.removesuffix("_sms")
        if base not in PHRASE_VARIANTS or not isinstance(variants, dict):
            raise fail(
                f"phrase.{name}", f"is not a known phrase (known: {', '.join(sorted(PHRASE_VARIANTS))})"
            )
        if set(variants) != PHRASE_VARIANTS[base]:
            raise fail(f"phrase.{name}", f"must have exactly the variants {sorted(PHRASE_VARIANTS[base])}")
        phrases[name] = {}
        for variant, entry in variants.items():
            where = f"phrase.{name}.{variant}"
            facts(entry, where)
            phrases[name][variant] = {lang: text(entry, lang, where, PHRASE_FIELDS) for lang in LANGUAGES}
    for name in PHRASE_VARIANTS.keys() - phrases.keys():
        raise fail(f"phrase.{name}", "is required")
    options = {
        key: {k: text(labels, k, f"option.{key}", set()) for k in TEXT_KEYS}
        for key, labels in table(data, "option", "").items()
    }
    touchpoints = {}
    for tid, entry in table(data, "touchpoint", "").items():
        where = f"touchpoint.{tid}"
        keys = entry.get("options")
        if not isinstance(keys, list) or not all(k in options for k in keys):
            raise fail(f"{where}.options", f"must list known option keys (known: {', '.join(options)})")
        days = entry.get("days_before")
        if days is not None and (type(days) is not int or days < 0):
            raise fail(f"{where}.days_before", f"must be 0 or more, got {days!r}")
        bodies = {}
        for key in TEXT_KEYS:
            sms = key.startswith("sms_")
            bodies[key] = text(entry, key, where, TEMPLATE_FIELDS - (set() if sms else {"options"}))
            if sms and bool(keys) != ("options" in _fields(bodies[key])):
                raise fail(f"{where}.{key}", "must show {options} exactly when the touchpoint has options")
        touchpoints[tid] = Template(tid, bodies, tuple(keys), facts(entry, where), days)
    return OutboundTexts(
        languages=languages,
        date_format=formats["date_format"],
        date_with_year_format=formats["date_with_year_format"],
        phrases=phrases,
        options=options,
        touchpoints=touchpoints,
    )
