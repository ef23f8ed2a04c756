"""Invite rows: one code alphabet and lifetime, and at most one open invite per patient."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import invites
from storage.models import Invite
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
