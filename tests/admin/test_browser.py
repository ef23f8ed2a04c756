"""The console in a real browser: Playwright drives Debian's chromium against uvicorn on loopback.

Skips, saying why, only when /usr/bin/chromium is absent (`make test` installs it). With
UPDATE_SCREENSHOTS=1 (`make screenshots`) it also writes docs/console-*.png for the README.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher

from admin import security
from care.clock import FakeClock
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import OperatorRole
from tests.admin.console import NOW, PASSWORD, Seeded, add_operator, add_sandbox, build_app, seed
from tests.ocrebot.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
SHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: run `make chromium`")

playwright_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Site:
    url: str
    seeded: Seeded
    sandbox_id: int


async def _prepare(url: str) -> tuple[Seeded, int]:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        seeded = await seed(sessions)
        sandbox = await add_sandbox(sessions)
        await add_operator(sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
        return seeded, sandbox.id
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """uvicorn serving the app (fake clock, seeded SQLite file) on a free loopback port, in a thread."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser') / 'ocrebot.db'}"
    upgrade(url)
    with pytest.MonkeyPatch.context() as patch:  # a test-sized argon2 cost: the server verifies with it too
        patch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        seeded, sandbox_id = asyncio.run(_prepare(url))
    port = free_port()
    app = build_app(url, FakeClock(NOW), public_base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Site(f"http://127.0.0.1:{port}", seeded, sandbox_id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    """A fresh browser context (no cookies), signed in as an operator."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}/admin/")
    assert "/admin/login" in page.url
    page.get_by_label("Email").fill("nurse@clinic.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/admin/")
    try:
        yield page
    finally:
        context.close()


def _shot(page: object, name: str) -> None:
    if SHOTS:
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / f"console-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_operator_signs_in_and_sees_the_dashboard(page: object, site: Site) -> None:
    expect = playwright_api.expect
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.get_by_text("Ana Lopez").first).to_be_visible()  # type: ignore[attr-defined]
    expect(page.get_by_text("nurse@clinic.example")).to_be_visible()  # type: ignore[attr-defined]
    _shot(page, "dashboard")


def test_an_operator_acknowledges_a_flag_then_pauses_the_patient(page: object, site: Site) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.url}/admin/patients/{site.seeded.active}")  # type: ignore[attr-defined]
    _shot(page, "patient")
    page.get_by_label(f"note for check-in {site.seeded.check_in}").fill("Phoned her; seen today")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Acknowledge").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.get_by_text("Phoned her; seen today")).to_be_visible()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Pause reminders").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Reminders paused.")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator("#patient-status")).to_have_text("paused")  # type: ignore[attr-defined]
    expect(page.get_by_role("button", name="Resume reminders")).to_be_visible()  # type: ignore[attr-defined]


def test_the_simulator_jumps_a_day_and_the_reminder_arrives(page: object, site: Site) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.url}/admin/simulator/{site.sandbox_id}")  # type: ignore[attr-defined]
    before = page.locator("#sandbox-now").inner_text()  # type: ignore[attr-defined]
    page.get_by_role("button", name="+1 day").click()  # type: ignore[attr-defined]
    expect(page.locator("#sandbox-now")).not_to_have_text(before)  # type: ignore[attr-defined]
    expect(page.get_by_text("24 h ahead of real time")).to_be_visible()  # type: ignore[attr-defined]
    bubbles = page.locator(".bubble.bot")  # type: ignore[attr-defined]
    expect(bubbles).to_have_count(1)  # the 7-day reminder, overdue but still worth sending
    page.get_by_role("button", name="+7 days").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("192 h ahead of real time")).to_be_visible()  # type: ignore[attr-defined]
    # the day-before reminder arrived at its own time, 18:00 in Madrid the day before the infusion
    expect(bubbles.nth(1).locator(".at")).to_have_text("Wed 09 Dec 2026 18:00 CET")  # type: ignore[attr-defined]
    page.get_by_label("message").fill("hello")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Send").click()  # type: ignore[attr-defined]
    expect(page.locator(".bubble.me")).to_have_text(re.compile("hello"))  # type: ignore[attr-defined]
    _shot(page, "simulator")


def test_an_operator_enrolls_a_patient_and_gets_the_invite(page: object, site: Site) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.url}/admin/patients")  # type: ignore[attr-defined]
    page.get_by_role("link", name="Enroll a patient").click()  # type: ignore[attr-defined]
    expect(page.get_by_role("heading", name="Enroll a patient")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator("#sms-off")).to_be_visible()  # type: ignore[attr-defined]
    page.get_by_label("Name").fill("Ines Mora")  # type: ignore[attr-defined]
    page.get_by_label("Language").select_option("es")  # type: ignore[attr-defined]
    page.get_by_label("Formulation").select_option("iv")  # type: ignore[attr-defined]
    page.get_by_label("Time zone").fill("Atlantis/Lost")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Enroll and make the invite").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("must be an IANA time zone")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.get_by_label("Name")).to_have_value("Ines Mora")  # type: ignore[attr-defined]
    _shot(page, "enroll")
    page.get_by_label("Time zone").fill("Europe/Madrid")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Enroll and make the invite").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Patient enrolled: give them the invite below.")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator("#patient-status")).to_have_text("signing up")  # type: ignore[attr-defined]
    code = page.locator("#invite-code").inner_text()  # type: ignore[attr-defined]
    assert re.fullmatch(r"[A-Z2-9]{8}", code), code
    expect(page.get_by_text(f"JOIN {code}")).to_be_visible()  # type: ignore[attr-defined]


def test_an_operator_moves_an_appointment_records_a_dose_and_confirms_a_label_warning(
    page: object, site: Site
) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.url}/admin/patients/{site.seeded.active}")  # type: ignore[attr-defined]
    page.get_by_label(re.compile("^When")).fill("2026-12-11T10:30")  # type: ignore[attr-defined]
    page.get_by_label("Where").fill("Day unit, floor 2")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save appointment").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Appointment saved: the reminders follow it.")).to_be_visible()  # type: ignore[attr-defined]
    doses = page.locator("#doses table")  # type: ignore[attr-defined]
    expect(doses).to_contain_text("Fri 11 Dec 2026 10:30 CET")
    expect(doses).to_contain_text("Day unit, floor 2")
    page.get_by_label(re.compile("^Given")).fill("2026-12-06T10:00")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Record dose").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Dose recorded: the reminders start again from it.")).to_be_visible()  # type: ignore[attr-defined]
    expect(doses).to_contain_text("given Sun 06 Dec 2026 10:00 CET")
    page.get_by_label(re.compile("^When")).fill("2027-02-01T09:15")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save appointment").click()  # type: ignore[attr-defined]
    warning = page.locator("#appointment-warnings")  # type: ignore[attr-defined]
    expect(warning).to_contain_text("at least 5 months apart")
    expect(doses).not_to_contain_text("01 Feb 2027")  # nothing stored before the operator confirms
    _shot(page, "appointment-warning")
    page.get_by_role("button", name="Book anyway").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Appointment saved: the reminders follow it.")).to_be_visible()  # type: ignore[attr-defined]
    expect(doses).to_contain_text("Mon 01 Feb 2027 09:15 CET")


def test_a_one_off_to_a_sandbox_patient_shows_up_in_the_simulator(page: object, site: Site) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.url}/admin/patients/{site.sandbox_id}")  # type: ignore[attr-defined]
    page.get_by_label("message to the patient").fill("Your clinic moved to floor 2.")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Send now").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Message queued: it goes out now.")).to_be_visible()  # type: ignore[attr-defined]
    page.goto(f"{site.url}/admin/simulator/{site.sandbox_id}")  # type: ignore[attr-defined]
    expect(page.locator(".bubble.bot").last).to_contain_text("Your clinic moved to floor 2.")  # type: ignore[attr-defined]


def test_the_console_works_under_its_content_security_policy_and_exports_a_patient(
    page: object, site: Site
) -> None:
    """The inline confirm still runs (and dismissing it changes nothing), the export link downloads the
    patient's JSON, and the browser reports no CSP violation on any console page."""
    expect = playwright_api.expect
    violations: list[str] = []
    page.on(  # type: ignore[attr-defined]
        "console",
        lambda message: violations.append(message.text) if "Content Security" in message.text else None,
    )
    asked: list[str] = []

    def dismiss(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dismiss)  # type: ignore[attr-defined]
    for path in ("/admin/", "/admin/patients", "/admin/simulator", f"/admin/patients/{site.seeded.paused}"):
        answer = page.goto(f"{site.url}{path}")  # type: ignore[attr-defined]
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    page.get_by_role("button", name="Unsubscribe").click()  # type: ignore[attr-defined]
    assert asked == ["Stop every message to this patient?"]
    expect(page.locator("#patient-status")).to_have_text("paused")  # type: ignore[attr-defined]

    with page.expect_download() as waiting:  # type: ignore[attr-defined]
        page.get_by_role("link", name="Export data (JSON)").click()  # type: ignore[attr-defined]
    download = waiting.value
    assert download.suggested_filename == f"ocrebot-patient-{site.seeded.paused}-20261207.json"
    exported = json.loads(Path(download.path()).read_text())
    assert exported["patient"]["display_name"] == "Bea Ruiz"
    assert violations == []


def test_an_operator_sets_a_patients_quiet_hours_from_the_patient_page(page: object, site: Site) -> None:
    expect = playwright_api.expect
    page.goto(f"{site.url}/admin/patients/{site.seeded.paused}")  # type: ignore[attr-defined]
    expect(page.locator("#quiet-hours")).to_contain_text("21:00-08:00")  # type: ignore[attr-defined]
    expect(page.locator("#quiet-hours")).to_contain_text("usual")  # type: ignore[attr-defined]
    page.get_by_label("quiet hours start").fill("22:30")  # type: ignore[attr-defined]
    page.get_by_label("quiet hours end").fill("07:15")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save quiet hours").click()  # type: ignore[attr-defined]
    expect(page.get_by_text("Quiet hours saved; pending messages moved to fit.")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator("#quiet-hours")).to_have_text("22:30-07:15 (local time)")  # type: ignore[attr-defined]
    expect(page.get_by_text("patient.quiet hours")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.get_by_text("quiet hours 22:30-07:15")).to_be_visible()  # type: ignore[attr-defined]
