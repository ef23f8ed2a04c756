"""The SMS channel, inbound: what a Twilio webhook form says becomes a keyword or a dialog event; replies
become SMS bodies and TwiML.

Owns the SMS keywords, matched on the whole message whatever its case, spaces or punctuation: the carrier
ones (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, or Twilio's `OptOutType=STOP`, opt
out; START, UNSTOP opt in; HELP, INFO answer who we are; YES, SI from a number typed in another channel
turns its reminders on, `Kind.YES`) and ours for the dialog (JOIN [code], NEXT, DONE,
CHANGE, LEARN, PAUSE, RESUME, MENU, DELETE, ENGLISH, ESPANOL, TIPS [ON|OFF], QUIET [hours|OFF|DEFAULT],
EXPORT, with Spanish aliases such as CONSEJOS [SI|NO]), and how options go over SMS: "Reply 1 for ..., 2 for
..." and, for commands, "Text NEXT for ...". Translates only: no database, no rules. Must not import
`storage` beyond its enums, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from twilio.twiml.messaging_response import MessagingResponse

from bot.dialog.events import InboundEvent, Reply
from bot.options import Option
from bot.sms_text import fold_to_gsm7, list_options
from storage.models import Channel

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})
YES_WORDS = frozenset({"YES", "SI"})  # "Sí!", "yes 👍": the phone's own consent, when one is awaited
JOIN_WORDS = frozenset({"JOIN", "ALTA"})
QUIET_WORDS = frozenset({"QUIET", "SILENCIO"})  # "QUIET 22:00-07:00", "QUIET OFF", "QUIET": /quiet
COMMAND_WORDS = {
    "NEXT": "/next", "PROXIMA": "/next", "DONE": "/done", "HECHO": "/done", "CHANGE": "/reschedule",
    "CAMBIAR": "/reschedule", "LEARN": "/learn", "APRENDER": "/learn", "PAUSE": "/pause", "PAUSA": "/pause",
    "RESUME": "/resume", "SEGUIR": "/resume", "MENU": "/menu", "DELETE": "/delete", "BORRAR": "/delete",
    "ENGLISH": "/language en", "INGLES": "/language en", "ESPANOL": "/language es", "SPANISH": "/language es",
    "TIPS": "/tips on", "TIPSON": "/tips on", "TIPSOFF": "/tips off", "CONSEJOS": "/tips on",
    "CONSEJOSSI": "/tips on", "CONSEJOSNO": "/tips off", "NOCONSEJOS": "/tips off",
    "EXPORT": "/export", "EXPORTAR": "/export",  # by SMS: the clinic can provide the file
}  # fmt: skip
# The word to text for a command option ("cmd:<name>[:arg]"); commands missing here are numbered.
OPTION_WORDS = {
    "cmd:next": "NEXT", "cmd:done": "DONE", "cmd:reschedule": "CHANGE", "cmd:learn": "LEARN",
    "cmd:pause": "PAUSE", "cmd:resume": "RESUME", "cmd:menu": "MENU", "cmd:delete": "DELETE",
    "cmd:help": "HELP", "cmd:language:en": "ENGLISH", "cmd:language:es": "ESPANOL",
    "cmd:tips:on": "TIPS", "cmd:tips:off": "TIPS OFF",
}  # fmt: skip
# The dialog's "/name" commands in its sentences, as the word to text by SMS.
SLASH_WORDS = {
    "next": "NEXT", "done": "DONE", "reschedule": "CHANGE", "learn": "LEARN", "pause": "PAUSE",
    "resume": "RESUME", "help": "HELP", "delete": "DELETE", "stop": "STOP", "menu": "MENU",
    "tips": "TIPS", "quiet": "QUIET", "export": "EXPORT",
}  # fmt: skip
_SLASH = re.compile(r"/([a-z]+)\b")
MAX_CODE_CHARS = 32

TEXTS = {
    "en": {
        "help": (
            "Ocrebot: appointment reminders and check-ins from your MS clinic. {contact}"
            "In an emergency call emergency services. Text STOP to stop, START to restart. "
            "Msg&data rates may apply."
        ),
        "contact": "Questions about your care: call your clinic{at}. ",
        "join_first": (
            "Hi! To get appointment reminders by text, reply JOIN, or send the invite code your clinic "
            "gave you. Text HELP for help, STOP to stop. / Para recibir recordatorios, responda JOIN o "
            "envie el codigo de su clinica."
        ),
        "opted_in": "You will get texts from us again. Text STOP to stop, HELP for help.",
        "invalid_number": "We could not read your phone number, so nothing was saved.",
        "sms_on": "Thanks! Your appointment reminders will come to this number too. Text STOP to stop.",
        "awaiting_yes": "Reply YES to get your appointment reminders at this number. Not you? Reply STOP.",
        "help_unconfirmed": (
            "Clinic reminders: reply YES to get your appointment reminders at this number, STOP to opt out. "
            "Msg&data rates may apply."
        ),
    },
    "es": {
        "help": (
            "Ocrebot: recordatorios de citas y seguimiento de su clinica de EM. {contact}"
            "En una emergencia, llame a emergencias. Envie STOP para dejar de recibir mensajes y START "
            "para volver. Pueden aplicarse tarifas."
        ),
        "contact": "Preguntas sobre su tratamiento: llame a su clinica{at}. ",
        "join_first": "",
        "opted_in": "Volvera a recibir nuestros mensajes. Envie STOP para parar o HELP para ayuda.",
        "invalid_number": "No pudimos leer su numero de telefono, asi que no se guardo nada.",
        "sms_on": (
            "¡Gracias! Los recordatorios de sus citas llegaran tambien a este numero. Envie STOP para parar."
        ),
        "awaiting_yes": (
            "Responda SI para recibir aqui los recordatorios de sus citas. ¿No es usted? Responda STOP."
        ),
        "help_unconfirmed": (
            "Recordatorios de su clinica: responda SI para recibir aqui los recordatorios de sus citas, STOP "
            "para no recibir mensajes. Pueden aplicarse tarifas."
        ),
    },
}


class Kind(StrEnum):
    """What an inbound SMS is, before the dialog sees it."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    YES = "yes"  # the dialog's, unless the number awaits its own YES
    JOIN = "join"
    DIALOG = "dialog"


@dataclass(frozen=True)
class Inbound:
    """An inbound SMS, read: its kind, the text the dialog gets ("/next" for NEXT) and an invite code."""

    kind: Kind
    text: str | None
    code: str | None = None


def keyword(body: str) -> str:
    """Returns the message as a keyword: accents, case, spaces and punctuation dropped ("Stop." -> "STOP")."""
    plain = unicodedata.normalize("NFKD", body)
    return "".join(char for char in plain if char.isalnum() and not unicodedata.combining(char)).upper()


def read(body: str, opt_out_type: str | None = None) -> Inbound:
    """Reads one inbound message: a carrier keyword, JOIN (with a code), a dialog keyword, or dialog text."""
    word = keyword(body)
    if (opt_out_type or "").upper() == "STOP" or word in OPT_OUT_WORDS:
        return Inbound(Kind.OPT_OUT, None)
    if (opt_out_type or "").upper() == "START" or word in OPT_IN_WORDS:
        return Inbound(Kind.OPT_IN, None)
    if (opt_out_type or "").upper() == "HELP" or word in HELP_WORDS:
        return Inbound(Kind.HELP, None)
    if word in YES_WORDS:
        return Inbound(Kind.YES, body)
    tokens = body.split()
    if tokens and keyword(tokens[0]) in JOIN_WORDS:
        code = tokens[1].strip(".,!") if len(tokens) == 2 else None
        return Inbound(Kind.JOIN, "/start", code if code and len(code) <= MAX_CODE_CHARS else None)
    if tokens and keyword(tokens[0]) in QUIET_WORDS:
        return Inbound(Kind.DIALOG, " ".join(["/quiet", *tokens[1:]]))
    if word in COMMAND_WORDS:
        return Inbound(Kind.DIALOG, COMMAND_WORDS[word])
    return Inbound(Kind.DIALOG, body)


def looks_like_code(body: str) -> bool:
    """Tells whether a message could be an invite code: one word of letters, digits, - and _."""
    text = body.strip()
    return 4 <= len(text) <= MAX_CODE_CHARS and all(char.isalnum() or char in "-_" for char in text)


def event(number: str, inbound: Inbound, received_at: datetime, *, option: str | None = None) -> InboundEvent:
    """Returns the dialog event of an inbound SMS from `number` (E.164)."""
    return InboundEvent(
        channel=Channel.SMS,
        address=number,
        text=None if option is not None else inbound.text,
        option=option,
        start_payload=inbound.code,
        received_at=received_at,
    )


def render(reply: Reply, language: str) -> str:
    """Returns one reply as an SMS body: its text ("/next" as "NEXT"), then its options, numbered."""
    options = [option for option in reply.options if option.key != "cmd:calendar"]  # no files by SMS
    text = _SLASH.sub(lambda match: SLASH_WORDS.get(match[1], match[0]), reply.text)
    body = text if not options else f"{text}\n{list_options(options, language, words(options))}"
    return fold_to_gsm7(body)


def words(options: Sequence[Option]) -> list[str | None]:
    """Returns, for each option, the keyword that picks it by SMS, or None when a number picks it."""
    return [OPTION_WORDS.get(option.key) for option in options]


def say(language: str, key: str, **values: str) -> str:
    """Returns one of this channel's own sentences, folded to GSM-7."""
    table = TEXTS.get(language, TEXTS["en"])
    return fold_to_gsm7((table[key] or TEXTS["en"][key]).format(**values))


def help_text(language: str, clinic_contact: str | None) -> str:
    """Returns the HELP answer: who we are, how to reach the clinic, emergencies, how to stop."""
    at = f" ({clinic_contact})" if clinic_contact else ""
    return say(language, "help", contact=say(language, "contact", at=at))


def twiml(bodies: Sequence[str]) -> str:
    """Returns the TwiML answer sending `bodies` as messages (an empty <Response/> sends nothing)."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return str(response)
