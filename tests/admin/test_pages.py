"""The console's pages: dashboard lists, search, the patient page and its buttons (post, then redirect)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import CheckIn, Patient, PatientStatus
from tests.admin.console import Console, add_operator, csrf_of, seed, sign_in


async def _signed_in(console: Console) -> None:
    await add_operator(console.sessions, "nurse@clinic.example")
    assert (await sign_in(console.client, "nurse@clinic.example")).status_code == 303


async def test_the_dashboard_shows_this_weeks_appointments_and_waiting_flags_with_their_age(
    console: Console,
) -> None:
    await seed(console.sessions)
    await _signed_in(console)
    page = await console.client.get("/admin/")
    assert page.status_code == 200
    assert "Ana Lopez" in page.text and "Thu 10 Dec 2026 15:00 CET" in page.text  # clinic time (Madrid)
    assert "clinic today" in page.text and "3 h" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_search_finds_patients_by_phone(console: Console) -> None:
    await seed(console.sessions)
    await _signed_in(console)
    page = await console.client.get(
        "/admin/patients", params={"q": "600111", "status": "", "formulation": ""}
    )
    assert "Bea Ruiz" in page.text and "Ana Lopez" not in page.text


async def test_the_pause_button_pauses_and_the_acknowledge_form_takes_the_flag(console: Console) -> None:
    seeded = await seed(console.sessions)
    await _signed_in(console)
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert "Pause reminders" in page.text and "rash since last night" in page.text
    token = await csrf_of(console.client)
    paused = await console.client.post(f"/admin/patients/{seeded.active}/pause", data={"csrf_token": token})
    assert paused.status_code == 303
    assert "Reminders paused." in (await console.client.get(paused.headers["location"])).text
    ack = await console.client.post(
        f"/admin/alerts/{seeded.check_in}/ack", data={"csrf_token": token, "note": "phoned her"}
    )
    assert ack.status_code == 303
    async with console.sessions() as session:
        assert (await session.get(Patient, seeded.active)).status is PatientStatus.PAUSED  # type: ignore[union-attr]
        row = await session.scalar(select(CheckIn).where(CheckIn.id == seeded.check_in))
    assert row is not None and row.ack_note == "phoned her"
    forged = await console.client.post(f"/admin/patients/{seeded.active}/resume", data={"csrf_token": "x"})
    assert forged.status_code == 403


async def test_the_patient_page_shows_an_sms_number_awaiting_its_yes(console: Console) -> None:
    seeded = await seed(console.sessions)
    await _signed_in(console)
    page = await console.client.get(f"/admin/patients/{seeded.paused}")
    assert "+34600111222" in page.text and "awaiting YES" not in page.text  # Bea's phone said yes
    async with console.sessions() as session, session.begin():
        bea = await session.get_one(Patient, seeded.paused)
        bea.consented_at = bea.created_at
        bea.sms_consent = False  # typed in Telegram, texted, not yet confirmed
    page = await console.client.get(f"/admin/patients/{seeded.paused}")
    assert "awaiting YES" in page.text
