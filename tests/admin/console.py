"""Helpers for console tests: a running app on a fake clock, operators, signing in, seeded patients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin import accounts
from care.clock import FakeClock
from care.formulation import Formulation
from care.plan import load_plan
from ocrebot.app import create_app
from ocrebot.settings import load_settings
from storage.alerts import add_check_in
from storage.models import (
    Channel,
    ChannelAddress,
    CheckInLevel,
    Dose,
    OperatorRole,
    Patient,
    PatientStatus,
)
from tests.jobs.builders import add_patient, book
from tests.ocrebot.twilio_app import PUBLIC

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # three days before tests.jobs.builders.APPOINTMENT
PASSWORD = "correct horse battery staple"
SECRET = "s" * 40


@dataclass
class Console:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FakeClock
    sessions: async_sessionmaker[AsyncSession]


def build_app(database_url: str, clock: FakeClock, **settings: object) -> FastAPI:
    values = {"database_url": database_url, "session_secret": SECRET, "default_timezone": "Europe/Madrid"}
    return create_app(load_settings(env_file=None, **(values | settings)), clock=clock)


@asynccontextmanager
async def running_console(
    database_url: str, sessions: async_sessionmaker[AsyncSession], **settings: object
) -> AsyncIterator[Console]:
    """The app's lifespan entered, and an httpx client on it (no redirects followed)."""
    clock = FakeClock(NOW)
    app = build_app(database_url, clock, **settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Console(app, client, clock, sessions)


async def add_operator(
    sessions: async_sessionmaker[AsyncSession], email: str, role: OperatorRole = OperatorRole.OPERATOR
) -> int:
    async with sessions() as session, session.begin():
        operator = await accounts.create_operator(session, email, PASSWORD, role, NOW)
        return operator.id


async def add_token(sessions: async_sessionmaker[AsyncSession], email: str) -> str:
    async with sessions() as session, session.begin():
        operator = await accounts.find_operator(session, email)
        assert operator is not None
        return await accounts.create_token(session, operator, "test", NOW)


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Opens the login page and posts the form; returns the answer to the post."""
    page = await client.get("/admin/login")
    data = {"email": email, "password": password, "csrf_token": form_token(page.text), "next": "/admin/"}
    return await client.post("/admin/login", data=data)


async def csrf_of(client: httpx.AsyncClient) -> str:
    """The signed-in client's CSRF token, read from the dashboard."""
    return form_token((await client.get("/admin/")).text)


@asynccontextmanager
async def signed_in(
    console: Console, email: str, base_url: str = PUBLIC
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client of the console signed in as `email` (over https: secure cookies), and its CSRF token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=console.app), base_url=base_url) as client:
        assert (await sign_in(client, email)).status_code == 303
        yield client, await csrf_of(client)


@dataclass(frozen=True)
class Seeded:
    active: int
    paused: int
    stopped: int
    check_in: int
    dose: int


async def seed(sessions: async_sessionmaker[AsyncSession]) -> Seeded:
    """Three patients: Ana (active, IV, Telegram, a dose in 3 days, a flagged check-in), Bea (paused, SMS),
    Carl (stopped)."""
    plan = load_plan(None)
    async with sessions() as session, session.begin():
        ana = await add_patient(session, chat_id=4242, display_name="Ana Lopez", formulation=Formulation.IV)
        dose: Dose = await book(session, plan, ana, now=NOW)
        bea = await add_patient(
            session,
            phone="+34600111222",
            display_name="Bea Ruiz",
            status=PatientStatus.PAUSED,
            formulation=Formulation.SC,
        )
        carl = await add_patient(
            session, chat_id=777, display_name="Carl Stone", status=PatientStatus.STOPPED
        )
        flagged = await add_check_in(
            session,
            patient_id=ana.id,
            level=CheckInLevel.CLINIC_TODAY,
            flagged=True,
            answer="rash since last night",
            now=NOW - timedelta(hours=3),
        )
        return Seeded(ana.id, bea.id, carl.id, flagged.id, dose.id)


async def add_sandbox(sessions: async_sessionmaker[AsyncSession]) -> Patient:
    """An active sandbox patient with a web address and a dose booked (its reminders planned)."""
    plan = load_plan(None)
    async with sessions() as session, session.begin():
        patient = await add_patient(session, sandbox=True, display_name="Sandy")
        session.add(
            ChannelAddress(
                patient_id=patient.id, channel=Channel.WEB, address="sim-test", state_changed_at=NOW
            )
        )
        await book(session, plan, patient, now=NOW)
        return patient
