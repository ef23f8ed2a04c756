"""Matching questions to the education library: top-1 accuracy on realistic questions, and "don't know"."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from care.library import Library, load_library, match

QUESTIONS_FILE = Path(__file__).with_name("library_questions.toml")
QUESTIONS: list[list[str]] = tomllib.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))["questions"]
MIN_ACCURACY = 0.90


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_the_question_set_is_big_and_covers_every_topic_in_both_languages(library: Library) -> None:
    assert len(QUESTIONS) >= 120
    assert {lang for lang, _, _ in QUESTIONS} == {"en", "es"}
    expected = {topic for _, _, topic in QUESTIONS}
    assert expected - {""} == {topic.id for topic in library.topics}
    assert sum(1 for _, _, topic in QUESTIONS if not topic) >= 10  # questions it must not answer


def test_top_1_accuracy_is_at_least_90_percent(library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    misses = []
    for lang, question, expected in QUESTIONS:
        found = library.match(question, lang, "us")
        got = found.topic.id if found else ""
        if got != expected:
            misses.append(f"{question!r}: expected {expected or 'no answer'}, got {got or 'no answer'}")
    accuracy = 1 - len(misses) / len(QUESTIONS)
    line = (
        f"education library top-1 accuracy: {len(QUESTIONS) - len(misses)}/{len(QUESTIONS)} ({accuracy:.1%})"
    )
    with capsys.disabled():
        print(f"\n{line}")  # noqa: T201
    assert accuracy >= MIN_ACCURACY, "\n".join([line, *misses])


@pytest.mark.parametrize(
    "question",
    ["What's the weather like today?", "tell me a joke", "can I drink alcohol", "how much does ocrevus cost",
     "¿Qué tiempo hace hoy?", "receta de paella", "zzzz qqqq", "1234"],
)  # fmt: skip
def test_a_question_outside_the_library_gets_no_answer_never_a_guess(library: Library, question: str) -> None:
    assert library.match(question, "en", "us") is None


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("vacinne before strting", "vaccines"),
        ("PREGNANT???", "pregnancy"),
        ("can i breasfeed", "breastfeeding"),
        ("embarazadaaa", "pregnancy"),
        ("¿puedo vacunarme?", "vaccines"),
        ("puedo vacunarme", "vaccines"),
        ("diarreaaa", "colitis"),
        ("hepatitis be", "hepatitis_b"),
        ("leukoencefalopathy", "pml"),
    ],
    ids=["typos", "caps_and_marks", "missing_letter", "repeated_letters", "spanish_marks", "no_accents",
         "repeated_spanish", "spelled_letter", "two_typos_in_a_long_word"],
)  # fmt: skip
def test_typos_accents_and_casual_wording_still_match(library: Library, question: str, topic: str) -> None:
    found = library.match(question, "en", "us")
    assert found is not None and found.topic.id == topic, (question, found and found.topic.id)


def test_the_answer_follows_the_region_and_the_language(library: Library) -> None:
    us = library.match("can I get pregnant on ocrevus", "en", "us")
    uk = library.match("¿puedo quedarme embarazada?", "es", "uk")
    assert us is not None and uk is not None
    assert "6 months" in us.answer.text("en") and "4 meses" in uk.answer.text("es", "sms")


def test_related_topics_are_other_topics_at_most_three(library: Library) -> None:
    for lang, question, _ in QUESTIONS:
        found = library.match(question, lang, "eu")
        if found is not None:
            assert found.topic not in found.related and len(found.related) <= 3, question
    found = library.match("can I breastfeed", "en", "us")
    assert found is not None and found.related[0].id == "pregnancy"


def test_small_talk_is_told_apart_from_questions(library: Library) -> None:
    assert (
        library.is_small_talk("hi!") and library.is_small_talk("ok thanks") and library.is_small_talk("hola")
    )
    assert not library.is_small_talk("what's the weather") and not library.is_small_talk("vaccines?")


def test_the_module_function_uses_the_shipped_library() -> None:
    found = match("what is PML", "en", "uk")
    assert found is not None and found.topic.id == "pml"


@pytest.mark.parametrize(("language", "region"), [("fr", "us"), ("en", "mars")])
def test_an_unknown_language_or_region_is_refused(library: Library, language: str, region: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        library.match("vaccines", language, region)
