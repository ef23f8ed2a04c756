"""The education library's content: sourced on [V] facts, both languages, every region, texts that fit."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import care
from care.library import Library, LibraryError, TextKind, load_library, parse_library, region_for_timezone

FACTS_FILE = Path(__file__).resolve().parents[3] / "shared" / "clinical-facts.md"
CARE_DIR = Path(care.__file__).parent
REQUIRED_TOPICS = {
    "what_is_ocrevus", "how_it_works", "who_is_it_for", "iv_schedule", "injection_schedule", "dose_day",
    "reactions", "when_to_call", "infections", "herpes", "hepatitis_b", "pml", "low_antibodies", "vaccines",
    "pregnancy", "breastfeeding", "breast_cancer", "colitis", "liver", "missed_dose", "trials", "ms_types",
    "learn_more",
}  # fmt: skip
REGIONAL_TOPICS = ("pregnancy", "breastfeeding", "who_is_it_for")
# Words that name a symptom: a text with any of them must end with what to do.
SYMPTOM_WORDS = re.compile(
    r"\b(fever|rash|itch|hives|flush|headache|dizz|nausea|diarrh|cough|chills|swell|swollen|wheez|faint|"
    r"heartbeat|confusion|stiff neck|vision|sores|symptom|fiebre|sarpullido|picor|ronchas|dolor|mareo|"
    r"náuseas|diarrea|tos\b|escalofríos|hinchaz|hinchad|pitidos|desmay|latidos|confusión|rigidez|vista|"
    r"llagas|síntoma|ahogo)",
    re.IGNORECASE,
)
ACTIONS = {
    "en": ("call emergency services", "call your clinic", "tell your clinic", "tell your care team"),
    "es": ("llama a emergencias", "llama a tu clínica", "díselo a tu clínica", "díselo a tu equipo"),
}
# [U] facts that must never reach a patient (facts 7, 26, 44's CD19, 47's table, 62, 63's signs) and things
# the service never says (individual dosing).
FORBIDDEN = re.compile(
    r"\d\s*mg\b|mL/h|jaundice|yellow|dark urine|ictericia|amarill|orina oscura|clums|one side of the body|"
    r"personality|personalidad|torpeza|CD19|49\s*%|6 of 781|twelve months|12 months|12 meses",
    re.IGNORECASE,
)
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def _facts() -> dict[int, tuple[str, str]]:
    """Returns fact number -> ("V" or "U", its line) from clinical-facts.md."""
    if not FACTS_FILE.exists():
        pytest.skip(f"{FACTS_FILE} not found")
    text = FACTS_FILE.read_text(encoding="utf-8").split("## Claims checked")[0]
    facts = {}
    for line in text.splitlines():
        match = re.match(r"^(\d+)\. ", line)
        if match:
            marks = re.findall(r"\[([VU])([^\]]*)\]", line)
            facts[int(match[1])] = ("V" if ("V", "") in marks else "U", line)
    return facts


def _source_keys() -> set[str]:
    if not FACTS_FILE.exists():
        pytest.skip(f"{FACTS_FILE} not found")
    return set(re.findall(r"^- \*\*(S\d+)\*\*", FACTS_FILE.read_text(encoding="utf-8"), re.MULTILINE))


def _sms_segments(text: str) -> int:
    """Counts segments independently of care.sms_segments: 160/153 septets, or 70/67 UTF-16 units."""
    if set(text) <= GSM7 | GSM7_EXTENSION:
        length, single, part = len(text) + sum(c in GSM7_EXTENSION for c in text), 160, 153
    else:
        length, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else -(-length // part)


def _every_text(library: Library) -> list[tuple[str, str, str, TextKind, str]]:
    return [
        (topic.id, "/".join(sorted(answer.regions)), lang, kind, answer.text(lang, kind))
        for topic in library.topics
        for answer in topic.answers
        for lang in library.languages
        for kind in TextKind
    ]


def test_the_library_has_every_topic_the_issue_asks_for(library: Library) -> None:
    ids = [topic.id for topic in library.topics]
    assert len(ids) >= 20 and len(set(ids)) == len(ids)
    assert REQUIRED_TOPICS <= set(ids), sorted(REQUIRED_TOPICS - set(ids))


def test_every_clinical_answer_rests_on_verified_facts_that_exist(library: Library) -> None:
    facts = _facts()
    for topic in library.topics:
        for answer in topic.answers:
            where = f"{topic.id}/{'/'.join(sorted(answer.regions))}"
            if not answer.clinical:
                assert not answer.facts, where
                continue
            assert answer.facts and answer.sources, where
            assert {n: facts.get(n, ("missing",))[0] for n in answer.facts} == dict.fromkeys(
                answer.facts, "V"
            )


def test_every_cited_source_is_a_source_key_of_the_facts_cited(library: Library) -> None:
    facts, keys = _facts(), _source_keys()
    assert set(library.sources) <= keys
    for topic in library.topics:
        for answer in topic.answers:
            cited = set(re.findall(r"\bS\d+\b", " ".join(facts[n][1] for n in answer.facts)))
            assert set(answer.sources) <= cited, (topic.id, sorted(set(answer.sources) - cited))


@pytest.mark.parametrize("kind", list(TextKind))
def test_texts_fit_their_channel(library: Library, kind: TextKind) -> None:
    for topic_id, regions, lang, text_kind, text in _every_text(library):
        if text_kind is not kind:
            continue
        where = (topic_id, regions, lang)
        assert text.strip() == text and text, where
        if kind is TextKind.TELEGRAM:
            assert len(text) <= 700, (where, len(text))
        else:
            assert _sms_segments(text) <= 2, (where, _sms_segments(text))
            if lang == "en":
                assert set(text) <= GSM7, (where, set(text) - GSM7)


def test_both_languages_have_a_title_and_keywords(library: Library) -> None:
    for topic in library.topics:
        assert set(topic.title) == set(topic.keywords) == {"en", "es"}, topic.id
        assert all(topic.title.values()) and all(topic.keywords.values()), topic.id
        assert topic.title["en"] != topic.title["es"] or topic.id == "breastfeeding", topic.id


def test_texts_that_name_symptoms_end_with_what_to_do(library: Library) -> None:
    for topic_id, regions, lang, kind, text in _every_text(library):
        if not SYMPTOM_WORDS.search(text):
            continue
        last = re.split(r"(?<=[.!?])\s+", text)[-1].casefold()
        assert any(action in last for action in ACTIONS[lang]), (topic_id, regions, lang, kind, last)


def test_no_text_states_an_unverified_fact_or_a_dose(library: Library) -> None:
    for topic_id, regions, lang, kind, text in _every_text(library):
        found = FORBIDDEN.search(text)
        assert found is None, (topic_id, regions, lang, kind, found and found[0])


EMERGENCY_SIGNS = {
    "en": ("swell|swollen", "breath", "chest pain", "faint", "heartbeat"),
    "es": ("hinch", "respir|ahogo", "pecho", "desmay", "latidos"),
}


def test_every_call_to_emergency_services_names_all_five_signs_of_the_policy(library: Library) -> None:
    """A shortened list could send a racing heart to the clinic instead of emergency services."""
    calls = {"en": "emergency services", "es": "emergencias"}
    for topic_id, regions, lang, kind, text in _every_text(library):
        if calls[lang] in text.casefold():
            missing = [sign for sign in EMERGENCY_SIGNS[lang] if not re.search(sign, text, re.IGNORECASE)]
            assert not missing, (topic_id, regions, lang, kind, missing)


def test_reaction_signs_are_the_labels_list_without_chills(library: Library) -> None:
    """Claim (e) of clinical-facts.md: chills is an infection sign, not in the US infusion-reaction list."""
    for answer in library.topic("reactions").answers:
        for lang in library.languages:
            for kind in TextKind:
                assert not re.search(r"chills|escalofr", answer.text(lang, kind), re.IGNORECASE)


def test_emergency_signs_send_to_emergency_services_first(library: Library) -> None:
    for topic_id in ("reactions", "when_to_call"):
        answer = library.topic(topic_id).answer("us")
        assert "call emergency services now" in answer.text("en", TextKind.TELEGRAM).casefold()
        assert "llama a emergencias" in answer.text("es", TextKind.TELEGRAM).casefold()


@pytest.mark.parametrize(
    ("region", "english", "spanish"),
    [("us", "6 months", "6 meses"), ("eu", "4 months", "4 meses"), ("uk", "4 months", "4 meses")],
    ids=["us_6_months", "eu_4_months", "uk_4_months"],
)
def test_contraception_after_the_last_dose_follows_the_region(
    library: Library, region: str, english: str, spanish: str
) -> None:
    answer = library.topic("pregnancy").answer(region)
    for kind in TextKind:
        assert english in answer.text("en", kind) and spanish in answer.text("es", kind)
    other = "4 months" if english == "6 months" else "6 months"
    assert other not in answer.text("en", TextKind.TELEGRAM)


@pytest.mark.parametrize("topic_id", REGIONAL_TOPICS)
def test_regional_topics_differ_between_the_us_and_europe_and_name_their_region(
    library: Library, topic_id: str
) -> None:
    topic = library.topic(topic_id)
    us, eu, uk = (topic.answer(region) for region in ("us", "eu", "uk"))
    assert topic.regional and us is not eu and eu.text("en") == uk.text("en")
    assert "In the US" in us.text("en") or "US database" in us.text("en")
    assert "In the UK and the EU" in eu.text("en")
    assert "EE. UU." in us.text("es") and "Reino Unido" in eu.text("es")


def test_every_region_has_an_answer_for_every_topic(library: Library) -> None:
    for topic in library.topics:
        assert [topic.answer(region).regions >= {region} for region in library.regions] == [True] * 3


def test_related_topics_exist_and_reviews_are_dated(library: Library) -> None:
    ids = {topic.id for topic in library.topics}
    today = datetime.now(UTC).date()
    for topic in library.topics:
        assert set(topic.related) <= ids - {topic.id}, topic.id
        assert isinstance(topic.reviewed_on, date) and date(2026, 1, 1) <= topic.reviewed_on <= today


def test_titles_fit_a_button(library: Library) -> None:
    for topic in library.topics:
        assert all(3 <= len(title) <= 40 for title in topic.title.values()), topic.id


@pytest.mark.parametrize(
    ("zone", "region"),
    [
        ("America/New_York", "us"),
        ("America/Mexico_City", "us"),
        ("Pacific/Honolulu", "us"),
        ("Europe/London", "uk"),
        ("Europe/Madrid", "eu"),
        ("Atlantic/Canary", "eu"),
        ("Asia/Tokyo", "us"),
        ("UTC", "us"),
    ],
    ids=[
        "new_york",
        "mexico_city",
        "honolulu",
        "london",
        "madrid",
        "canaries",
        "tokyo_default",
        "utc_default",
    ],
)
def test_the_region_comes_from_the_time_zone(zone: str, region: str) -> None:
    assert region_for_timezone(zone, "us") == region


# ---------------------------------------------------------------------------------------------- validation
def _files() -> tuple[str, list[tuple[str, str]]]:
    index = (CARE_DIR / "library.toml").read_text(encoding="utf-8")
    topics = sorted((CARE_DIR / "library_topics").glob("*.toml"))
    return index, [(f"library_topics/{path.name}", path.read_text(encoding="utf-8")) for path in topics]


def _with(name: str, old: str, new: str) -> tuple[str, list[tuple[str, str]]]:
    index, topics = _files()
    if name == "library.toml":
        assert old in index
        return index.replace(old, new, 1), topics
    changed = []
    for file_name, text in topics:
        if file_name.endswith(f"/{name}"):
            assert old in text, (name, old)
            text = text.replace(old, new, 1)
        changed.append((file_name, text))
    return index, changed


BROKEN = [
    ("long_telegram", "colitis.toml", 'en.telegram = """\n', 'en.telegram = """\n' + "x" * 700, "most 700"),
    ("three_sms_segments", "colitis.toml", 'es.sms = """\\\n', 'es.sms = """\\\n' + "ñá" * 40, "3 SMS segm"),
    ("english_sms_not_gsm7", "colitis.toml", 'en.sms = """\\\n', 'en.sms = """\\\n“', r"GSM-7"),
    ("unknown_source", "colitis.toml", 'sources = ["S16"]', 'sources = ["S99"]', r"unknown source keys"),
    ("no_facts", "colitis.toml", "facts = [38, 61]", "facts = []", r"needs facts and sources"),
    ("missing_language", "colitis.toml", 'es = "Colitis (inflamación del intestino)"', "", r"title\.es"),
    ("region_missing", "pregnancy.toml", 'regions = ["eu", "uk"]', 'regions = ["eu"]', r"must cover"),
    ("unknown_region", "pregnancy.toml", 'regions = ["us"]', 'regions = ["us", "mars"]', r"unknown regions"),
    ("unknown_related", "colitis.toml", 'related = ["when_to_call"', 'related = ["nope"', r"unknown topics"),
    ("id_not_file_name", "colitis.toml", 'id = "colitis"', 'id = "colitis_two"', r"file named"),
    ("order_incomplete", "library.toml", '"colitis", ', "", r"order.*missing \['colitis'\]"),
    ("bad_date", "colitis.toml", "reviewed_on = 2026-11-26", 'reviewed_on = "soon"', r"reviewed_on"),
    ("unknown_field", "colitis.toml", "names_symptoms = true", "names_symptom = true", r"unknown fields"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "old", "new", "message"), [row[1:] for row in BROKEN], ids=[r[0] for r in BROKEN]
)
def test_a_broken_library_is_refused_naming_the_file_and_entry(
    name: str, old: str, new: str, message: str
) -> None:
    index, topics = _with(name, old, new)
    with pytest.raises(LibraryError, match=message) as caught:
        parse_library(index, topics)
    assert name in str(caught.value) or "library.toml" in str(caught.value)


def test_a_missing_library_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="cannot be read"):
        load_library(tmp_path / "nowhere.toml")


def test_a_library_can_be_loaded_from_a_folder(tmp_path: Path) -> None:
    index, topics = _files()
    (tmp_path / "library_topics").mkdir()
    (tmp_path / "library.toml").write_text(index, encoding="utf-8")
    for name, text in topics:
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert [t.id for t in load_library(tmp_path).topics] == [t.id for t in load_library().topics]
