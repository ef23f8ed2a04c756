"""The SMS channel's reading of inbound texts (keywords whatever the case, spaces or punctuation) and its
rendering of replies (numbered options, commands as words, TwiML)."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.channels import sms_in
from bot.channels.sms_in import Kind
from bot.dialog.events import Reply
from bot.options import Option


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", " Stop. ", "S T O P", "stop!!", "Stop all", "STOPALL", "unsubscribe", "Cancel", "END",
     "quit", "Revoke", "opt-out"],
)  # fmt: skip
def test_opt_out_keywords_are_read_whatever_their_case_spaces_or_punctuation(body: str) -> None:
    assert sms_in.read(body).kind is Kind.OPT_OUT


@pytest.mark.parametrize("body", ["Cancel my appointment", "please stop sending the 7 day one", "the end?"])
def test_a_keyword_inside_a_sentence_is_not_one(body: str) -> None:
    assert sms_in.read(body) == sms_in.Inbound(Kind.DIALOG, body)


def test_twilios_opt_out_type_wins_over_the_words() -> None:
    assert sms_in.read("Parar", "STOP").kind is Kind.OPT_OUT
    assert sms_in.read("Volver", "START").kind is Kind.OPT_IN
    assert sms_in.read("?", "HELP").kind is Kind.HELP


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("start", sms_in.Inbound(Kind.OPT_IN, None)),
        ("Unstop", sms_in.Inbound(Kind.OPT_IN, None)),
        ("help", sms_in.Inbound(Kind.HELP, None)),
        ("Info.", sms_in.Inbound(Kind.HELP, None)),
        ("join", sms_in.Inbound(Kind.JOIN, "/start")),
        ("JOIN abc123", sms_in.Inbound(Kind.JOIN, "/start", "abc123")),
        ("Next", sms_in.Inbound(Kind.DIALOG, "/next")),
        ("done.", sms_in.Inbound(Kind.DIALOG, "/done")),
        ("LEARN", sms_in.Inbound(Kind.DIALOG, "/learn")),
        ("pause", sms_in.Inbound(Kind.DIALOG, "/pause")),
        ("Español", sms_in.Inbound(Kind.DIALOG, "/language es")),
        ("1", sms_in.Inbound(Kind.DIALOG, "1")),
        ("I feel a bit tired", sms_in.Inbound(Kind.DIALOG, "I feel a bit tired")),
    ],
)
def test_other_keywords_map_to_the_dialog(body: str, expected: sms_in.Inbound) -> None:
    assert sms_in.read(body) == expected


def test_options_are_numbered_and_commands_become_words_to_text() -> None:
    reply = Reply(
        "Do you agree? You can stop with /stop or erase with /delete.",
        (Option("yes", "Yes"), Option("no", "No"), Option("cmd:language:es", "Español")),
    )
    assert sms_in.render(reply, "en") == (
        "Do you agree? You can stop with STOP or erase with DELETE.\n"
        "Reply 1 for Yes or 2 for No. Text ESPANOL for Español."
    )
    menu = Reply("Menu", (Option("cmd:next", "Next"), Option("cmd:help", "Help")))
    assert sms_in.render(menu, "es") == "Menu\nEnvia NEXT para Next o HELP para Help."


def test_replies_go_back_as_twiml_messages() -> None:
    root = ElementTree.fromstring(sms_in.twiml(["one", "two & <three>"]))
    assert [m.text for m in root.iter("Message")] == ["one", "two & <three>"]
    assert list(ElementTree.fromstring(sms_in.twiml([]))) == []


@pytest.mark.parametrize("body", ["YES", "yes", " Yes. ", "yes!!", "Yes 👍", "Sí", "si", "SÍ!", "sí."])
def test_yes_is_read_whatever_its_case_accents_punctuation_or_emoji(body: str) -> None:
    assert sms_in.read(body) == sms_in.Inbound(Kind.YES, body)  # the text kept: the dialog may want it


@pytest.mark.parametrize("body", ["yes please call me", "Yesterday", "sin"])
def test_yes_inside_other_words_is_dialog_text(body: str) -> None:
    assert sms_in.read(body).kind is Kind.DIALOG
