"""`ocrebot plan preview` prints the projected doses and every planned message; bad arguments get one line."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ocrebot
from ocrebot.plan_preview import main

BASE = [
    "plan",
    "preview",
    "--formulation",
    "iv",
    "--first-dose",
    "2027-01-04T09:00",
    "--tz",
    "America/New_York",
]
CLI_MODULE = Path(ocrebot.__file__).parent / "cli.py"


def test_the_table_shows_doses_and_messages_with_local_and_utc_times(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(BASE) == 0
    out = capsys.readouterr().out
    assert "iv_initial_300mg_infusion_2   300  2027-01-18 09:00 EST   2027-01-18 14:00Z" in out
    assert "iv_600mg                      600  2027-07-04 09:00 EDT   2027-07-04 13:00Z" in out
    assert "2027-07-03 18:00 EDT   2027-07-03 22:00Z     3  reminder_day_before" in out
    assert "Messages (24; quiet hours 21:00-08:00)" in out


def test_json_lists_doses_given_and_the_messages_still_to_come(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--doses-given", "2", "--count", "3", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(d["number"], d["given_at"] is not None) for d in report["doses"]] == [
        (1, True),
        (2, True),
        (3, False),
    ]
    assert report["doses"][2]["due_at"] == "2027-07-04T13:00:00Z"
    assert report["doses"][2]["due_local"] == "2027-07-04T09:00:00-04:00"
    assert {m["dose_number"] for m in report["messages"]} == {3}
    assert report["messages"][0] == {
        "touchpoint_id": "reminder_7_days",
        "kind": "reminder",
        "dose_number": 3,
        "due_at": "2027-06-27T14:00:00Z",
        "due_local": "2027-06-27T10:00:00-04:00",
        "catch_up_until": "2027-07-03T13:00:00Z",
        "dedupe_key": "reminder_7_days:3:20270704T130000Z",
    }


def test_with_every_dose_given_only_the_booking_nudge_is_planned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--formulation", "sc", "--doses-given", "2", "--count", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["touchpoint_id"] for m in report["messages"]] == ["booking_nudge"]
    assert report["messages"][0]["due_local"] == "2027-12-04T10:00:00-05:00"


def test_quiet_hours_can_be_overridden_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--quiet-hours", "17:00-09:30", "--count", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    day_before = next(m for m in report["messages"] if m["touchpoint_id"] == "reminder_day_before")
    assert (report["quiet_hours"], day_before["due_local"]) == ("17:00-09:30", "2027-01-03T16:45:00-05:00")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--tz", "Mars/Olympus_Mons"], "--tz"),
        (["--first-dose", "2027-13-04T09:00"], "--first-dose"),
        (["--first-dose", "next tuesday"], "--first-dose"),
        (["--doses-given", "-1"], "--doses-given"),
        (["--doses-given", "two"], "--doses-given"),
        (["--doses-given", "9"], "--doses-given"),
        (["--count", "0"], "--count"),
        (["--formulation", "oral"], "--formulation"),
        (["--quiet-hours", "9pm-7am"], "--quiet-hours"),
        (["--plan", "/nonexistent/plan.toml"], "--plan"),
        (["--bogus"], "--bogus"),
    ],
    ids=[
        "unknown_zone",
        "impossible_date",
        "not_a_date",
        "negative_doses_given",
        "doses_given_not_a_number",
        "more_given_than_shown",
        "zero_count",
        "unknown_formulation",
        "bad_quiet_hours",
        "missing_plan_file",
        "unknown_option",
    ],
)
def test_a_bad_argument_is_one_line_on_stderr_naming_it_with_exit_2(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BASE, *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert named in captured.err and "error" in captured.err


def test_a_missing_required_argument_is_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "preview", "--formulation", "sc"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "ocrebot plan preview: error: the following arguments are required: --first-dose, --tz"
    ]


@pytest.mark.skipif(
    not CLI_MODULE.exists(), reason="ocrebot/cli.py (the lead's entry point) does not exist yet"
)
def test_the_installed_console_script_runs_plan_preview() -> None:
    script = Path(sys.executable).with_name("ocrebot")
    command = [str(script)] if script.exists() else [shutil.which("ocrebot") or "ocrebot"]
    done = subprocess.run(
        [*command, *BASE, "--json"], capture_output=True, text=True, timeout=60, check=False
    )  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["doses"][1]["kind"] == "iv_initial_300mg_infusion_2"
    bad = subprocess.run(
        [*command, *BASE, "--tz", "Nowhere/Town"], capture_output=True, text=True, timeout=60, check=False
    )  # noqa: S603
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "--tz" in bad.stderr
