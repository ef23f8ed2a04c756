"""Check-in triage: a patient's answer (a button or their own words) to a level, a flag and the replies.

Owns the triage policy's model, `load_policy` (the one function here that reads a file), `triage`,
`triage_option`, `reply_for` and `emergency_number`. The policy is data (`triage_policy.toml`): the policy at
the top of shared/clinical-facts.md, to be signed off by the clinic. The most severe match wins; an answer
that matches nothing and is not clearly fine is `unclear`, never guessed. Must not import anything outside
the standard library.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from care.edit_distance import deletes, osa

__all__ = [
    "LANGUAGES",
    "PolicyError",
    "Rule",
    "TriageLevel",
    "TriagePolicy",
    "TriageResult",
    "emergency_number",
    "load_policy",
    "parse_policy",
    "policy_from_mapping",
    "reply_for",
    "triage",
    "triage_option",
]

POLICY_VERSION = 1
DEFAULT_POLICY = "triage_policy.toml"
LANGUAGES = ("en", "es")  # every phrase list and reply exists in each; the first is the fallback
OPTIONS = ("fine", "mild", "help_now")  # the check-in buttons
REPLIES = ("emergency", "clinic_now", "clinic_today", "fine", "unclear", "ask_details")
MAX_GAP = 3  # other words allowed between the words of one phrase, in all
_CACHE_WORDS = 5000
_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_WORD = re.compile(r"[^\W_]+")
_RUN = re.compile(r"(.)\1{2,}")  # "goooood": a letter typed 3 times or more
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´ʼ"), None)
_INVISIBLE = {0xFE0E: None, 0xFE0F: None, **dict.fromkeys(range(0x1F3FB, 0x1F400), None)}  # skin tones


class TriageLevel(StrEnum):
    """How urgent an answer is, least severe first (the values of storage's CheckInLevel)."""

    FINE = "fine"
    CLINIC_TODAY = "clinic_today"  # "call your clinic today"
    CLINIC_NOW = "clinic_now"  # "call your clinic right away"
    EMERGENCY = "emergency"  # "call emergency services now"

    @property
    def severity(self) -> int:
        """Returns 0 for fine up to 3 for emergency."""
        return list(TriageLevel).index(self)


class PolicyError(ValueError):
    """A triage policy that cannot be used, naming the entry at fault."""

    def __init__(self, source: str, entry: str, problem: str) -> None:
        super().__init__(f"triage policy {source}: {entry}: {problem}")
        self.source, self.entry, self.problem = source, entry, problem


@dataclass(frozen=True)
class Phrase:
    """Words to find in order, a few words apart; `stem*` words match by prefix."""

    tokens: tuple[str, ...]
    whole: bool = False  # the answer must be exactly this phrase


@dataclass(frozen=True)
class Rule:
    """Phrases that put an answer at a level (an option is a rule without phrases)."""

    id: str
    level: TriageLevel
    phrases: tuple[Phrase, ...] = ()
    within_hours: float | None = None  # the level holds this long after a dose, or when that is unknown
    outside_level: TriageLevel | None = None  # the level after that
    ask_details: bool = False
    facts: tuple[int, ...] = ()

    def level_at(self, hours_since_dose: float | None) -> TriageLevel:
        """Returns the rule's level this long after the last dose (None: unknown, the safe side)."""
        if self.within_hours is None or self.outside_level is None or hours_since_dose is None:
            return self.level
        return self.level if 0 <= hours_since_dose <= self.within_hours else self.outside_level


@dataclass(frozen=True)
class TriageResult:
    """What an answer means: `level` is None exactly when `unclear` (ask again with the options)."""

    level: TriageLevel | None
    flagged: bool  # alert an operator
    matched: tuple[str, ...]  # rule ids, most severe first, or "option:<key>", or "fine"
    unclear: bool = False
    ask_details: bool = False  # the reply asks the patient to describe what they feel


@dataclass(frozen=True)
class TriagePolicy:
    """A validated triage policy."""

    rules: tuple[Rule, ...]
    options: Mapping[str, Rule]
    fine: tuple[Phrase, ...]
    filler: frozenset[str]
    emoji: tuple[tuple[str, str], ...]  # longest symbol first
    replies: Mapping[str, Mapping[str, tuple[str, ...]]]  # reply key -> language -> messages
    emergency_numbers: Mapping[str, str]  # ISO 3166-1 alpha-2 -> number
    lexicon: _Lexicon = field(repr=False, compare=False)


def load_policy(path: str | Path | None = None) -> TriagePolicy:
    """Reads and validates a policy file; without a path, the default policy shipped with `care`."""
    source = DEFAULT_POLICY if path is None else str(path)
    try:
        if path is None:
            text = resources.files("care").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(source, "file", f"cannot be read: {exc.strerror or exc}") from None
    return parse_policy(text, source)


def parse_policy(text: str, source: str = "<text>") -> TriagePolicy:
    """Validates the text of a policy file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, "file", f"is not valid TOML: {exc}") from None
    return policy_from_mapping(data, source)


def triage(text: str, policy: TriagePolicy, *, hours_since_dose: float | None = None) -> TriageResult:
    """Classifies a free-text answer; the most severe matching rule wins."""
    words = _words(text, policy.emoji)
    found = [policy.lexicon.matches(word) for word in words]
    covered = _fine_cover(found, policy)
    hits = [rule for rule in policy.rules if any(_find(p, found, covered) for p in rule.phrases)]
    if hits:
        hits.sort(key=lambda rule: -rule.level_at(hours_since_dose).severity)  # stable: file order
        level = hits[0].level_at(hours_since_dose)
        ask = level is not TriageLevel.EMERGENCY and any(rule.ask_details for rule in hits)
        return TriageResult(level, True, tuple(rule.id for rule in hits), ask_details=ask)
    if any(covered) and all(c or found[i] & policy.filler for i, c in enumerate(covered)):
        return TriageResult(TriageLevel.FINE, False, ("fine",))
    return TriageResult(None, False, (), unclear=True)


def triage_option(
    option_key: str, policy: TriagePolicy, *, hours_since_dose: float | None = None
) -> TriageResult:
    """Classifies a check-in button: fine, mild or help_now."""
    if option_key not in policy.options:
        raise ValueError(f"unknown check-in option {option_key!r} (known: {', '.join(policy.options)})")
    option = policy.options[option_key]
    level = option.level_at(hours_since_dose)
    ask = option.ask_details and level is not TriageLevel.EMERGENCY
    return TriageResult(level, level is not TriageLevel.FINE, (option.id,), ask_details=ask)


def reply_for(
    result: TriageResult, language: str, emergency_number: str, *, policy: TriagePolicy
) -> list[str]:
    """Returns the reply messages in order; an emergency's call to emergency services comes first."""
    if not emergency_number.strip():
        raise ValueError("emergency_number must not be blank")
    lang = _language(language)
    key = "unclear" if result.unclear or result.level is None else result.level.value
    messages = list(policy.replies[key][lang])
    if result.ask_details and key != "unclear":
        messages += policy.replies["ask_details"][lang]
    return [message.format(number=emergency_number.strip()) for message in messages]


def emergency_number(country: str | None, default: str, *, policy: TriagePolicy) -> str:
    """Returns the emergency number of an ISO 3166-1 alpha-2 country, or `default` when it is not known."""
    if not default.strip():
        raise ValueError("the default emergency number must not be blank")
    known = policy.emergency_numbers.get((country or "").strip().upper())
    return known or default.strip()


# ------------------------------------------------------------------------------------------------ matching
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(text: str, emoji: Sequence[tuple[str, str]]) -> list[str]:
    text = text.translate(_INVISIBLE)
    for symbol, meaning in emoji:
        text = text.replace(symbol, f" {meaning} ")
    return _WORD.findall(_fold(text))


def _squash(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


class _Lexicon:
    """Every word of the policy, with an index of one-deletion variants for typo matching."""

    def __init__(self, tokens: Iterable[str], known: Iterable[str]) -> None:
        tokens = set(tokens)
        self.exact = {t for t in tokens if not t.endswith("*")}
        self.stems = {t[:-1] for t in tokens if t.endswith("*")}
        self.known = self.exact | set(known)
        self.squashed: dict[str, set[str]] = {}
        self.typo_index: dict[str, set[str]] = {}  # a deletion variant -> words (len >= 5) and stems* (>= 6)
        for token in tokens:
            base = token.rstrip("*")
            self.squashed.setdefault(_squash(base), set()).add(token)
            if len(base) >= (6 if token.endswith("*") else 5):
                for key in deletes(base):
                    self.typo_index.setdefault(key, set()).add(token)
        self.stem_lengths = sorted({len(stem) for stem in self.stems if len(stem) >= 6})
        self._cache: dict[str, frozenset[str]] = {}

    def matches(self, word: str) -> frozenset[str]:
        """Returns the policy tokens ("word" or "stem*") this typed word stands for."""
        if word not in self._cache:
            if len(self._cache) >= _CACHE_WORDS:
                self._cache.clear()  # bounded: patients' words are not kept
            self._cache[word] = frozenset(self._match(word))
        return self._cache[word]

    def _match(self, word: str) -> set[str]:
        out = ({word} & self.exact) | {f"{s}*" for s in self.stems if word.startswith(s)}
        if _RUN.search(word):  # "goooood", "helppp": compare with repeated letters squashed
            out |= self.squashed.get(_squash(word), set())
        if word in self.known or len(word) < 4:
            return out
        cuts = {cut for size in self.stem_lengths for cut in (size - 1, size, size + 1) if len(word) >= cut}
        candidates = {word} | {word[:cut] for cut in cuts}
        for typed in candidates - self.known:
            for key in deletes(typed):
                for token in self.typo_index.get(key, ()):
                    stem = token.endswith("*")
                    if (stem or typed == word) and osa(typed, token.rstrip("*")) <= 1:
                        out.add(token)
        return out


def _find(phrase: Phrase, found: Sequence[frozenset[str]], covered: Sequence[bool]) -> bool:
    """Tells whether the phrase occurs, in order, not wholly inside a fine phrase ("nada mal")."""
    tokens, n = phrase.tokens, len(found)
    if phrase.whole:
        return n == len(tokens) and all(t in f for t, f in zip(tokens, found, strict=True))
    limit = len(tokens) + MAX_GAP
    for start in range(n):
        positions = [start] if tokens[0] in found[start] else []
        for token in tokens[1:] if positions else ():
            nxt = next(
                (i for i in range(positions[-1] + 1, min(n, start + limit)) if token in found[i]), None
            )
            if nxt is None:
                break
            positions.append(nxt)
        if len(positions) == len(tokens) and not all(covered[i] for i in positions):
            return True
    return False


def _fine_cover(found: Sequence[frozenset[str]], policy: TriagePolicy) -> list[bool]:
    covered = [False] * len(found)
    for phrase in policy.fine:
        size = len(phrase.tokens)
        for start in range(len(found) - size + 1):
            if all(t in found[start + k] for k, t in enumerate(phrase.tokens)):
                covered[start : start + size] = [True] * size
    return covered


def _language(language: str) -> str:
    base = re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else LANGUAGES[0]


# ---------------------------------------------------------------------------------------------- validation
_TOP_KEYS = {"version", "not_typos", "rule", "fine", "emoji", "option", "reply", "emergency_numbers"}
_RULE_KEYS = {"id", "level", "within_hours", "outside_level", "ask_details", "facts", *LANGUAGES}
_OPTION_KEYS = {"level", "within_hours", "outside_level", "ask_details"}


def policy_from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> TriagePolicy:
    """Validates a policy already parsed from TOML."""
    read = _Reader(source)
    read.keys(data, _TOP_KEYS, "policy")
    if read.value(data, "version", int, "policy") != POLICY_VERSION:
        raise PolicyError(source, "version", f"must be {POLICY_VERSION}, got {data['version']!r}")
    rules: list[Rule] = []
    for index, table in enumerate(read.value(data, "rule", list, "policy")):
        rule = _rule(read, table, f"rule #{index + 1}")
        if any(seen.id == rule.id for seen in rules):
            raise PolicyError(source, f"rule {rule.id!r}", "id is used by more than one rule")
        rules.append(rule)
    if not rules:
        raise PolicyError(source, "rule", "must list at least one rule")
    fine_table = read.value(data, "fine", dict, "policy")
    read.keys(fine_table, {*LANGUAGES, *(f"filler_{lang}" for lang in LANGUAGES)}, "fine")
    fine = tuple(p for lang in LANGUAGES for p in read.phrases(fine_table, lang, "fine", stems=False))
    filler = frozenset(
        w for lang in LANGUAGES for w in read.words(fine_table, f"filler_{lang}", "fine", required=True)
    )
    options_table = read.value(data, "option", dict, "policy")
    read.keys(options_table, set(OPTIONS), "option")
    options = {key: _rule(read, read.value(options_table, key, dict, "option"), f"option {key!r}", key)
               for key in OPTIONS}  # fmt: skip
    emoji_table = read.value(data, "emoji", dict, "policy", required=False) or {}
    emoji = {k.translate(_INVISIBLE): _fold(read.text(emoji_table, k, "emoji")) for k in emoji_table}
    not_typos = read.words(data, "not_typos", "policy", required=False)
    tokens = {t for r in rules for p in r.phrases for t in p.tokens} | {t for p in fine for t in p.tokens}
    lexicon = _Lexicon(tokens | filler, not_typos)
    return TriagePolicy(
        rules=tuple(rules),
        options=options,
        fine=fine,
        filler=filler,
        emoji=tuple(sorted(emoji.items(), key=lambda item: -len(item[0]))),
        replies=_replies(read, read.value(data, "reply", dict, "policy")),
        emergency_numbers=_numbers(read, read.value(data, "emergency_numbers", dict, "policy")),
        lexicon=lexicon,
    )


def _rule(read: _Reader, table: Any, entry: str, option: str | None = None) -> Rule:
    if not isinstance(table, dict):
        raise PolicyError(read.source, entry, "must be a table")
    if option is None:
        raw_id = table.get("id")
        entry = f"rule {raw_id!r}" if isinstance(raw_id, str) and raw_id else entry
        rule_id = read.text(table, "id", entry)
        if not _ID.match(rule_id):
            raise PolicyError(read.source, entry, f"id must be snake_case, got {rule_id!r}")
    read.keys(table, _OPTION_KEYS if option else _RULE_KEYS, entry)
    allowed = list(TriageLevel) if option else [lv for lv in TriageLevel if lv is not TriageLevel.FINE]
    level = read.level(table, "level", entry, allowed)
    within = read.value(table, "within_hours", (int, float), entry, required=False)
    outside = None
    if within is not None:
        if within <= 0:
            raise PolicyError(read.source, entry, f"within_hours must be positive, got {within!r}")
        lower = [lv for lv in allowed if lv.severity < level.severity]
        outside = read.level(table, "outside_level", entry, lower)
    elif "outside_level" in table:
        raise PolicyError(read.source, entry, "outside_level goes with within_hours")
    return Rule(
        id=f"option:{option}" if option else rule_id,
        level=level,
        phrases=() if option else tuple(p for lang in LANGUAGES for p in read.phrases(table, lang, entry)),
        within_hours=None if within is None else float(within),
        outside_level=outside,
        ask_details=bool(read.value(table, "ask_details", bool, entry, required=False)),
        facts=read.facts(table, entry),
    )


def _replies(read: _Reader, table: Mapping[str, Any]) -> dict[str, dict[str, tuple[str, ...]]]:
    read.keys(table, set(REPLIES), "reply")
    replies: dict[str, dict[str, tuple[str, ...]]] = {}
    for key in REPLIES:
        entry = f"reply {key!r}"
        reply = read.value(table, key, dict, "reply")
        read.keys(reply, {"facts", *LANGUAGES}, entry)
        read.facts(reply, entry)
        replies[key] = {}
        for lang in LANGUAGES:
            messages = read.value(reply, lang, list, entry)
            if not messages or not all(isinstance(m, str) and m.strip() for m in messages):
                raise PolicyError(read.source, f"{entry}.{lang}", "must be a list of non-empty messages")
            for message in messages:
                names = {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}
                if names - {"number"}:
                    raise PolicyError(read.source, f"{entry}.{lang}", f"unknown placeholder in {message!r}")
            if key == "emergency" and "{number}" not in messages[0]:
                raise PolicyError(read.source, f"{entry}.{lang}", "the first message must give {number}")
            replies[key][lang] = tuple(messages)
    return replies


def _numbers(read: _Reader, table: Mapping[str, Any]) -> dict[str, str]:
    for country, number in table.items():
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise PolicyError(
                read.source, f"emergency_numbers.{country}", "must be an ISO 3166-1 alpha-2 code"
            )
        if not isinstance(number, str) or not re.fullmatch(r"\d{2,4}", number):
            raise PolicyError(
                read.source, f"emergency_numbers.{country}", f"must be 2-4 digits, got {number!r}"
            )
    return dict(table)


@dataclass(frozen=True)
class _Reader:
    """Typed reads from the policy's tables, each failing with a PolicyError naming the entry."""

    source: str

    def value(self, table: Mapping[str, Any], key: str, kind: Any, entry: str, required: bool = True) -> Any:
        if key not in table:
            if required:
                raise PolicyError(self.source, f"{entry}.{key}", "is required")
            return None
        value = table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise PolicyError(self.source, f"{entry}.{key}", f"has the wrong type: {value!r}")
        return value

    def text(self, table: Mapping[str, Any], key: str, entry: str) -> str:
        value: str = self.value(table, key, str, entry)
        if not value.strip():
            raise PolicyError(self.source, f"{entry}.{key}", "must not be empty")
        return value

    def keys(self, table: Mapping[str, Any], known: set[str], entry: str) -> None:
        for key in table:
            if key not in known:
                raise PolicyError(
                    self.source, f"{entry}.{key}", f"is not known (known: {', '.join(sorted(known))})"
                )

    def level(
        self, table: Mapping[str, Any], key: str, entry: str, allowed: Sequence[TriageLevel]
    ) -> TriageLevel:
        value = self.value(table, key, str, entry)
        if value not in allowed:
            names = ", ".join(allowed) or "none"
            raise PolicyError(self.source, f"{entry}.{key}", f"must be one of {names}; got {value!r}")
        return TriageLevel(value)

    def facts(self, table: Mapping[str, Any], entry: str) -> tuple[int, ...]:
        facts = tuple(self.value(table, "facts", list, entry, required=False) or ())
        if not all(type(fact) is int and fact > 0 for fact in facts):
            raise PolicyError(self.source, entry, f"facts must be fact numbers, got {list(facts)!r}")
        return facts

    def words(self, table: Mapping[str, Any], key: str, entry: str, required: bool) -> list[str]:
        values = self.value(table, key, list, entry, required=required) or []
        words = [_fold(v) if isinstance(v, str) else "" for v in values]
        if any(not _WORD.fullmatch(w) for w in words):
            raise PolicyError(self.source, f"{entry}.{key}", "must be a list of single words")
        return words

    def phrases(self, table: Mapping[str, Any], lang: str, entry: str, stems: bool = True) -> list[Phrase]:
        values = self.value(table, lang, list, entry)
        if not values:
            raise PolicyError(self.source, f"{entry}.{lang}", "must list at least one phrase")
        phrases = []
        for value in values:
            text = value.strip() if isinstance(value, str) else ""
            whole = text.startswith("=")
            tokens = tuple(_fold(t) for t in text.lstrip("=").split())
            for token in tokens:
                base = token[:-1] if stems and token.endswith("*") else token
                if not _WORD.fullmatch(base) or (base != token and len(base) < 3):
                    raise PolicyError(
                        self.source, f"{entry}.{lang}", f"bad phrase {value!r} (word {token!r})"
                    )
            if not tokens:
                raise PolicyError(self.source, f"{entry}.{lang}", f"bad phrase {value!r}")
            phrases.append(Phrase(tokens, whole))
        return phrases
