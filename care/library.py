"""The education library: short, sourced answers about Ocrevus in English and Spanish, by region and channel.

Owns the library's model, `load_library` (the one function here that reads files: `library.toml` and one
file a topic under `library_topics/`), its validation (both languages, every region, text lengths, SMS
segments, known sources and related topics) and `match`, which answers a question with one topic or with
None when it is not confident: never a guess. Texts are written in our own words from the [V] facts of
shared/clinical-facts.md that each answer cites. Must not import anything outside the standard library.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from care.library_fields import LibraryError, Reader
from care.library_match import Index, Score
from care.sms_segments import MAX_SMS_SEGMENTS, Encoding, encoding_of, segments

__all__ = [
    "Answer",
    "Library",
    "LibraryError",
    "LibraryMatch",
    "Source",
    "TextKind",
    "Topic",
    "default_library",
    "load_library",
    "match",
    "region_for_timezone",
]

LIBRARY_VERSION = 1
INDEX_FILE = "library.toml"
TOPICS_DIR = "library_topics"
MAX_TELEGRAM_CHARS = 700
MAX_TITLE_CHARS = 40  # a Telegram button, an SMS "Reply 1 for ..." line
MIN_SCORE = 0.5  # the question's words a topic covers must weigh at least this
MIN_COVERAGE = 0.5  # and at least half of the question must be words some topic knows
RELATED_SHARE = 0.5  # a runner-up this close to the best is offered as related
MAX_RELATED = 3
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_SOURCE = re.compile(r"^S\d{1,3}$")
_TOP_KEYS = {"version", "languages", "regions", "default_region", "gsm7_languages", "order", "stopwords",
             "weak", "not_typos", "source"}  # fmt: skip
_TOPIC_KEYS = {"id", "title", "keywords", "related", "reviewed_on", "names_symptoms", "answer"}
_ANSWER_KEYS = {"regions", "facts", "sources", "clinical"}


class TextKind(StrEnum):
    """Which text of an answer a channel sends."""

    TELEGRAM = "telegram"  # also the web simulator and the terminal
    SMS = "sms"


@dataclass(frozen=True)
class Source:
    """A source of clinical-facts.md, as a patient sees it cited."""

    key: str
    title: Mapping[str, str]  # language -> short name
    url: str


@dataclass(frozen=True)
class Answer:
    """A topic's texts for some regions: per language, a Telegram text and an SMS text."""

    regions: frozenset[str]
    facts: tuple[int, ...]  # numbered facts of clinical-facts.md
    sources: tuple[str, ...]  # their source keys ("S15")
    texts: Mapping[str, Mapping[TextKind, str]]  # language -> kind -> text
    clinical: bool = True  # False: a pointer to other help, stating no health fact

    def text(self, language: str, kind: TextKind | str = TextKind.TELEGRAM) -> str:
        """Returns the text in a language for a channel kind."""
        return self.texts[language][TextKind(kind)]


@dataclass(frozen=True)
class Topic:
    """One subject of the library."""

    id: str
    title: Mapping[str, str]
    keywords: Mapping[str, tuple[str, ...]]  # language -> phrases
    answers: tuple[Answer, ...]
    related: tuple[str, ...]
    reviewed_on: date
    names_symptoms: bool  # every text then ends with what to do about them

    def answer(self, region: str) -> Answer:
        """Returns the answer for a region."""
        for answer in self.answers:
            if region in answer.regions:
                return answer
        raise KeyError(region)

    @property
    def regional(self) -> bool:
        """Tells whether the answer differs by region."""
        return len(self.answers) > 1


@dataclass(frozen=True)
class LibraryMatch:
    """A confident answer to a question: the topic, its answer for the region, and related topics."""

    topic: Topic
    answer: Answer
    related: tuple[Topic, ...]
    score: float
    coverage: float


@dataclass(frozen=True)
class Library:
    """A validated education library."""

    version: int
    languages: tuple[str, ...]
    regions: tuple[str, ...]
    default_region: str
    topics: tuple[Topic, ...]  # in the order they are listed to patients
    sources: Mapping[str, Source]
    index: Index = field(repr=False, compare=False)

    def topic(self, topic_id: str) -> Topic:
        """Returns the topic with this id, or raises KeyError."""
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def is_small_talk(self, question: str) -> bool:
        """Tells whether a message has no words that could make a question ("hi", "ok thanks")."""
        return not self.index.content_words(question)

    def match(self, question: str, language: str, region: str) -> LibraryMatch | None:
        """Returns the best topic for a question, or None when no topic is a confident answer."""
        if language not in self.languages:
            raise ValueError(f"unknown language {language!r} (known: {', '.join(self.languages)})")
        if region not in self.regions:
            raise ValueError(f"unknown region {region!r} (known: {', '.join(self.regions)})")
        scores = self.index.scores(question)
        if not scores or not _confident(scores[0]):
            return None
        best = self.topic(scores[0].topic_id)
        close = [self.topic(s.topic_id) for s in scores[1:] if s.score >= RELATED_SHARE * scores[0].score]
        curated = [self.topic(topic_id) for topic_id in best.related]
        related: list[Topic] = []
        for topic in [*close, *curated]:
            if topic.id != best.id and topic not in related:
                related.append(topic)
        return LibraryMatch(
            best, best.answer(region), tuple(related[:MAX_RELATED]), scores[0].score, scores[0].coverage
        )


def _confident(score: Score) -> bool:
    return score.score >= MIN_SCORE and score.coverage >= MIN_COVERAGE


def region_for_timezone(timezone: str, default: str) -> str:
    """Returns the label region of an IANA time zone: us for the Americas, uk, eu for the rest of Europe."""
    zone = timezone.strip()
    if zone.startswith(("America/", "US/")) or zone in ("Pacific/Honolulu", "Canada/Eastern"):
        return "us"
    if zone in ("Europe/London", "Europe/Belfast", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey",
                "GB", "GB-Eire"):  # fmt: skip
        return "uk"
    if zone.startswith("Europe/") or zone in ("Atlantic/Canary", "Atlantic/Madeira", "Atlantic/Azores"):
        return "eu"
    return default


def load_library(path: str | Path | None = None) -> Library:
    """Reads and validates a library: `library.toml` and the topic files beside it in `library_topics/`.

    Without a path, the library shipped with `care`; with one, the `library.toml` at that path (or in that
    folder).
    """
    if path is None:
        root: Traversable = resources.files("care")
        index_file = root.joinpath(INDEX_FILE)
    else:
        given = Path(path)
        index_file = given / INDEX_FILE if given.is_dir() else given
        root = index_file.parent
    try:
        index_text = index_file.read_text(encoding="utf-8")
        topic_dir = root.joinpath(TOPICS_DIR)
        topic_files = sorted(
            (f for f in topic_dir.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name
        )
        topic_texts = [(f"{TOPICS_DIR}/{f.name}", f.read_text(encoding="utf-8")) for f in topic_files]
    except OSError as exc:
        raise LibraryError(
            str(path or INDEX_FILE), "file", f"cannot be read: {exc.strerror or exc}"
        ) from None
    return parse_library(index_text, topic_texts)


@functools.cache
def default_library() -> Library:
    """Returns the library shipped with `care`, read once."""
    return load_library()


def match(
    question: str, language: str, region: str, *, library: Library | None = None
) -> LibraryMatch | None:
    """Returns the best topic for a question in the default (or given) library, or None: see `Library`."""
    return (library or default_library()).match(question, language, region)


def parse_library(index_text: str, topic_texts: Sequence[tuple[str, str]]) -> Library:
    """Validates the text of `library.toml` and of each topic file (name, text)."""
    top = _toml(index_text, INDEX_FILE)
    read = Reader(INDEX_FILE)
    read.keys(top, _TOP_KEYS, "library")
    if read.value(top, "version", int, "library") != LIBRARY_VERSION:
        raise read.fail("version", f"must be {LIBRARY_VERSION}")
    languages = tuple(read.strings(top, "languages", "library"))
    regions = tuple(read.strings(top, "regions", "library"))
    default_region = read.value(top, "default_region", str, "library")
    if default_region not in regions:
        raise read.fail("default_region", f"must be one of {', '.join(regions)}")
    gsm7 = frozenset(read.strings(top, "gsm7_languages", "library", required=False))
    sources = _sources(read, top, languages)
    shape = _Shape(languages, frozenset(regions), frozenset(sources), gsm7)
    topics = {}
    for name, text in topic_texts:
        topic = _topic(_toml(text, name), Reader(name), shape)
        if topic.id in topics:
            raise LibraryError(name, topic.id, "is used by more than one topic")
        if name.rsplit("/", 1)[-1] != f"{topic.id}.toml":
            raise LibraryError(name, topic.id, f"must be in a file named {topic.id}.toml")
        topics[topic.id] = topic
    order = read.strings(top, "order", "library")
    if sorted(order) != sorted(topics) or len(set(order)) != len(order):
        missing, extra = sorted(set(topics) - set(order)), sorted(set(order) - set(topics))
        raise read.fail("order", f"must list every topic once (missing {missing}, unknown {extra})")
    for topic in topics.values():
        unknown = [topic_id for topic_id in topic.related if topic_id not in topics or topic_id == topic.id]
        if unknown:
            raise LibraryError(f"{TOPICS_DIR}/{topic.id}.toml", "related", f"unknown topics {unknown}")
    stopwords = [w for lang in languages for w in read.strings(read.table(top, "stopwords", "library"), lang,
                                                                 "stopwords")]  # fmt: skip
    weak = read.strings(top, "weak", "library")
    not_typos = read.strings(top, "not_typos", "library", required=False)
    keywords = {
        topic_id: [p for lang in languages for p in topics[topic_id].keywords[lang]] for topic_id in order
    }
    index = Index(keywords, stopwords, weak, not_typos)
    return Library(LIBRARY_VERSION, languages, regions, default_region, tuple(topics[t] for t in order),
                   sources, index)  # fmt: skip


@dataclass(frozen=True)
class _Shape:
    languages: tuple[str, ...]
    regions: frozenset[str]
    sources: frozenset[str]
    gsm7: frozenset[str]


def _toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LibraryError(name, "file", f"is not valid TOML: {exc}") from None


def _sources(read: Reader, top: Mapping[str, Any], languages: Sequence[str]) -> dict[str, Source]:
    sources = {}
    for key, table in read.table(top, "source", "library").items():
        entry = f"source.{key}"
        if not _SOURCE.match(key):
            raise read.fail(entry, "must be a source key of clinical-facts.md like S15")
        read.keys(table, {*languages, "url"}, entry)
        title = {lang: read.value(table, lang, str, entry) for lang in languages}
        sources[key] = Source(key, title, read.value(table, "url", str, entry))
    return sources


def _topic(data: Mapping[str, Any], read: Reader, shape: _Shape) -> Topic:
    topic_id = read.value(data, "id", str, "topic")
    if not _ID.match(topic_id):
        raise read.fail("id", f"must be snake_case (a-z, 0-9, _), got {topic_id!r}")
    read.keys(data, _TOPIC_KEYS, topic_id)
    title = read.per_language(read.table(data, "title", topic_id), shape.languages, "title")
    for lang, text in title.items():
        if len(text) > MAX_TITLE_CHARS:
            raise read.fail(f"title.{lang}", f"is {len(text)} characters; at most {MAX_TITLE_CHARS}")
    keyword_table = read.table(data, "keywords", topic_id)
    read.keys(keyword_table, set(shape.languages), "keywords")
    keywords = {lang: tuple(read.strings(keyword_table, lang, "keywords")) for lang in shape.languages}
    reviewed_on = data.get("reviewed_on")
    if not isinstance(reviewed_on, date) or isinstance(reviewed_on, datetime):
        raise read.fail("reviewed_on", "must be a date like 2026-07-20")
    names_symptoms = data.get("names_symptoms", False)
    if not isinstance(names_symptoms, bool):
        raise read.fail("names_symptoms", "must be true or false")
    tables = data.get("answer")
    if not isinstance(tables, list) or not tables:
        raise read.fail("answer", "must list at least one [[answer]]")
    answers = tuple(_answer(table, read, shape, f"answer[{i}]") for i, table in enumerate(tables))
    covered = [region for answer in answers for region in answer.regions]
    if sorted(covered) != sorted(shape.regions):
        raise read.fail(
            "answer", f"regions must cover {sorted(shape.regions)} once each, got {sorted(covered)}"
        )
    related = tuple(read.strings(data, "related", topic_id, required=False))
    return Topic(topic_id, title, keywords, answers, related, reviewed_on, names_symptoms)


def _answer(table: Any, read: Reader, shape: _Shape, entry: str) -> Answer:
    if not isinstance(table, dict):
        raise read.fail(entry, "must be a table")
    read.keys(table, _ANSWER_KEYS | set(shape.languages), entry)
    regions = frozenset(read.strings(table, "regions", entry, required=False) or shape.regions)
    if not regions <= shape.regions:
        raise read.fail(f"{entry}.regions", f"unknown regions {sorted(regions - shape.regions)}")
    clinical = table.get("clinical", True)
    facts = table.get("facts", [])
    if not isinstance(facts, list) or not all(isinstance(n, int) and n > 0 for n in facts):
        raise read.fail(f"{entry}.facts", "must be a list of fact numbers")
    sources = read.strings(table, "sources", entry, required=False)
    if clinical is not False and not (facts and sources):
        raise read.fail(entry, "a clinical answer needs facts and sources (or clinical = false)")
    unknown = [key for key in sources if key not in shape.sources]
    if unknown:
        raise read.fail(f"{entry}.sources", f"unknown source keys {unknown}")
    texts = {lang: _texts(read.table(table, lang, entry), read, shape, f"{entry}.{lang}", lang)
             for lang in shape.languages}  # fmt: skip
    return Answer(regions, tuple(facts), tuple(sources), texts, clinical is not False)


def _texts(
    table: Mapping[str, Any], read: Reader, shape: _Shape, entry: str, lang: str
) -> dict[TextKind, str]:
    read.keys(table, {kind.value for kind in TextKind}, entry)
    texts = {kind: read.value(table, kind.value, str, entry).strip() for kind in TextKind}
    telegram, sms = texts[TextKind.TELEGRAM], texts[TextKind.SMS]
    if not telegram or not sms:
        raise read.fail(entry, "texts must not be blank")
    if len(telegram) > MAX_TELEGRAM_CHARS:
        raise read.fail(f"{entry}.telegram", f"is {len(telegram)} characters; at most {MAX_TELEGRAM_CHARS}")
    if lang in shape.gsm7 and encoding_of(sms) is not Encoding.GSM7:
        raise read.fail(f"{entry}.sms", "must use only GSM-7 characters (no curly quotes, dashes or accents)")
    if segments(sms) > MAX_SMS_SEGMENTS:
        raise read.fail(f"{entry}.sms", f"takes {segments(sms)} SMS segments; at most {MAX_SMS_SEGMENTS}")
    return texts
