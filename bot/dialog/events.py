"""What goes into the dialog engine and what comes out: one inbound event, a list of replies.

Owns `InboundEvent` and `Reply`, the only types a channel adapter shares with the engine. Channel objects
(a Telegram `Update`, a Twilio form) never get past the adapter. Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bot.options import Option
from storage.models import Channel


class Attachment(NamedTuple):
    """A file sent with a reply, such as the .ics calendar: (filename, mime, content)."""

    filename: str
    mime: str
    content: bytes


@dataclass(frozen=True)
class InboundEvent:
    """One thing a patient sent on one channel.

    channel, address: who, as the channel knows them (a Telegram chat id, an E.164 number, a web session).
    text: what they typed; None for a sticker, photo or anything else without text.
    option: the key of an `Option` they chose (a button), if any.
    language_hint: the channel's idea of their language (Telegram's `language_code`), like "es-MX".
    contact_phone: a phone number they shared as a contact.
    start_payload: an invite code, from a deep link or an SMS keyword.
    received_at: when the channel got it (aware); the engine uses its own clock for everything it stores.
    """

    channel: Channel
    address: str
    text: str | None = None
    option: str | None = None
    language_hint: str | None = None
    contact_phone: str | None = None
    start_payload: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class Reply:
    """One message back: text, the choices offered (buttons or a numbered list), an optional file.

    ask_contact: the label of a "share my number" button, for a channel that can ask for the patient's
    own contact (Telegram); other channels ask in words only.
    """

    text: str
    options: tuple[Option, ...] = ()
    attachment: Attachment | None = None
    ask_contact: str | None = None
