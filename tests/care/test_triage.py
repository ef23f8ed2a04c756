"""Check-in triage: real answers in both languages reach the right level, and the policy file is checked."""

from __future__ import annotations

import copy
import re
import string
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from care.triage import (
    PolicyError,
    TriageLevel,
    TriagePolicy,
    TriageResult,
    emergency_number,
    load_policy,
    parse_policy,
    policy_from_mapping,
    reply_for,
    triage,
    triage_option,
)

EMERGENCY, NOW, TODAY, FINE = (
    TriageLevel.EMERGENCY,
    TriageLevel.CLINIC_NOW,
    TriageLevel.CLINIC_TODAY,
    TriageLevel.FINE,
)
UNCLEAR = None
DEFAULT = tomllib.loads(resources.files("care").joinpath("triage_policy.toml").read_text("utf-8"))
FACTS_FILE = Path(__file__).resolve().parents[3] / "shared" / "clinical-facts.md"


@pytest.fixture(scope="module")
def policy() -> TriagePolicy:
    return load_policy()


# (answer, hours since the dose, expected level); None is "unclear". Ids say what each row proves.
ANSWERS = [
    # emergency: the policy's five red flags, in both languages, with typos, accents, caps and emoji
    ("😵‍💫 can't breathe!!", 3, EMERGENCY, "en_emoji_cant_breathe"),
    ("My lips are swollen", 3, EMERGENCY, "en_lips_swollen"),
    ("my face is swelling up", 3, EMERGENCY, "en_face_swelling_up"),
    ("tongue feels swolen", 3, EMERGENCY, "en_typo_swolen_tongue"),
    ("throat feels tight", 3, EMERGENCY, "en_throat_tight"),
    ("CHEST PAIN", 3, EMERGENCY, "en_caps_chest_pain"),
    ("i have a pain in my chest", 3, EMERGENCY, "en_pain_in_my_chest"),
    ("wheezing since lunch", 3, EMERGENCY, "en_wheezing"),
    ("very short of breath", 3, EMERGENCY, "en_short_of_breath"),
    ("brething is hard", 3, EMERGENCY, "en_typo_brething_is_hard"),
    ("I fainted in the kitchen", 3, EMERGENCY, "en_fainted"),
    ("I think I passed out for a moment", 3, EMERGENCY, "en_passed_out"),
    ("my heart is racing", 3, EMERGENCY, "en_heart_racing"),
    ("heartbeat feels irregular", 3, EMERGENCY, "en_irregular_heartbeat"),
    ("Help!", 3, EMERGENCY, "en_help_alone"),
    ("itchy and now I cant breathe", 3, EMERGENCY, "en_itch_and_breathing_most_severe_wins"),
    ("no chest pain", 3, EMERGENCY, "en_negated_chest_pain_still_flags"),
    ("fever and chest pain", 200, EMERGENCY, "en_chest_pain_any_time"),
    ("no puedo respirar", 3, EMERGENCY, "es_no_puedo_respirar"),
    ("me falta el aire", 3, EMERGENCY, "es_me_falta_el_aire"),
    ("se me hinchó la garganta", 3, EMERGENCY, "es_se_me_hincho_la_garganta"),
    ("gargánta hinchada", 3, EMERGENCY, "es_stray_accent_garganta"),
    ("GARGANTA HINCHADA!!!", 3, EMERGENCY, "es_caps_garganta"),
    ("labios inchados", 3, EMERGENCY, "es_typo_inchados"),
    ("dolor de pecho", 3, EMERGENCY, "es_dolor_de_pecho"),
    ("me desmayé", 3, EMERGENCY, "es_me_desmaye"),
    ("el corazón me late muy rápido", 3, EMERGENCY, "es_corazon_late_rapido"),
    ("palpitaciones", 3, EMERGENCY, "es_palpitaciones"),
    ("ayuda por favor", 3, EMERGENCY, "es_ayuda_por_favor"),
    ("🆘", 3, EMERGENCY, "emoji_sos"),
    # clinic now: other reaction signs within a day of the dose (facts 56-57)
    ("a bit itchy", 3, NOW, "en_itchy"),
    ("I have a rash on my arms", 3, NOW, "en_rash"),
    ("hives", 3, NOW, "en_hives"),
    ("Headache 🤕", 3, NOW, "en_headache_emoji"),
    ("headahce", 3, NOW, "en_typo_swapped_headahce"),
    ("diziness", 3, NOW, "en_typo_diziness"),
    ("feeling dizzy", 3, NOW, "en_dizzy"),
    ("🤢", 3, NOW, "emoji_nauseated"),
    ("so tired", 3, NOW, "en_tired"),
    ("my face is red and hot", 3, NOW, "en_flushing"),
    ("fever 38.2", 3, NOW, "en_fever_in_window"),
    ("sore throat", 3, NOW, "en_sore_throat"),
    ("fine but a little itchy", 3, NOW, "en_fine_but_itchy"),
    ("headache", None, NOW, "en_headache_unknown_dose_time_is_safe_side"),
    ("me pica la piel", 3, NOW, "es_me_pica"),
    ("tengo ronchas", 3, NOW, "es_ronchas"),
    ("dolor de cabeza", 3, NOW, "es_dolor_de_cabeza"),
    ("estoy mareada", 3, NOW, "es_mareada"),
    ("náuseas", 3, NOW, "es_nauseas"),
    ("muy cansada", 3, NOW, "es_cansada"),
    ("tengo fiebre", 3, NOW, "es_fiebre_in_window"),
    ("garganta irritada", 3, NOW, "es_garganta_irritada"),
    ("me siento mal", 3, NOW, "es_me_siento_mal"),
    # clinic today: infection, herpes, PML-like changes, colitis, liver; and reaction signs after a day
    ("fever", 72, TODAY, "en_fever_after_window"),
    ("itchy rash", 30, TODAY, "en_rash_after_window"),
    ("tos", 100, TODAY, "es_tos_after_window"),
    ("chills and a cough that won't go away", 48, TODAY, "en_chills_cough_after_window"),
    ("I have cold sores", 72, TODAY, "en_cold_sores"),
    ("shingles on my back", 3, TODAY, "en_shingles"),
    ("blurry vision since yesterday", 3, TODAY, "en_blurry_vision"),
    ("stiff neck", 3, TODAY, "en_stiff_neck"),
    ("I feel confused", 3, TODAY, "en_confused"),
    ("weakness on one side", 200, TODAY, "en_weak_one_side"),
    ("diarrhea for 3 days", 3, TODAY, "en_diarrhea"),
    ("diarrhoea", 3, TODAY, "en_uk_diarrhoea"),
    ("diarea", 3, TODAY, "en_typo_diarea"),
    ("my skin looks yellow", 3, TODAY, "en_yellow_skin"),
    ("I think I have the flu", 3, TODAY, "en_flu"),
    ("tengo diarrea", 3, TODAY, "es_diarrea"),
    ("herpes en el labio", 3, TODAY, "es_herpes"),
    ("visión borrosa", 3, TODAY, "es_vision_borrosa"),
    ("cuello rígido", 3, TODAY, "es_cuello_rigido"),
    ("estoy confundida", 3, TODAY, "es_confundida"),
    ("ojos amarillos", 3, TODAY, "es_ojos_amarillos"),
    ("orina oscura", 3, TODAY, "es_orina_oscura"),
    ("tengo gripe", 3, TODAY, "es_gripe"),
    # fine: clearly fine and nothing else
    ("ok", 3, FINE, "en_ok"),
    ("Good 👍", 3, FINE, "en_good_thumbs_up"),
    ("👍", 3, FINE, "emoji_thumbs_up"),
    ("👍🏽", 3, FINE, "emoji_thumbs_up_skin_tone"),
    ("I'm fine thanks!", 3, FINE, "en_im_fine_thanks"),
    ("goooood", 3, FINE, "en_stretched_good"),
    ("everything is fine", 3, FINE, "en_everything_is_fine"),
    ("never better", 3, FINE, "en_never_is_not_fever"),
    ("not bad at all", 3, FINE, "en_not_bad"),
    ("todo bien", 3, FINE, "es_todo_bien"),
    ("Bien, gracias", 3, FINE, "es_bien_gracias"),
    ("Estoy muy bien 😊", 3, FINE, "es_muy_bien_emoji"),
    ("nada mal", 3, FINE, "es_nada_mal_is_not_mal"),
    ("I'm doing great, thanks for asking", 3, FINE, "en_doing_great_thanks_for_asking"),
    ("Todo salió bien, gracias", 3, FINE, "es_todo_salio_bien"),
    ("I feel a little tired but fine", 3, NOW, "en_fine_with_a_symptom_is_not_fine"),
    ("well, I feel weird", 3, UNCLEAR, "en_a_fine_word_with_unknown_words_is_unclear"),
    ("bien pero raro", 3, UNCLEAR, "es_bien_pero_is_unclear"),
    # unclear: ask again with the options, never a guess
    ("what time is my next appointment?", 3, UNCLEAR, "en_question"),
    ("hmm", 3, UNCLEAR, "en_hmm"),
    ("", 3, UNCLEAR, "empty"),
    ("🙃", 3, UNCLEAR, "emoji_unknown"),
    ("not sure", 3, UNCLEAR, "en_not_sure"),
    ("thanks for the help", 3, UNCLEAR, "en_thanks_for_the_help_is_not_a_call_for_help"),
    ("I was in my wheelchair all day", 3, UNCLEAR, "en_wheelchair_is_not_wheeze"),
    ("my injection went ok, the nurse was kind", 3, UNCLEAR, "en_injection_is_not_infection"),
    ("I'm cooking dinner", 3, UNCLEAR, "en_cooking_is_not_choking"),
    ("I painted the fence", 3, UNCLEAR, "en_painted_is_not_fainted"),
    ("I tried to sleep early", 3, UNCLEAR, "en_tried_is_not_tired"),
    ("my number changed", 3, UNCLEAR, "en_number_is_not_numb"),
    ("¿cuándo es mi próxima cita?", 3, UNCLEAR, "es_question"),
    ("la inyección fue rápida", 3, UNCLEAR, "es_inyeccion_is_not_infeccion"),
    ("la enfermera fue muy amable", 3, UNCLEAR, "es_enfermera_is_not_enferma"),
    ("estoy casada", 3, UNCLEAR, "es_casada_is_not_cansada"),
    ("me han pinchado dos veces", 3, UNCLEAR, "es_pinchado_is_not_hinchado"),
]


@pytest.mark.parametrize(
    ("answer", "hours", "expected"), [row[:3] for row in ANSWERS], ids=[row[3] for row in ANSWERS]
)
def test_answers_reach_the_expected_level(
    policy: TriagePolicy, answer: str, hours: float | None, expected: TriageLevel | None
) -> None:
    result = triage(answer, policy, hours_since_dose=hours)
    assert result.level == expected, result
    assert result.unclear == (expected is None)
    assert result.flagged == (expected not in (FINE, None))
    assert bool(result.matched) == (expected is not None)


def test_the_table_covers_both_languages_and_every_level() -> None:
    assert len(ANSWERS) >= 60
    assert len({row[3] for row in ANSWERS}) == len(ANSWERS)
    assert {row[2] for row in ANSWERS} == {*TriageLevel, None}
    assert sum(row[3].startswith("es_") for row in ANSWERS) >= 25


def test_the_most_severe_match_wins_and_every_match_is_named(policy: TriagePolicy) -> None:
    result = triage("a rash, some diarrhea, and my throat is closing", policy, hours_since_dose=2)
    assert result.level is EMERGENCY and result.flagged
    assert result.matched[0] == "airway_swelling"
    assert {"rash", "colitis"} <= set(result.matched)
    assert not result.ask_details  # an emergency never waits for details


def test_a_vague_complaint_asks_for_details(policy: TriagePolicy) -> None:
    result = triage("I feel awful", policy, hours_since_dose=5)
    assert (result.level, result.flagged, result.ask_details) == (NOW, True, True)


def test_a_dose_in_the_future_is_outside_the_reaction_window(policy: TriagePolicy) -> None:
    assert triage("fever", policy, hours_since_dose=-12).level is TODAY


@pytest.mark.parametrize(
    ("option", "hours", "level", "ask"),
    [
        ("fine", 3, FINE, False),
        ("help_now", 3, EMERGENCY, False),
        ("help_now", 500, EMERGENCY, False),
        ("mild", 3, NOW, True),
        ("mild", 24, NOW, True),
        ("mild", 30, TODAY, True),
        ("mild", None, NOW, True),
    ],
    ids=["fine", "help_now", "help_now_late", "mild_within_24h", "mild_at_24h", "mild_after_24h",
         "mild_dose_time_unknown"],
)  # fmt: skip
def test_options(
    policy: TriagePolicy, option: str, hours: float | None, level: TriageLevel, ask: bool
) -> None:
    result = triage_option(option, policy, hours_since_dose=hours)
    assert (result.level, result.flagged, result.ask_details, result.unclear) == (
        level,
        level is not FINE,
        ask,
        False,
    )
    assert result.matched == (f"option:{option}",)


def test_an_unknown_option_is_refused(policy: TriagePolicy) -> None:
    with pytest.raises(ValueError, match="unknown check-in option 'maybe'"):
        triage_option("maybe", policy)


# ------------------------------------------------------------------------------------------------ replies
RESULTS = {
    "emergency": TriageResult(EMERGENCY, True, ("breathing",)),
    "clinic_now": TriageResult(NOW, True, ("itch",)),
    "clinic_now_details": TriageResult(NOW, True, ("option:mild",), ask_details=True),
    "clinic_today": TriageResult(TODAY, True, ("colitis",)),
    "fine": TriageResult(FINE, False, ("fine",)),
    "unclear": TriageResult(None, False, (), unclear=True),
}


@pytest.mark.parametrize("language", ["en", "es", "es-MX", "fr"])
@pytest.mark.parametrize("name", list(RESULTS))
def test_every_result_has_a_reply_with_no_placeholder_left(
    policy: TriagePolicy, name: str, language: str
) -> None:
    messages = reply_for(RESULTS[name], language, "112", policy=policy)
    assert messages and all(m.strip() for m in messages)
    assert not any(re.search(r"[{}]", m) for m in messages)
    assert not any(re.search(r"\d+\s*mg\b", m) for m in messages)  # never dosing advice


@pytest.mark.parametrize("language", ["en", "es"])
def test_emergency_guidance_with_the_number_comes_first(policy: TriagePolicy, language: str) -> None:
    result = triage("can't breathe", policy, hours_since_dose=1)
    messages = reply_for(result, language, "999", policy=policy)
    assert "999" in messages[0]
    assert ("emergency" if language == "en" else "emergencias") in messages[0].lower()


def test_replies_are_in_the_patients_language(policy: TriagePolicy) -> None:
    assert "clínica" in reply_for(RESULTS["clinic_today"], "es", "911", policy=policy)[0]
    assert "clinic today" in reply_for(RESULTS["clinic_today"], "en", "911", policy=policy)[0]
    assert "right away" in reply_for(RESULTS["clinic_now"], "en", "911", policy=policy)[0]


def test_clinic_replies_still_give_the_emergency_number_and_vague_ones_ask_for_details(
    policy: TriagePolicy,
) -> None:
    for name in ("clinic_now", "clinic_today"):
        assert any("911" in m for m in reply_for(RESULTS[name], "en", "911", policy=policy))
    with_details = reply_for(RESULTS["clinic_now_details"], "en", "911", policy=policy)
    assert with_details[:-1] == reply_for(RESULTS["clinic_now"], "en", "911", policy=policy)
    assert "own words" in with_details[-1]


def test_a_blank_emergency_number_is_refused(policy: TriagePolicy) -> None:
    with pytest.raises(ValueError, match="emergency_number"):
        reply_for(RESULTS["emergency"], "en", " ", policy=policy)


# --------------------------------------------------------------------------------------- emergency numbers
@pytest.mark.parametrize(
    ("country", "expected"),
    [("US", "911"), ("ca", "911"), ("MX", "911"), ("GB", "999"), ("IE", "112"), ("ES", "112"),
     ("DE", "112"), ("FR", "112"), (" it ", "112"), ("AU", "000"), ("NZ", "111"), ("CO", "123"),
     ("CL", "131"), ("AR", "555"), ("ZZ", "555"), (None, "555"), ("", "555")],
    ids=lambda value: repr(value),
)  # fmt: skip
def test_emergency_numbers_by_country_with_the_default_otherwise(
    policy: TriagePolicy, country: str | None, expected: str
) -> None:
    assert emergency_number(country, "555", policy=policy) == expected


def test_every_eu_member_state_has_112(policy: TriagePolicy) -> None:
    eu = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
    assert {country: policy.emergency_numbers.get(country) for country in eu} == dict.fromkeys(eu, "112")


def test_a_blank_default_number_is_refused(policy: TriagePolicy) -> None:
    with pytest.raises(ValueError, match="default"):
        emergency_number("US", "", policy=policy)


# --------------------------------------------------------------------------------------------- the file
def _facts() -> dict[int, str]:
    """Returns each fact's mark: "V" when it carries a plain [V] (its [U] parts are not used), else "U"."""
    if not FACTS_FILE.exists():
        pytest.skip(f"{FACTS_FILE} not found")
    text = FACTS_FILE.read_text(encoding="utf-8").split("## Claims checked")[0]  # numbered questions follow
    facts = {}
    for line in text.splitlines():
        match = re.match(r"^(\d+)\. ", line)
        if match:
            marks = re.findall(r"\[([VU])([^\]]*)\]", line)
            facts[int(match[1])] = "V" if ("V", "") in marks else "U"
    return facts


def test_rules_rest_on_facts_that_exist_and_replies_only_on_verified_ones() -> None:
    facts = _facts()
    for rule in DEFAULT["rule"]:
        assert set(rule["facts"]) <= set(facts), rule["id"]
    for key, reply in DEFAULT["reply"].items():
        assert {n: facts.get(n) for n in reply["facts"]} == dict.fromkeys(reply["facts"], "V"), key


def test_no_reply_names_a_fact_62_or_63_symptom() -> None:
    """PML signs (fact 62) and liver signs (fact 63) are [U]: matched, never told to patients."""
    told = " ".join(m for reply in DEFAULT["reply"].values() for lang in ("en", "es") for m in reply[lang])
    for word in (
        "clumsy",
        "memory",
        "personality",
        "jaundice",
        "dark urine",
        "torpeza",
        "memoria",
        "ictericia",
    ):
        assert word not in told.lower()


def test_the_default_policy_loads_every_level_and_option(policy: TriagePolicy) -> None:
    assert {rule.level for rule in policy.rules} == {EMERGENCY, NOW, TODAY}
    assert set(policy.options) == {"fine", "mild", "help_now"}


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT)
    change(data)
    return data


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(rule for rule in data["rule"] if rule["id"] == rule_id)


BAD_POLICIES = [
    ("version", lambda d: d.update(version=2), r"version: must be 1"),
    ("unknown_level", lambda d: _rule(d, "breathing").update(level="soon"), r"'breathing'.level: must be"),
    ("rule_at_fine", lambda d: _rule(d, "breathing").update(level="fine"), r"rule 'breathing'.level"),
    ("missing_spanish", lambda d: _rule(d, "breathing").pop("es"), r"rule 'breathing'.es: is required"),
    ("empty_phrases", lambda d: _rule(d, "breathing").update(en=[]), r"'breathing'.en: must list"),
    ("bad_phrase", lambda d: _rule(d, "chest_pain").update(en=["chest-pain!"]), r"rule 'chest_pain'.en: bad"),
    ("duplicate_id", lambda d: _rule(d, "breathing").update(id="chest_pain"), r"used by more than one rule"),
    ("bad_id", lambda d: _rule(d, "breathing").update(id="Breathing Trouble"), r"id must be snake_case"),
    ("unknown_key", lambda d: _rule(d, "breathing").update(severity=3), r"rule 'breathing'.severity: is not"),
    ("outside_not_lower", lambda d: _rule(d, "itch").update(outside_level="emergency"), r"outside_level"),
    ("outside_no_window", lambda d: _rule(d, "liver").update(outside_level="fine"), r"goes with within"),
    ("negative_window", lambda d: _rule(d, "itch").update(within_hours=-1), r"within_hours must be positive"),
    ("fact_not_number", lambda d: _rule(d, "itch").update(facts=["57"]), r"facts must be fact numbers"),
    ("missing_option", lambda d: d["option"].pop("mild"), r"option.mild: is required"),
    ("missing_reply", lambda d: d["reply"].pop("unclear"), r"reply.unclear: is required"),
    ("emergency_without_number", lambda d: d["reply"]["emergency"].update(en=["Call now."]),
     r"reply 'emergency'.en: the first message must give \{number\}"),
    ("unknown_placeholder", lambda d: d["reply"]["fine"].update(es=["Hola {name}"]), r"unknown placeholder"),
    ("bad_country", lambda d: d["emergency_numbers"].update(usa="911"), r"emergency_numbers.usa"),
    ("bad_number", lambda d: d["emergency_numbers"].update(FR="one-one-two"), r"emergency_numbers.FR"),
    ("multiword_filler", lambda d: d["fine"].update(filler_en=["so far"]), r"fine.filler_en: must be a list"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"), [r[1:] for r in BAD_POLICIES], ids=[r[0] for r in BAD_POLICIES]
)
def test_a_bad_policy_names_the_entry_at_fault(change: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_from_mapping(_broken(change), "test.toml")


def test_a_file_that_is_not_toml_or_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("version = ", "bad.toml")
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "missing.toml")


def test_a_policy_file_given_by_path_is_used(tmp_path: Path) -> None:
    path = tmp_path / "clinic.toml"
    text = resources.files("care").joinpath("triage_policy.toml").read_text("utf-8")
    path.write_text(text.replace('"tos", "tosiendo"', '"tos", "tosiendo", "carraspeo"'), encoding="utf-8")
    assert triage("carraspeo", load_policy(path), hours_since_dose=1).level is NOW


def test_every_reply_placeholder_is_the_number() -> None:
    for reply in DEFAULT["reply"].values():
        for lang in ("en", "es"):
            for message in reply[lang]:
                assert {n for _, n, _, _ in string.Formatter().parse(message) if n} <= {"number"}
