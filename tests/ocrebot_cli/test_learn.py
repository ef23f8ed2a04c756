"""`ocrebot learn` answers from the education library with its sources; bad arguments get one line, exit 2."""

from __future__ import annotations

import json

import pytest

from ocrebot.learn_cli import main


def test_an_answer_is_printed_with_its_sources_and_related_topics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can I get the flu shot?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Vaccines and their timing [vaccines] (region us, telegram;")
    assert "Live or live-attenuated vaccines are not recommended" in out
    assert "Sources:\n  S3  Genentech dosing information" in out and "Facts: 40, 44, 68" in out
    assert "Related: " in out


def test_spanish_sms_for_the_uk_picks_the_regional_short_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["¿puedo quedarme embarazada?", "--lang", "es", "--channel", "sms", "--region", "uk"]) == 0
    out = capsys.readouterr().out
    assert "[pregnancy] (region uk, sms;" in out and "4 meses" in out and "6 meses" not in out


def test_json_reports_the_topic_text_sources_and_related(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["what is pml", "--json", "--region", "eu"]) == 0
    report = json.loads(capsys.readouterr().out)
    answer = report["answer"]
    assert (report["region"], report["channel"], answer["topic"]) == ("eu", "telegram", "pml")
    assert answer["facts"] == [34] and {s["key"] for s in answer["sources"]} == {"S15", "S16", "S20"}
    assert answer["text"].endswith("call your clinic today.") and "when_to_call" in answer["related"]


def test_words_without_quotes_make_one_question(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can", "i", "breastfeed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"]["topic"] == "breastfeeding"


def test_a_question_the_library_cannot_answer_exits_1_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["what's the weather like?"]) == 1
    assert capsys.readouterr().out.startswith("No confident answer")
    assert main(["what's the weather like?", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["answer"] is None


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ([], "question"),
        (["  "], "question"),
        (["vaccines", "--lang", "fr"], "--lang"),
        (["vaccines", "--region", "mars"], "--region"),
        (["vaccines", "--channel", "fax"], "--channel"),
        (["vaccines", "--library", "/nonexistent/library.toml"], "--library"),
        (["vaccines", "--lang"], "--lang"),
        (["vaccines", "--bogus"], "--bogus"),
    ],
    ids=["no_question", "blank_question", "unknown_language", "unknown_region", "unknown_channel",
         "missing_library", "option_without_value", "unknown_option"],
)  # fmt: skip
def test_a_bad_argument_is_one_line_on_stderr_naming_it_with_exit_2(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert named in captured.err and captured.err.startswith("ocrebot learn: error: ")
