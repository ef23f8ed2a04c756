"""Invite codes as stored: how a code is made (alphabet, length, lifetime), the open one, closing the rest.

Owns the invite row's rules for every caller (console, API, CSV import, the bot's redeem): a code of 8
capitals and digits easy to read out and type (no 0/O, 1/I/L), valid `INVITE_TTL`. A patient has at most one
open invite (unused, unexpired): making one expires the others, and redeeming one expires the others, so a
code texted to a mistyped number dies as soon as another is made or used. Expiring sets `expires_at` to now;
`used_at` stays empty (nobody used it).
A "link" invite is one an operator made for a patient already signed up, to attach a Telegram chat to them:
its `invite.create` audit row says so (`LINK_MARK`); every other invite is for sign-up only, so a code
left over from before sign-up never opens a signed-up patient's record.
Nothing here commits; the caller owns the transaction. Must not import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, Invite, PatientStatus

INVITE_TTL = timedelta(days=30)  # handed out at the next visit or by letter as often as texted
# A link invite opens a signed-up patient's record (appointments, doses) to the chat that uses it, and
# detaches their earlier chat: it is handed over in person or by phone, and lives a week.
LINK_INVITE_TTL = timedelta(days=7)
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed from paper
CODE_LENGTH = 8  # about 40 bits
CREATE_ACTION = "invite.create"  # the audit row of an invite made after enrolment
LINK_MARK = "link"  # in that row's detail (True): the invite links a chat to a patient already signed up
LINKABLE = (PatientStatus.ACTIVE, PatientStatus.PAUSED)  # signed up and not stopped: a chat may join them


def new_code() -> str:
    """Returns a fresh random invite code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def invite_values(patient_id: int, operator_id: int | None, now: datetime) -> dict[str, object]:
    """Returns the column values of a new invite row (for a bulk insert of fresh patients' invites)."""
    return {
        "code": new_code(),
        "patient_id": patient_id,
        "created_by_id": operator_id,
        "created_at": now,
        "expires_at": now + INVITE_TTL,
    }


async def add_invite(
    session: AsyncSession, patient_id: int, operator_id: int | None, now: datetime, *, link: bool = False
) -> Invite:
    """Adds a fresh invite for the patient and expires their earlier open ones; returns it (flushed).

    link: a link invite, valid `LINK_INVITE_TTL` instead of `INVITE_TTL` (its mark is in the audit row).
    """
    await expire_open(session, patient_id, now)
    invite = Invite(**invite_values(patient_id, operator_id, now))
    if link:
        invite.expires_at = now + LINK_INVITE_TTL
    session.add(invite)
    await session.flush()
    return invite


async def expire_open(
    session: AsyncSession, patient_id: int, now: datetime, *, keep_id: int | None = None
) -> int:
    """Expires the patient's open invites (all but `keep_id`); returns how many."""
    query = update(Invite).where(
        Invite.patient_id == patient_id, Invite.used_at.is_(None), Invite.expires_at > now
    )
    if keep_id is not None:
        query = query.where(Invite.id != keep_id)
    result = await session.execute(
        query.values(expires_at=now).execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def use(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Marks the invite used if it still is open; False when another chat used it (or it expired) first."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def made_for_link(session: AsyncSession, invite: Invite) -> bool:
    """Returns whether the invite was made to link a chat to a patient already signed up."""
    details = await session.scalars(
        select(AuditLog.detail).where(
            AuditLog.patient_id == invite.patient_id, AuditLog.action == CREATE_ACTION
        )
    )
    return any(
        detail and detail.get("invite") == invite.id and detail.get(LINK_MARK) is True for detail in details
    )


async def open_invite(session: AsyncSession, patient_id: int, now: datetime) -> Invite | None:
    """Returns the patient's newest invite that is unused and unexpired, if any."""
    return await session.scalar(
        select(Invite)
        .where(Invite.patient_id == patient_id, Invite.used_at.is_(None), Invite.expires_at > now)
        .order_by(Invite.created_at.desc(), Invite.id.desc())
        .limit(1)
    )
