"""/delete erases every record of the patient: no row in any table names them afterwards."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditLog, Base, Channel, CheckIn, CheckInLevel, Direction, MessageLog, Patient
from storage.patients import log_outbound
from tests.bot.dialog.helpers import START, Chat, patient_of, sign_up, snapshot

NAME = "Zoraida Quintanilla"
ADDRESS = "tg-778899001"
PHONE = "+34611222333"


async def rows_mentioning(sessions: async_sessionmaker[AsyncSession], needles: list[str]) -> list[str]:
    """Returns "table: row" for every row of every table with a value containing one of `needles`."""
    found = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                text = " ".join(str(value) for value in row)
                if any(needle in text for needle in needles):
                    found.append(f"{table.name}: {text}")
    return found


async def test_delete_leaves_no_row_naming_the_patient(
    make_chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chat: Chat = make_chat(ADDRESS)
    await sign_up(chat, name=NAME, place="Clínica Quintanilla", phone=PHONE)
    bystander: Chat = make_chat("tg-bystander")
    await sign_up(bystander, name="Other Person")
    patient = await patient_of(sessions, ADDRESS)
    async with sessions() as session, session.begin():  # what other parts of the service keep about them
        await log_outbound(
            session, patient_id=patient.id, channel=Channel.TELEGRAM, text=f"Hi {NAME}", now=START
        )
        session.add(
            CheckIn(
                patient_id=patient.id, answer=f"{NAME} feels fine", level=CheckInLevel.FINE, created_at=START
            )
        )
    needles = [NAME, "Quintanilla", ADDRESS, PHONE]
    assert await rows_mentioning(sessions, needles)

    await chat.send("/delete")
    assert chat.keys == ["yes", "no"]
    await chat.choose("yes")
    assert "Everything has been erased" in chat.text

    assert await rows_mentioning(sessions, needles) == []
    async with sessions() as session:
        audit = list(await session.scalars(select(AuditLog)))
        assert [(row.action, row.patient_id) for row in audit] == [("patient_erased", None)]
        assert await session.get(Patient, patient.id) is None
    assert (await patient_of(sessions, "tg-bystander")).display_name == "Other Person"
    await chat.send("hello again")
    assert "Do you agree?" in chat.text  # a fresh start


async def test_delete_can_be_cancelled_and_returns_to_where_it_was(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hi")
    await chat.choose("yes")
    await chat.send("/delete")
    await chat.choose("no")
    assert "nothing has changed" in chat.text and "What name" in chat.text
    assert (await snapshot(sessions, chat.address)).step == "name"


async def test_nothing_said_before_consent_is_logged_and_everything_after_is(
    chat: Chat, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await chat.send("hello, I am Zoraida")
    async with sessions() as session:
        assert (await session.scalars(select(MessageLog))).all() == []
    await chat.choose("yes")  # consent given in this step: it and what follows are logged
    await chat.send(NAME)
    async with sessions() as session:
        logged = [(row.direction, row.text) for row in await session.scalars(select(MessageLog))]
    assert (Direction.INBOUND, NAME) in logged
    assert (Direction.INBOUND, "hello, I am Zoraida") not in logged
    assert any(direction is Direction.OUTBOUND for direction, _ in logged)
