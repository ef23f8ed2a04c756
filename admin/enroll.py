"""Enrolling a patient from the console: the patient row, its invite code, the Telegram link and QR, the SMS.

Owns what an invite is made of (the code, its lifetime and the one-open-invite rule are `storage.invites`):
the Telegram deep link `https://t.me/<bot>?start=<code>` (the bot's username from the
Bot API's getMe, asked once and kept); its QR code as inline SVG (segno); and the SMS invite, sent at once
through the SMS sender to the number the operator typed (E.164), never to a number that texted STOP.
The invite SMS names neither the disease nor the drug: a mistyped number must learn nothing about anyone.
The message log keeps the invite SMS with its code masked and no link (`CODE_MASK`): viewers read the log,
and a code is a key to the patient's record.
Enrolling and texting are done once per key (a form's nonce, or the API's Idempotency-Key scoped to the
operator): the key is kept in the audit row's detail (`patient.enroll`, `invite.sms`), and a repeat answers
what the first request made.
Only a real patient still signing up gets a sign-up invite and its SMS (`check_invitable`): a sandbox
patient never reaches Telegram or SMS. A patient already signed up (active or paused) gets a "link" invite
instead (`make_invite`, `check_linkable`): its Telegram link and QR attach a new chat to them without a
new sign-up (a changed Telegram account, or a patient who signed up by SMS). It is never texted: their phone
is already known, and a code in an SMS to a mistyped number must not open someone's record. Making one is
done once per key too (`invite.create` keeps it).
The patient redeems the code with `/start <code>` or by texting `JOIN <code>` (`bot.dialog.invites`).
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

import io
import logging
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import phonenumbers
import segno
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import TelegramError

from admin.accounts import audit, keyed_entries
from admin.actions import Conflict, NotFound, locked_patient
from care.formulation import Formulation
from care.sms_segments import GSM7_BASIC, MAX_SMS_SEGMENTS, segments
from storage import invites, patients
from storage.models import (
    AddressState,
    Channel,
    ChannelAddress,
    Invite,
    Language,
    Operator,
    Patient,
    PatientStatus,
)

log = logging.getLogger(__name__)

CODE_MASK = "\u2022" * 8  # what the message log shows instead of the code

# The invite SMS, by the patient's language; {code} always, {telegram} only when Telegram is on.
INVITE_SMS = {
    "en": "Your clinic invites you to get appointment reminders by text. To join, reply JOIN {code}",
    "es": "Tu clínica te invita a recibir recordatorios de tus citas por SMS. Para unirte, responde "
    "ALTA {code}",
}  # "tú" as every Spanish text of the bot; accents GSM-7 lacks ("í") are folded at send
INVITE_SMS_TELEGRAM = {
    "en": " (or open {link} in Telegram)",
    "es": " (o abre {link} en Telegram)",
}
INVITE_SMS_END = {"en": ". Reply STOP to opt out.", "es": ". Responde STOP para no recibir mensajes."}


class BadPhone(ValueError):
    """The number is not a valid international (E.164) phone number."""


class NotInvitable(Conflict):
    """The patient may not get this invite: stopped or erased, a sandbox patient, or a texted invite for a
    patient past sign-up (a 409)."""


LINKABLE = invites.LINKABLE  # signed up and not stopped: a chat may be linked


class SmsSender(Protocol):
    """What the console needs of the SMS channel (`bot.channels.sms.SmsSender` is one)."""

    async def send(self, address: str, text: str, options: Any) -> Any: ...


@dataclass(frozen=True)
class NewPatient:
    """What the operator fills in to enroll someone; consent is always the patient's own, later."""

    display_name: str
    language: Language
    timezone: str
    formulation: Formulation | None = None


@dataclass(frozen=True)
class InviteSent:
    """What became of an SMS invite: "sent", "failed", "opted_out" (the number texted STOP) or "sms_off"."""

    status: str
    error: str | None = None


def e164(number: str) -> str:
    """Returns `number` in E.164 ("+34600111222"), or raises BadPhone; it must start with + and a country."""
    try:
        parsed = phonenumbers.parse(number.strip(), None)
    except phonenumbers.NumberParseException:
        raise BadPhone("must be an international number starting with + and the country code") from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadPhone("is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def telegram_link(username: str | None, code: str) -> str | None:
    """Returns the bot's deep link carrying `code`, or None when Telegram is off."""
    return None if not username else f"https://t.me/{username}?start={code}"


def qr_svg(link: str) -> str:
    """Returns the QR code of `link` as an inline SVG element (no XML declaration)."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, svgclass="qr", title=link)
    return buffer.getvalue().decode()


def invite_sms(language: str, code: str, link: str | None) -> str:
    """Returns the invite SMS in the patient's language (English when we have no texts in it)."""
    lang = language if language in INVITE_SMS else "en"
    middle = INVITE_SMS_TELEGRAM[lang].format(link=link) if link else ""
    text = INVITE_SMS[lang].format(code=code) + middle + INVITE_SMS_END[lang]
    if segments(_as_sent(text)) > MAX_SMS_SEGMENTS:  # a long bot name: the link is the part to drop
        text = INVITE_SMS[lang].format(code=code) + INVITE_SMS_END[lang]
    return text


def _as_sent(text: str) -> str:
    """`text` with the accents GSM-7 lacks dropped, as the SMS sender folds it (`bot.sms_text`), to count."""
    return "".join(
        char
        if char in GSM7_BASIC
        else "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        for char in unicodedata.normalize("NFC", text)
    )


class BotName:
    """The Telegram bot's username, asked of the Bot API (getMe) on first use and kept.

    token, base_url: the bot token and Bot API base URL of the settings; no token means Telegram is off.
    retry_s: after a failed getMe, how long pages go without a link before asking again (no page waits
    on an unreachable Bot API each time).
    """

    def __init__(self, token: str | None, base_url: str, retry_s: float = 60) -> None:
        self._token = token
        self._base_url = base_url
        self._retry_s = retry_s
        self._username: str | None = None
        self._failed_at: float | None = None

    async def username(self) -> str | None:
        """Returns the bot's username, or None when Telegram is off or the Bot API cannot be reached."""
        if self._username is not None or self._token is None:
            return self._username
        if self._failed_at is not None and time.monotonic() - self._failed_at < self._retry_s:
            return None
        try:
            async with Bot(self._token, base_url=self._base_url) as bot:
                self._username = bot.username
        except TelegramError as exc:
            self._failed_at = time.monotonic()
            log.warning("getMe for the invite link failed: %s", type(exc).__name__)
        return self._username


@dataclass(frozen=True)
class Enrolled:
    """The enrolled patient's id and their first invite; `repeat`: the key enrolled them before."""

    patient_id: int
    invite: Invite
    repeat: bool = False


async def enroll(
    sessions: async_sessionmaker[AsyncSession],
    new: NewPatient,
    *,
    operator_id: int,
    now: datetime,
    key: str | None = None,
) -> Enrolled:
    """Adds a patient who is signing up and their first invite, audited (with `key`, if any).

    With `key` (the form's nonce, or the API's scoped Idempotency-Key), a repeat by the same operator adds
    nothing and returns the first enrolment; Conflict when that patient was erased since.
    """
    async with sessions() as session, session.begin():
        if key is not None:
            earlier = await _enrolled_under(session, operator_id, key)
            if earlier is not None:
                return earlier
        patient = Patient(
            display_name=new.display_name,
            language=new.language,
            timezone=new.timezone,
            formulation=new.formulation,
            status=PatientStatus.SIGNING_UP,
            sandbox=False,
            created_at=now,
            updated_at=now,
        )
        session.add(patient)
        await session.flush()
        invite = await invites.add_invite(session, patient.id, operator_id, now)
        detail: dict[str, Any] = {"invite": invite.id}
        if key is not None:
            detail["key"] = key
        await audit(
            session,
            now,
            operator_id=operator_id,
            patient_id=patient.id,
            action="patient.enroll",
            detail=detail,
        )
    return Enrolled(patient.id, invite)


async def _enrolled_under(session: AsyncSession, operator_id: int, key: str) -> Enrolled | None:
    """Returns the enrolment the operator made with `key`, as a repeat, if any (in the caller's transaction).

    The operator's row is locked first, so two requests with one key take turns and the second finds the
    first's audit row: on PostgreSQL a row lock (FOR NO KEY UPDATE, held to commit, across processes); on
    SQLite every transaction already holds the database's one write lock from BEGIN IMMEDIATE (`storage.db`).
    """
    await session.execute(
        select(Operator.id).where(Operator.id == operator_id).with_for_update(key_share=True)
    )
    rows = await keyed_entries(session, "patient.enroll", key, operator_id=operator_id)
    if not rows:
        return None
    row = rows[0]
    invite = await session.get(Invite, row.detail.get("invite"))
    if row.patient_id is None or invite is None:
        raise Conflict("the patient first enrolled with this key has since been erased")
    return Enrolled(row.patient_id, invite, repeat=True)


async def make_invite(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: int,
    *,
    operator_id: int,
    now: datetime,
    texted: bool = False,
    key: str | None = None,
) -> Invite:
    """Adds a fresh invite, audited: a sign-up invite for a patient signing up, a link invite (never
    `texted`) for one active or paused; their earlier open ones expire. NotFound, or NotInvitable.

    With `key` (a form's nonce, or the API's scoped key), a repeat by the same operator makes nothing and
    returns the invite the first request made: the patient row's lock makes two such requests take turns.
    """
    async with sessions() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        link = patient is not None and patient.status is not PatientStatus.SIGNING_UP
        if not link:
            check_invitable(patient, patient_id)
        elif check_linkable(patient, patient_id) and texted:
            raise NotInvitable(
                f"the patient is {patient.status.value}: their phone is already known, and a Telegram "
                "link invite is not texted (leave the phone out)"
            )
        if key is not None:
            earlier = await _made_under(session, patient_id, operator_id, key)
            if earlier is not None:
                return earlier
        invite = await invites.add_invite(session, patient_id, operator_id, now, link=link)
        detail: dict[str, Any] = {"invite": invite.id}
        if link:
            detail[invites.LINK_MARK] = True
        if key is not None:
            detail["key"] = key
        await audit(
            session, now, operator_id=operator_id, patient_id=patient_id, action=invites.CREATE_ACTION,
            detail=detail,
        )  # fmt: skip
    return invite


async def _made_under(session: AsyncSession, patient_id: int, operator_id: int, key: str) -> Invite | None:
    """Returns the invite the operator made for the patient with `key`, if any (in the caller's
    transaction, after taking the patient row's lock)."""
    await locked_patient(session, patient_id)
    rows = await keyed_entries(
        session, invites.CREATE_ACTION, key, operator_id=operator_id, patient_id=patient_id
    )
    return await session.get(Invite, rows[0].detail.get("invite")) if rows else None


open_invite = invites.open_invite  # the patient's newest unused, unexpired invite, if any


def check_invitable(patient: Patient | None, patient_id: int) -> Patient:
    """Returns the patient when they may get a sign-up invite (and its SMS); NotFound, or NotInvitable."""
    if patient is None:
        raise NotFound(f"patient {patient_id} does not exist")
    if patient.sandbox:
        raise NotInvitable("a sandbox patient is reached only through the simulator: no invites")
    if patient.status is not PatientStatus.SIGNING_UP:
        raise NotInvitable(f"the patient is {patient.status.value}: invites are for patients signing up")
    return patient


def check_linkable(patient: Patient | None, patient_id: int) -> Patient:
    """Returns the patient when a Telegram chat may be linked to them by invite; NotFound, or NotInvitable."""
    if patient is None:
        raise NotFound(f"patient {patient_id} does not exist")
    if patient.sandbox:
        raise NotInvitable("a sandbox patient is reached only through the simulator: no invites")
    if patient.status not in LINKABLE:
        raise NotInvitable(
            f"the patient is {patient.status.value}: invites are for patients signing up, and Telegram "
            "links for active or paused ones"
        )
    return patient


async def invitable_open_invite(
    sessions: async_sessionmaker[AsyncSession], patient_id: int, now: datetime
) -> Invite | None:
    """Returns the open invite (or None) of a patient who may get one; raises as `check_invitable`."""
    async with sessions() as session:
        check_invitable(await session.get(Patient, patient_id), patient_id)
        return await open_invite(session, patient_id, now)


async def send_sms_invite(
    sessions: async_sessionmaker[AsyncSession],
    sender: SmsSender | None,
    invite: Invite,
    phone: str,
    link: str | None,
    *,
    operator_id: int,
    now: datetime,
    key: str | None = None,
) -> InviteSent:
    """Texts the invite to `phone` (E.164) and logs it on the patient; audited whatever the outcome.

    With `key` (a form's nonce, or the API's scoped key), a repeat texts nothing and answers the first
    outcome, even when the patient has signed up since: the check, the send and the audit row (which keeps
    the key) happen under the patient row's lock.
    """
    if key is not None:
        async with sessions() as session:
            earlier = await _texted_under(session, invite, key)
        if earlier is not None:
            return earlier
    async with sessions() as session:
        patient = await session.get(Patient, invite.patient_id)
        stopped = await session.scalar(
            select(ChannelAddress.id).where(
                ChannelAddress.channel == Channel.SMS,
                ChannelAddress.address == phone,
                ChannelAddress.state == AddressState.OPTED_OUT,
            )
        )
    patient = check_invitable(patient, invite.patient_id)
    text = invite_sms(patient.language.value, invite.code, link)
    if key is None:
        outcome, provider_id = await _send(sender, stopped is not None, phone, text)
        async with sessions() as session, session.begin():
            await _record(session, patient, invite, outcome, provider_id, operator_id=operator_id, now=now)
        return outcome
    async with sessions() as session, session.begin():
        await locked_patient(session, patient.id)  # a repeat of the form waits here, then finds the first
        earlier = await _texted_under(session, invite, key)
        if earlier is not None:
            return earlier
        current = await session.get(Invite, invite.id, populate_existing=True)
        if current is None or current.used_at is not None or current.expires_at <= now:
            outcome, provider_id = InviteSent("failed", "the invite was used or replaced meanwhile"), None
        else:
            outcome, provider_id = await _send(sender, stopped is not None, phone, text)
        await _record(
            session, patient, invite, outcome, provider_id, operator_id=operator_id, now=now, key=key
        )
    return outcome


async def _texted_under(session: AsyncSession, invite: Invite, key: str) -> InviteSent | None:
    """Returns the outcome of texting this invite under `key`, if it was (one this request replaced is dead:
    only the same invite counts)."""
    rows = await keyed_entries(session, "invite.sms", key, patient_id=invite.patient_id)
    for row in rows:
        if row.detail.get("invite") == invite.id:
            return InviteSent(str(row.detail.get("status")), None)
    return None


async def earlier_sms(
    sessions: async_sessionmaker[AsyncSession], patient_id: int, key: str
) -> tuple[Invite, InviteSent] | None:
    """Returns the invite texted under `key` and that outcome, if a request with this key came before."""
    async with sessions() as session:
        rows = await keyed_entries(session, "invite.sms", key, patient_id=patient_id)
        if not rows:
            return None
        invite = await session.get(Invite, rows[0].detail.get("invite"))
        return None if invite is None else (invite, InviteSent(str(rows[0].detail.get("status")), None))


async def _send(
    sender: SmsSender | None, stopped: bool, phone: str, text: str
) -> tuple[InviteSent, str | None]:
    """Sends the invite SMS unless SMS is off or the number texted STOP; the outcome and provider id."""
    if sender is None:
        return InviteSent("sms_off"), None
    if stopped:
        return InviteSent("opted_out", "this number texted STOP; it gets nothing until it texts START"), None
    result = await sender.send(phone, text, ())
    if not result.ok:
        return InviteSent("failed", result.error or "unknown error"), None
    return InviteSent("sent"), getattr(result, "provider_id", None)


async def _record(
    session: AsyncSession,
    patient: Patient,
    invite: Invite,
    outcome: InviteSent,
    provider_id: str | None,
    *,
    operator_id: int,
    now: datetime,
    key: str | None = None,
) -> None:
    """Logs a sent invite (code masked) on the patient and audits the outcome (with the form's key)."""
    if outcome.status == "sent":
        await patients.log_outbound(
            session, patient_id=patient.id, channel=Channel.SMS, now=now,
            text=invite_sms(patient.language.value, CODE_MASK, None), provider_id=provider_id,
        )  # fmt: skip
    detail: dict[str, Any] = {"invite": invite.id, "status": outcome.status}
    if key is not None:
        detail["key"] = key
    await audit(
        session, now, operator_id=operator_id, patient_id=patient.id, action="invite.sms", detail=detail
    )


def bot_name_of(state: Any) -> BotName:
    """Returns the app's `BotName` (made on first use from `state.services.settings`)."""
    if getattr(state, "invite_bot_name", None) is None:
        settings = state.services.settings
        state.invite_bot_name = BotName(settings.telegram_bot_token, settings.telegram_api_base_url)
    return state.invite_bot_name  # type: ignore[no-any-return]


def sms_sender_of(state: Any) -> SmsSender | None:
    """Returns the running SMS sender, or None when SMS is off (or this process sends nothing)."""
    return state.services.senders.get(Channel.SMS)  # type: ignore[no-any-return]
