"""The console's patient forms: enroll, invite, next appointment, dose given, one-off message, erase.

Post, then redirect (303) with a notice; a refusal re-renders the page with the reason (422, or 409 with
the label's warnings to confirm) and stores nothing; viewers see no form and get 403.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from storage.models import Dose, DoseStatus, Invite, OperatorRole, Patient, ScheduledMessage
from tests.admin.console import Console, add_operator, csrf_of, seed, sign_in


async def _signed_in(console: Console, role: OperatorRole = OperatorRole.OPERATOR) -> str:
    email = f"{role.value}@clinic.example"
    await add_operator(console.sessions, email, role)
    assert (await sign_in(console.client, email)).status_code == 303
    return await csrf_of(console.client)


async def _patients(console: Console) -> int:
    async with console.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Patient)) or 0)


async def test_an_operator_enrolls_a_patient_and_sees_the_invite_and_that_sms_is_off(
    console: Console,
) -> None:
    token = await _signed_in(console)
    form = await console.client.get("/admin/enroll")
    assert (
        form.status_code == 200 and "SMS is not configured" in form.text and 'name="phone"' not in form.text
    )
    bad = await console.client.post(
        "/admin/enroll", data={"csrf_token": token, "display_name": "Ines", "timezone": "Nowhere/Land"}
    )
    assert bad.status_code == 422 and "must be an IANA time zone" in bad.text and 'value="Ines"' in bad.text
    assert await _patients(console) == 0
    done = await console.client.post(
        "/admin/enroll",
        data={"csrf_token": token, "display_name": "Ines Mora", "language": "es", "formulation": "iv"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?notice=enrolled#invite")
    page = await console.client.get(done.headers["location"].split("#")[0])
    async with console.sessions() as session:
        invite = await session.scalar(select(Invite))
    assert invite is not None and invite.code in page.text
    assert "Patient enrolled" in page.text and "Telegram is not configured" in page.text
    assert "JOIN " + invite.code in page.text
    forged = await console.client.post("/admin/enroll", data={"csrf_token": "x", "display_name": "Zed"})
    assert forged.status_code == 403 and await _patients(console) == 1


async def test_viewers_see_no_patient_forms_and_their_posts_are_refused(console: Console) -> None:
    seeded = await seed(console.sessions)
    token = await _signed_in(console, OperatorRole.VIEWER)
    page = await console.client.get(f"/admin/patients/{seeded.active}")
    assert page.status_code == 200 and "Ana Lopez" in page.text
    for label in (
        "Save appointment", "Record dose", "Send now", "Erase patient", "Enroll a patient",
        "Link a Telegram chat",
    ):  # fmt: skip
        assert label not in page.text
    assert (await console.client.get("/admin/enroll")).status_code == 403
    base = f"/admin/patients/{seeded.active}"
    posts = [
        ("/admin/enroll", {"display_name": "V"}),
        (f"{base}/invite", {}),
        (f"{base}/link-telegram", {}),
        (f"{base}/appointment", {"starts_at": "2027-06-10T10:00"}),
        (f"{base}/dose", {"given_at": "2026-12-06T10:00"}),
        (f"{base}/message", {"text": "hi"}),
        (f"{base}/erase", {"confirm": str(seeded.active)}),
    ]
    for url, data in posts:
        assert (await console.client.post(url, data={"csrf_token": token, **data})).status_code == 403, url
    assert await _patients(console) == 3


async def test_the_appointment_form_shows_the_label_warning_and_books_once_confirmed(
    console: Console,
) -> None:
    seeded = await seed(console.sessions)
    token = await _signed_in(console)
    base = f"/admin/patients/{seeded.active}"
    page = await console.client.get(base)
    assert "Save appointment" in page.text and "Record dose" in page.text and "Send now" in page.text
    given = await console.client.post(
        f"{base}/dose", data={"csrf_token": token, "given_at": "2026-12-06T10:00"}
    )
    assert given.status_code == 303 and "notice=dose" in given.headers["location"]
    early = {"csrf_token": token, "starts_at": "2027-02-01T09:15", "location": "Day unit"}
    warned = await console.client.post(f"{base}/appointment", data=early)
    assert (
        warned.status_code == 409
        and "Book anyway" in warned.text
        and "at least 5 months apart" in warned.text
    )
    async with console.sessions() as session:
        planned = await session.scalar(
            select(func.count()).select_from(Dose).where(Dose.status == DoseStatus.PLANNED)
        )
    assert planned == 0
    booked = await console.client.post(f"{base}/appointment", data={**early, "confirm": "yes"})
    assert booked.status_code == 303
    shown = await console.client.get(booked.headers["location"].split("#")[0])
    assert (
        "Appointment saved" in shown.text
        and "Mon 01 Feb 2027 09:15 CET" in shown.text
        and "Day unit" in shown.text
    )
    past = await console.client.post(f"{base}/appointment", data={**early, "starts_at": "2026-01-01T10:00"})
    assert past.status_code == 422 and "is in the past" in past.text
    blank = await console.client.post(f"{base}/appointment", data={"csrf_token": token, "starts_at": "soon"})
    assert blank.status_code == 422 and "Give a date and time." in blank.text


async def test_a_one_off_is_queued_from_the_page_and_a_too_long_one_is_sent_back(console: Console) -> None:
    seeded = await seed(console.sessions)
    token = await _signed_in(console)
    base = f"/admin/patients/{seeded.active}"
    long = await console.client.post(f"{base}/message", data={"csrf_token": token, "text": "y" * 400})
    assert long.status_code == 422 and "longer than 2 SMS" in long.text
    sent = await console.client.post(
        f"{base}/message", data={"csrf_token": token, "text": "See you Thursday."}
    )
    assert sent.status_code == 303
    page = await console.client.get(sent.headers["location"].split("#")[0])
    assert "Message queued" in page.text and "See you Thursday." in page.text and "one_off" in page.text
    paused = await console.client.post(
        f"/admin/patients/{seeded.paused}/message", data={"csrf_token": token, "text": "hello"}
    )
    assert paused.status_code == 409 and "only active patients get messages" in paused.text
    async with console.sessions() as session:
        kinds = list(
            await session.scalars(select(ScheduledMessage.kind).where(ScheduledMessage.kind == "one_off"))
        )
    assert kinds == ["one_off"]


async def test_erasing_from_the_page_needs_the_number_typed(console: Console) -> None:
    seeded = await seed(console.sessions)
    token = await _signed_in(console)
    base = f"/admin/patients/{seeded.stopped}"
    wrong = await console.client.post(f"{base}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert wrong.status_code == 422 and f"Type {seeded.stopped} to confirm" in wrong.text
    assert await _patients(console) == 3
    done = await console.client.post(
        f"{base}/erase", data={"csrf_token": token, "confirm": str(seeded.stopped)}
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/patients?notice=erased"
    listing = await console.client.get(done.headers["location"])
    assert "Patient erased." in listing.text and "Carl Stone" not in listing.text
    assert (await console.client.get(base)).status_code == 404


async def test_an_expired_invite_is_replaced_from_the_page(console: Console) -> None:
    token = await _signed_in(console)
    done = await console.client.post("/admin/enroll", data={"csrf_token": token, "display_name": "Jon"})
    url = done.headers["location"].split("?")[0]
    async with (
        console.sessions() as session,
        session.begin(),
    ):  # a month on (moving the clock ends the session)
        await session.execute(update(Invite).values(expires_at=console.clock.now() - timedelta(minutes=1)))
    page = await console.client.get(url)
    assert "No open invite" in page.text and "Make a new invite" in page.text
    made = await console.client.post(f"{url}/invite", data={"csrf_token": token})
    assert made.status_code == 303 and "notice=invite" in made.headers["location"]
    async with console.sessions() as session:
        codes = list(await session.scalars(select(Invite.code).order_by(Invite.id)))
    assert len(codes) == 2 and codes[1] in (await console.client.get(url)).text
    bad = await console.client.post(f"{url}/invite", data={"csrf_token": token, "phone": "+1 555"})
    assert bad.status_code == 422 and "The number" in bad.text


async def test_the_openapi_schema_documents_the_patient_actions(console: Console) -> None:
    await _signed_in(console)
    paths = (await console.client.get("/api/openapi.json")).json()["paths"]
    for path in (
        "/api/patients",
        "/api/patients/{patient_id}/invites",
        "/api/patients/{patient_id}/appointment",
    ):
        assert path in paths
    for path in ("/api/patients/{patient_id}/doses", "/api/patients/{patient_id}/messages"):
        assert "post" in paths[path]
    assert "post" in paths["/api/patients/{patient_id}/erase"]


async def test_a_one_off_form_posted_twice_queues_one_message(console: Console) -> None:
    seeded = await seed(console.sessions)
    token = await _signed_in(console)
    base = f"/admin/patients/{seeded.active}"
    page = await console.client.get(base)
    nonces = re.findall(r'name="nonce" value="([^"]+)"', page.text)
    assert len(nonces) == 1 and nonces[0] not in (await console.client.get(base)).text  # fresh per page
    form = {"csrf_token": token, "text": "See you Thursday.", "nonce": nonces[0]}
    first = await console.client.post(f"{base}/message", data=form)
    again = await console.client.post(f"{base}/message", data=form)  # a double-click
    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"]
    async with console.sessions() as session:
        rows = list(await session.scalars(select(ScheduledMessage).where(ScheduledMessage.kind == "one_off")))
    assert len(rows) == 1


async def test_the_appointment_form_refuses_a_wall_time_the_clocks_skip(console: Console) -> None:
    seeded = await seed(console.sessions)
    token = await _signed_in(console)
    form = {"csrf_token": token, "starts_at": "2027-03-28T02:30", "confirm": "yes"}  # Madrid springs forward
    answer = await console.client.post(f"/admin/patients/{seeded.active}/appointment", data=form)
    assert answer.status_code == 422 and "does not exist that day (the clocks go forward)" in answer.text
    async with console.sessions() as session:
        dose = await session.get_one(Dose, seeded.dose)
    assert dose.planned_at != datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
