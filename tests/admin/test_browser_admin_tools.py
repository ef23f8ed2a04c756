"""CSV import and operator management in a real browser: Playwright drives Debian's chromium against uvicorn.

Skips, saying why, only when /usr/bin/chromium is absent. With UPDATE_SCREENSHOTS=1 it also writes
docs/console-import-preview.png and docs/console-operators.png.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI

from admin import csv_import, security
from admin.csv_io import COLUMNS
from care.clock import FakeClock
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import OperatorRole
from tests.admin.console import NOW, PASSWORD, add_operator, build_app, seed
from tests.admin.test_browser import CHROMIUM, _shot
from tests.ocrebot.conftest import free_port

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: run `make chromium`")

playwright_api = pytest.importorskip("playwright.sync_api")

CSV = "\n".join(
    [
        ",".join(COLUMNS),
        "Dora Diaz,+34 611 222 333,es,Europe/Madrid,ES,iv,six_monthly,2027-01-15 09:30,Hospital Norte",
        "Eli Error,12,en,Mars/Olympus,,,,,",
        "Fay Fine,,en,America/New_York,US,sc,not_started,2027-02-01 10:00,",
    ]
)


@dataclass
class Site:
    url: str
    nurse_id: int
    app: FastAPI


async def _prepare(url: str) -> int:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await seed(sessions)
        await add_operator(sessions, "boss@clinic.example", OperatorRole.ADMIN)
        return await add_operator(sessions, "nurse@clinic.example", OperatorRole.OPERATOR)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """uvicorn serving the app (fake clock, seeded SQLite file) on a free loopback port, in a thread."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser_tools') / 'ocrebot.db'}"
    upgrade(url)
    with pytest.MonkeyPatch.context() as patch:  # a test-sized argon2 cost: the server verifies with it too
        patch.setattr(security, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        nurse_id = asyncio.run(_prepare(url))
        port = free_port()
        app = build_app(url, FakeClock(NOW), public_base_url=f"http://127.0.0.1:{port}")
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        try:
            yield Site(f"http://127.0.0.1:{port}", nurse_id, app)
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


def _signed_in(browser: object, site: Site, email: str) -> object:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{site.url}/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/admin/")
    return page


def test_an_operator_imports_a_csv_skipping_its_bad_row(browser: object, site: Site, tmp_path: Path) -> None:
    expect = playwright_api.expect
    page = _signed_in(browser, site, "nurse@clinic.example")
    upload = tmp_path / "patients.csv"
    upload.write_text(CSV, encoding="utf-8-sig")
    try:
        page.get_by_role("link", name="Import / export").click()  # type: ignore[attr-defined]
        page.get_by_label("CSV file").set_input_files(str(upload))  # type: ignore[attr-defined]
        page.get_by_role("button", name="Check the file").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name=re.compile("Import preview"))).to_be_visible()  # type: ignore[attr-defined]
        expect(page.locator("#import-counts")).to_have_text(
            re.compile(r"3\s+rows: 2\s+ready,\s+1\s+with errors")
        )  # type: ignore[attr-defined]
        bad = page.locator("#line-3")  # type: ignore[attr-defined]
        expect(bad).to_contain_text("not a phone number")
        expect(bad).to_contain_text("unknown time zone")
        _shot(page, "import-preview")
        page.get_by_role("button", name="Import 2 patients").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("alert")).to_contain_text("skip the bad rows")  # type: ignore[attr-defined]
        page.get_by_label(re.compile("skip the bad rows")).check()  # type: ignore[attr-defined]
        polls: list[str] = []
        page.on(
            "request",
            lambda request: polls.append(request.url) if "/api/patients/import/" in request.url else None,
        )  # type: ignore[attr-defined]
        page.get_by_role("button", name="Import 2 patients").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name="Importing patients")).to_be_visible()  # type: ignore[attr-defined]
        expect(page.locator("#import-state")).to_have_text("done")  # type: ignore[attr-defined]
        expect(page.locator("#import-bar")).to_have_attribute("value", "2")  # type: ignore[attr-defined]
        expect(page.locator("#import-message")).to_have_text("2 patients imported, 1 bad row skipped.")  # type: ignore[attr-defined]
        assert polls, "the progress page did not poll the progress route"
        with page.expect_download() as download:  # type: ignore[attr-defined]
            page.get_by_role("link", name="Download the invite codes (CSV)").click()  # type: ignore[attr-defined]
        codes = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert [line.split(",")[0] for line in codes] == ["name", "Dora Diaz", "Fay Fine"]
        page.get_by_role("link", name="See the patients signing up").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("link", name="Dora Diaz")).to_be_visible()  # type: ignore[attr-defined]
        expect(page.get_by_role("link", name="Fay Fine")).to_be_visible()  # type: ignore[attr-defined]
        expect(page.get_by_text("Eli Error")).to_have_count(0)  # type: ignore[attr-defined]
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_an_admin_adds_an_operator_changes_a_role_and_deactivates_someone(
    browser: object, site: Site
) -> None:
    expect = playwright_api.expect
    page = _signed_in(browser, site, "boss@clinic.example")
    try:
        page.get_by_role("link", name="Operators").click()  # type: ignore[attr-defined]
        page.get_by_label("New operator's email").fill("temp@clinic.example")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Add operator").click()  # type: ignore[attr-defined]
        expect(page.locator("#created-password")).to_contain_text("shown only now")  # type: ignore[attr-defined]
        expect(page.locator("#operators")).to_contain_text("temp@clinic.example")  # type: ignore[attr-defined]
        nurse = page.locator(f"#operator-{site.nurse_id}")  # type: ignore[attr-defined]
        nurse.get_by_label("role of nurse@clinic.example").select_option("viewer")
        nurse.get_by_role("button", name="Change role").click()
        expect(page.get_by_text("Role changed.")).to_be_visible()  # type: ignore[attr-defined]
        expect(nurse.get_by_label("role of nurse@clinic.example")).to_have_value("viewer")
        page.get_by_role("button", name="deactivate nurse@clinic.example").click()  # type: ignore[attr-defined]
        expect(page.get_by_text("Operator deactivated")).to_be_visible()  # type: ignore[attr-defined]
        expect(nurse).to_contain_text("deactivated")
        _shot(page, "operators")
        page.get_by_role("button", name="reactivate nurse@clinic.example").click()  # type: ignore[attr-defined]
        expect(page.get_by_text("Operator reactivated.")).to_be_visible()  # type: ignore[attr-defined]
        nurse.get_by_label("role of nurse@clinic.example").select_option("operator")
        nurse.get_by_role("button", name="Change role").click()
        expect(nurse.get_by_label("role of nurse@clinic.example")).to_have_value("operator")
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_an_operator_sees_no_operators_link_and_gets_403(browser: object, site: Site) -> None:
    page = _signed_in(browser, site, "nurse@clinic.example")
    try:
        playwright_api.expect(page.get_by_role("link", name="Operators")).to_have_count(0)  # type: ignore[attr-defined]
        answer = page.goto(f"{site.url}/admin/operators")  # type: ignore[attr-defined]
        assert answer is not None and answer.status == 403
    finally:
        page.context.close()  # type: ignore[attr-defined]


def test_the_progress_page_stops_polling_and_says_so_when_the_import_is_forgotten(
    browser: object, site: Site
) -> None:
    expect = playwright_api.expect
    jobs = site.app.state.csv_imports = (
        getattr(site.app.state, "csv_imports", None) or csv_import.ImportJobs()
    )
    job = csv_import.ImportJob("forgotten-job-1", site.nurse_id, total=10, skipped=0)  # running, as if busy
    jobs.jobs[job.id] = job
    page = _signed_in(browser, site, "nurse@clinic.example")
    polls: list[int] = []
    page.on(  # type: ignore[attr-defined]
        "response",
        lambda answer: polls.append(answer.status) if "/api/patients/import/" in answer.url else None,
    )
    try:
        page.goto(f"{site.url}/admin/import/jobs/{job.id}")  # type: ignore[attr-defined]
        expect(page.locator("#import-state")).to_have_text("running")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while 200 not in polls:
            assert time.monotonic() < deadline, "the page never polled"
            page.wait_for_timeout(50)  # type: ignore[attr-defined]
        del jobs.jobs[job.id]  # a restart, or pruned: the server no longer knows it
        expect(page.locator("#import-message")).to_contain_text("no longer known")  # type: ignore[attr-defined]
        expect(page.locator("#import-state")).to_have_text("unknown")  # type: ignore[attr-defined]
        seen = len(polls)
        page.wait_for_timeout(1500)  # type: ignore[attr-defined]  # the old script asked every 400 ms
        assert len(polls) == seen and polls[-1] == 404, polls
    finally:
        page.context.close()  # type: ignore[attr-defined]
