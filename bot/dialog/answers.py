"""Reading what arrived: a command, an input we cannot use, or an answer (text, an option, a contact).

Owns the limits on input (text only, not empty, not too long, some letters or digits), command syntax
("/next", "/start CODE", a "cmd:" option) and how typed text picks an option (its number, its label, or
yes/no in either language; by SMS a bare number always picks). Imports nothing of ours but the event
types, `dates.normalize` and the channel names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.dialog.dates import normalize
from bot.dialog.events import InboundEvent
from bot.dialog.turn import Answer, Step
from bot.options import Option
from storage.models import Channel

MAX_TEXT_CHARS = 1000
COMMAND_OPTION = "cmd:"
YES_WORDS = frozenset({"yes", "y", "yeah", "yep", "sure", "ok", "okay", "i agree", "agree", "correct",
                       "right", "si", "vale", "claro", "de acuerdo", "acepto", "correcto"})  # fmt: skip
NO_WORDS = frozenset({"no", "n", "nope", "no thanks", "no thank you", "no gracias"})
_COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """A command: its name ("next") and its arguments ("/language es" -> ("es",))."""

    name: str
    args: tuple[str, ...] = ()


def clean(text: str | None) -> str:
    """Returns text in NFC, without control characters (newlines kept), trimmed."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(char for char in text if char == "\n" or unicodedata.category(char)[0] != "C")
    return kept.strip()


def command_of(event: InboundEvent) -> Command | None:
    """Returns the command the event carries, if any."""
    if event.option and event.option.startswith(COMMAND_OPTION):
        name, *args = event.option.removeprefix(COMMAND_OPTION).split(":")
        return Command(name.lower(), tuple(args))
    match = _COMMAND.match(clean(event.text))
    if match is None:
        return None
    return Command(match[1].lower(), tuple((match[2] or "").split()))


def problem(event: InboundEvent, step: Step | None) -> str | None:
    """Returns the text key explaining why this input cannot be an answer here, or None when it can."""
    if event.option:
        return None
    if event.contact_phone:
        return None if step is not None and step.accepts_contact else "bad_contact"
    if event.text is None:
        return "bad_not_text"
    text = clean(event.text)
    if not text:
        return "bad_empty"
    if len(text) > MAX_TEXT_CHARS:
        return "bad_too_long"
    if not any(char.isalnum() for char in text):
        return "bad_no_words"  # emoji, punctuation
    return None


def read(event: InboundEvent, options: tuple[Option, ...], step: Step) -> Answer:
    """Returns the answer in the event, with typed text matched to an option where it picks one."""
    text = clean(event.text) or None
    option = event.option
    if option is None and text is not None:  # by SMS a bare number always picks: options are numbered there
        option = match_option(text, options, numbered=step.numbered or event.channel is Channel.SMS)
    return Answer(text=text, option=option, contact=event.contact_phone)


def is_bare_yes(text: str | None) -> bool:
    """Tells whether the text is just "yes" ("Yes!", "sí", "YES 👍"), the word SMS consent is given with."""
    plain = "".join(char for char in normalize(clean(text)) if char.isalnum())
    return plain in ("yes", "si")


def match_option(text: str, options: tuple[Option, ...], *, numbered: bool) -> str | None:
    """Returns the key of the option `text` picks, or None."""
    plain = normalize(text).rstrip(".!")
    if numbered and plain.isdigit() and 1 <= int(plain) <= len(options):
        return options[int(plain) - 1].key
    for option in options:
        if plain in (normalize(option.label), option.key.casefold()):
            return option.key
    keys = {option.key for option in options}
    if "yes" in keys and plain in YES_WORDS:
        return "yes"
    if "no" in keys and plain in NO_WORDS:
        return "no"
    return None
