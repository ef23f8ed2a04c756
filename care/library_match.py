"""Matching a patient's question to the education library's topics, by their keywords, forgiving typos.

Owns folding text (case, accents, apostrophes, letters typed three times or more), the keyword index and its
scores. A keyword is a phrase; `word*` matches any word starting with `word`. A phrase matches when its
words are all in the question, in any order, close together; the stopwords it names ("how" of "how long")
must be there too but weigh nothing. A word of 6 letters or more (a stem of 6 or more) also matches with one
letter missed, added, changed, or two swapped, and one of 9 letters or more with two, unless the typed word
is a known word itself. Words found in fewer topics weigh more (inverse document frequency); weak words (the
medicine's name, "risk") weigh little. The caller decides what is confident enough: see `care.library`.
Must not import anything outside the standard library.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from care.edit_distance import deletes, osa

__all__ = ["Index", "Score", "fold", "words"]

WEAK_WEIGHT = 0.5  # "ocrevus", "risk": they say what the question is about, not which topic
UNKNOWN_WEIGHT = 1.0  # a content word no topic knows, against the share of the question understood
PHRASE_BONUS = 0.5  # for each content word past the first of the longest phrase matched whole
STOP_PHRASE_WEIGHT = 1.0  # a phrase of stopwords only ("what does it do"), found word for word
STOP_WORD_BONUS = 0.1  # for each stopword a phrase needs: "how long" beats "long" on a tie
MAX_GAP = 3  # other words allowed among the words of one phrase
TYPO_MIN_LETTERS = 6  # shorter words match only exactly (or by a stem)
_WORD = re.compile(r"[^\W_]+")
_RUN = re.compile(r"(.)\1{2,}")
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´ʼ"), None)
_CACHE_WORDS = 5000


def fold(text: str) -> str:
    """Returns text without accents or apostrophes, case-folded, with letter runs of 3+ squashed to 1."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).replace("&", " and "))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return _RUN.sub(r"\1", plain)


def words(text: str) -> list[str]:
    """Returns the folded words of a text."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class Score:
    """How well one topic matches a question.

    score: the weight of the question's words its keywords cover, plus the bonus of its best phrase.
    coverage: the score over itself plus the weight of words no topic knows (0 to 1).
    longest: the most words of one keyword phrase matched.
    """

    topic_id: str
    score: float
    coverage: float
    longest: int


@dataclass(frozen=True)
class _Phrase:
    tokens: tuple[str, ...]  # content words: "word" or "stem*"
    stops: tuple[str, ...]  # stopwords the phrase also needs, exactly ("how" of "how long")

    @property
    def size(self) -> int:
        return len(self.tokens) + len(self.stops)


class Index:
    """The keywords of every topic, with word weights and an index of one-deletion variants for typos.

    keywords: topic id -> phrases (in any language). stopwords: words that carry no meaning here; a phrase
    may still need them ("how long"). weak: words that weigh WEAK_WEIGHT whatever their frequency, and never
    count as unknown. not_typos: real words never read as a typo of a keyword ("beber" is not "bebes").
    """

    def __init__(
        self,
        keywords: Mapping[str, Iterable[str]],
        stopwords: Iterable[str],
        weak: Iterable[str],
        not_typos: Iterable[str] = (),
    ) -> None:
        self.stopwords = frozenset(fold(word) for word in stopwords)
        self.weak = frozenset(fold(word) for word in weak)
        self.phrases: dict[str, tuple[_Phrase, ...]] = {}
        for topic_id, phrases in keywords.items():
            parsed = {self._parse(phrase) for phrase in phrases}
            self.phrases[topic_id] = tuple(sorted(parsed, key=lambda p: (p.tokens, p.stops)))
        frequency: dict[str, int] = {}
        for phrases in self.phrases.values():
            for token in {token for phrase in phrases for token in phrase.tokens}:
                frequency[token] = frequency.get(token, 0) + 1
        topics = max(len(self.phrases), 1)
        self.weights = {
            token: WEAK_WEIGHT if token.rstrip("*") in self.weak else math.log(1 + topics / count)
            for token, count in frequency.items()
        }
        self.exact = frozenset(token for token in frequency if not token.endswith("*"))
        self.stems = frozenset(token[:-1] for token in frequency if token.endswith("*"))
        self.known = self.exact | self.stopwords | self.weak | {fold(word) for word in not_typos}
        self._typo_index: dict[str, set[str]] = {}
        for token in frequency:
            base = token.rstrip("*")
            if len(base) >= TYPO_MIN_LETTERS:
                for key in deletes(base):
                    self._typo_index.setdefault(key, set()).add(token)
        self._long = tuple(token for token in frequency if len(token.rstrip("*")) >= 8)
        self._stem_lengths = sorted({len(stem) for stem in self.stems if len(stem) >= TYPO_MIN_LETTERS})
        self._cache: dict[str, frozenset[str]] = {}

    def _parse(self, phrase: str) -> _Phrase:
        tokens, stops = [], []
        for raw in phrase.split():
            parts = words(raw)  # "a&e" is "a", "and", "e", as a question is read
            for index, part in enumerate(parts):
                if raw.endswith("*") and index == len(parts) - 1:
                    tokens.append(f"{part}*")
                elif part in self.stopwords:
                    stops.append(part)
                else:
                    tokens.append(part)
        return _Phrase(tuple(tokens), tuple(stops))

    def content_words(self, question: str) -> list[str]:
        """Returns the words of a question that are not stopwords."""
        return [word for word in words(question) if word not in self.stopwords]

    def scores(self, question: str) -> list[Score]:
        """Returns every topic that matches the question at all, best first (ties keep the index order)."""
        every = words(question)
        found = [frozenset() if w in self.stopwords else self.matches(w) for w in every]
        present = frozenset().union(*found) | frozenset(every)
        unknown = UNKNOWN_WEIGHT * sum(
            1
            for w, hits in zip(every, found, strict=True)
            if not hits and not w.isdigit() and w not in self.stopwords | self.weak
        )
        results = []
        for topic_id, phrases in self.phrases.items():
            covered: dict[int, float] = {}
            bonus, longest = 0.0, 0
            for phrase in phrases:
                if not (set(phrase.tokens) | set(phrase.stops)) <= present:
                    continue
                positions = _place(phrase, every, found)
                if positions is None:
                    continue
                extra = STOP_PHRASE_WEIGHT if not phrase.tokens else PHRASE_BONUS * (len(phrase.tokens) - 1)
                bonus = max(bonus, extra + STOP_WORD_BONUS * len(phrase.stops))
                longest = max(longest, len(phrase.tokens))
                for position, token in zip(positions, phrase.tokens, strict=False):
                    covered[position] = max(covered.get(position, 0.0), self.weights[token])
            if covered or bonus:
                weight = sum(covered.values())
                score = weight + bonus
                results.append(Score(topic_id, score, score / (score + unknown), longest))
        order = {topic_id: index for index, topic_id in enumerate(self.phrases)}
        return sorted(results, key=lambda s: (-round(s.score, 6), -s.longest, order[s.topic_id]))

    def matches(self, word: str) -> frozenset[str]:
        """Returns the keyword tokens ("word" or "stem*") a typed word stands for."""
        if word not in self._cache:
            if len(self._cache) >= _CACHE_WORDS:
                self._cache.clear()  # bounded: patients' words are not kept
            self._cache[word] = frozenset(self._match(word))
        return self._cache[word]

    def _match(self, word: str) -> set[str]:
        out = ({word} & self.exact) | {f"{stem}*" for stem in self.stems if word.startswith(stem)}
        if word in self.known or len(word) < TYPO_MIN_LETTERS or word.isdigit():
            return out
        cuts = {cut for size in self._stem_lengths for cut in (size - 1, size, size + 1) if len(word) >= cut}
        for typed in {word} | {word[:cut] for cut in cuts}:
            for key in deletes(typed):
                for token in self._typo_index.get(key, ()):
                    stem = token.endswith("*")
                    if (stem or typed == word) and osa(typed, token.rstrip("*")) <= 1:
                        out.add(token)
        if not out and len(word) >= 9:
            out |= {token for token in self._long if _near(word, token, 2)}
        return out


def _place(phrase: _Phrase, every: Sequence[str], found: Sequence[frozenset[str]]) -> list[int] | None:
    """Returns the positions of a phrase's content words, all within a window of the question, or None.

    A phrase of stopwords only must appear word for word; otherwise its words may come in any order, with
    at most MAX_GAP other words among them.
    """
    if not phrase.tokens:
        size = len(phrase.stops)
        hit = any(tuple(every[i : i + size]) == phrase.stops for i in range(len(every) - size + 1))
        return [] if hit else None
    window = phrase.size + MAX_GAP
    for start in range(len(every)):
        span = range(start, min(len(every), start + window))
        used: list[int] = []
        for token in phrase.tokens:
            position = next((i for i in span if token in found[i] and i not in used), None)
            if position is None:
                break
            used.append(position)
        if len(used) == len(phrase.tokens) and all(
            stop in every[span.start : span.stop] for stop in phrase.stops
        ):
            return used
    return None


def _near(word: str, token: str, limit: int) -> bool:
    base = token.rstrip("*")
    if token.endswith("*"):
        return any(osa(word[:cut], base) <= limit for cut in range(len(base) - limit, len(base) + limit + 1))
    return abs(len(word) - len(base)) <= limit and osa(word, base) <= limit
