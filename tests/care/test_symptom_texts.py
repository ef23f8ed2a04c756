"""Every patient-facing text that names symptoms says what to do about them: each text of a topic flagged
`names_symptoms` ends with the action (whatever words it uses), the flag is truthful, a weekly tip keeps the
action last before its "how to stop" line, and each sentence of the outbound messages that names symptoms
carries its action, or is followed by it at once (emergency services, or the clinic)."""

from __future__ import annotations

import re

import pytest

from bot.outbound import default_texts
from care.library import Library, TextKind, default_library
from care.tips import TIP_TOPICS, tip_text
from tests.care.test_library import ACTIONS, SYMPTOM_WORDS

# The outbound messages speak formally in Spanish ("usted"), and the SMS emergency line may name the number.
FORMAL_ACTIONS = {
    "en": (*ACTIONS["en"], "call {number}"),
    "es": (*ACTIONS["es"], "llame a su clínica", "llame ahora a emergencias", "llame ya a emergencias",
           "llame ahora a emergencias al {number}", "llame ya al {number}"),
}  # fmt: skip
REGION_ZONES = ("America/New_York", "Europe/Madrid", "Europe/London")  # us, eu, uk


@pytest.fixture(scope="module")
def library() -> Library:
    return default_library()


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def _acts(sentence: str, lang: str, actions: dict[str, tuple[str, ...]] = ACTIONS) -> bool:
    folded = sentence.casefold()
    return any(action in folded for action in actions[lang])


def test_every_text_of_a_topic_naming_symptoms_ends_with_what_to_do(library: Library) -> None:
    flagged = [topic for topic in library.topics if topic.names_symptoms]
    assert {"reactions", "when_to_call", "infections", "herpes", "pml", "colitis"} <= {t.id for t in flagged}
    for topic in flagged:
        for answer in topic.answers:
            for lang in library.languages:
                for kind in TextKind:
                    last = _sentences(answer.text(lang, kind))[-1]
                    assert _acts(last, lang), (topic.id, sorted(answer.regions), lang, kind, last)


def test_a_topic_flagged_as_naming_symptoms_does_name_them_in_both_languages(library: Library) -> None:
    for topic in library.topics:
        if topic.names_symptoms:
            for answer in topic.answers:
                for lang in library.languages:
                    assert SYMPTOM_WORDS.search(answer.text(lang, TextKind.TELEGRAM)), (topic.id, lang)


@pytest.mark.parametrize("zone", REGION_ZONES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_a_tip_naming_symptoms_keeps_the_action_last_before_how_to_stop(
    library: Library, language: str, zone: str
) -> None:
    for topic_id in TIP_TOPICS:
        for sms in (False, True):
            text = tip_text(library, topic_id, language, zone, sms=sms)
            if not SYMPTOM_WORDS.search(text):
                continue
            sentences = _sentences(text)
            assert _acts(sentences[-2], language), (topic_id, sms, sentences[-2])  # [-1] says how to stop


def test_each_outbound_sentence_naming_symptoms_says_what_to_do_there_or_next() -> None:
    """A sentence listing signs is followed at once by what to do ("...or fainting? Call 112 now.")."""
    texts = default_texts()
    found = [
        (f"{name}.{variant}", lang[-2:], text)
        for name, variants in texts.phrases.items()
        for variant, by_language in variants.items()
        for lang, text in by_language.items()
    ] + [
        (template.id, key[-2:], text)
        for template in texts.touchpoints.values()
        for key, text in template.texts.items()
    ]
    checked = 0
    for where, lang, text in found:
        sentences = _sentences(text)
        for index, sentence in enumerate(sentences):
            if SYMPTOM_WORDS.search(sentence):
                checked += 1
                here_or_next = sentences[index : index + 2]
                assert any(_acts(part, lang, FORMAL_ACTIONS) for part in here_or_next), (
                    where,
                    lang,
                    sentence,
                )
    assert checked >= 6  # the infection and emergency phrases, in both languages and for SMS
