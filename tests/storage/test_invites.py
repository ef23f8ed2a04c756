"""Invite rows: one code alphabet and lifetime, and at most one open invite per patient."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import invites
from storage.models import ActorType, AuditLog, Invite
from tests.storage.builders import NOW, add_patient


async def test_a_new_invite_expires_the_patients_earlier_open_ones_only(session: AsyncSession) -> None:
    patient = await add_patient(session)
    other = await add_patient(session)
    first = await invites.add_invite(session, patient.id, None, NOW)
    others = await invites.add_invite(session, other.id, None, NOW)
    second = await invites.add_invite(session, patient.id, None, NOW)
    await session.commit()
    rows = {
        row.id: row for row in await session.scalars(select(Invite).execution_options(populate_existing=True))
    }
    assert rows[first.id].expires_at <= NOW and rows[first.id].used_at is None
    assert rows[second.id].expires_at == NOW + invites.INVITE_TTL
    assert rows[others.id].expires_at == NOW + invites.INVITE_TTL
    assert await invites.open_invite(session, patient.id, NOW) == rows[second.id]


def test_codes_use_only_characters_that_cannot_be_misread() -> None:
    codes = {invites.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(code) == invites.CODE_LENGTH and not set(code) & set("0O1IL") for code in codes)


async def test_an_invite_is_used_once_and_only_while_open(session: AsyncSession) -> None:
    patient = await add_patient(session)
    invite = await invites.add_invite(session, patient.id, None, NOW)
    assert await invites.use(session, invite.id, NOW) is True
    assert await invites.use(session, invite.id, NOW) is False  # a second chat a moment later
    expired = await invites.add_invite(session, patient.id, None, NOW)
    assert await invites.use(session, expired.id, NOW + invites.INVITE_TTL) is False
    await session.commit()
    assert (await session.get_one(Invite, invite.id, populate_existing=True)).used_at == NOW


async def test_only_an_invite_whose_creation_says_link_links_a_signed_up_patient(
    session: AsyncSession,
) -> None:
    patient = await add_patient(session)
    sign_up = await invites.add_invite(session, patient.id, None, NOW)
    link = await invites.add_invite(session, patient.id, None, NOW)
    session.add_all(
        AuditLog(at=NOW, actor_type=ActorType.OPERATOR, patient_id=patient.id, action=invites.CREATE_ACTION,
                 detail=detail)
        for detail in ({"invite": sign_up.id}, {"invite": link.id, invites.LINK_MARK: True})
    )  # fmt: skip
    await session.flush()
    assert not await invites.made_for_link(session, sign_up)
    assert await invites.made_for_link(session, link)
