"""`ocrebot import FILE`: enrols the patients of a CSV file, as the console's import does, from a terminal.

The file is checked first (the same rules and messages as the console's preview); errors are listed on
stderr, one `line N, column: message` each. A file with errors imports nothing unless `--skip-bad-rows`;
`--dry-run` only checks. On success the new patients' invite codes go to stdout as CSV (name, phone,
invite_code), to hand out. One audit row, by the system. Exit codes: 0 done (or a clean dry run), 1 the
file has errors, 2 unreadable file or not ready. Registered in `ocrebot.cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from admin import csv_import
from admin.csv_io import MAX_BYTES, CheckedFile, FileRejected
from care.clock import SystemClock
from ocrebot.readiness import NotReady, ready_settings
from storage.db import create_engine, session_factory

PROG = "ocrebot import"
EXIT_ERRORS = 1
EXIT_USAGE = 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Registers `import` on an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import", help="enrol the patients of a CSV file", description=__doc__.splitlines()[0]
    )
    parser.add_argument("file", type=Path, help="the CSV file (columns as in the console's import page)")
    parser.add_argument("--dry-run", action="store_true", help="check the file only; store nothing")
    parser.add_argument(
        "--skip-bad-rows", action="store_true", help="import the good rows of a file with errors"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Checks, then imports, the file."""
    try:
        settings = ready_settings()
    except NotReady as exc:
        return _fail(str(exc))
    try:
        with args.file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    return asyncio.run(_run(settings.database_url, data, dry_run=args.dry_run, skip_bad=args.skip_bad_rows))


async def _run(url: str, data: bytes, *, dry_run: bool, skip_bad: bool) -> int:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        now = SystemClock().now()
        try:
            checked = await csv_import.check_upload(sessions, data, now)
        except FileRejected as exc:
            return _fail(f"nothing was imported: {exc}")
        _report(checked)
        if dry_run:
            return EXIT_ERRORS if checked.bad else 0
        if checked.bad and not skip_bad:
            return _fail("nothing was imported: fix the file, or pass --skip-bad-rows", EXIT_ERRORS)
        if not checked.good:
            return _fail("nothing to import: every row has an error", EXIT_ERRORS)
        job = csv_import.ImportJob("cli", None, len(checked.good), len(checked.bad))
        await csv_import.run_import(sessions, checked, job, now=now)
        if job.state != "done":
            return _fail(job.message or "the import failed", EXIT_ERRORS)
        sys.stdout.write("".join(await csv_import.invite_lines(sessions, job.patient_ids)))
        sys.stderr.write(f"{job.message} Their invite codes are above.\n")
        return 0
    finally:
        await engine.dispose()


def _report(checked: CheckedFile) -> None:
    for row in checked.bad:
        for column, message in row.errors.items():
            sys.stderr.write(f"line {row.line}, {column.lstrip('_')}: {message}\n")
    sys.stderr.write(f"{len(checked.rows)} rows: {len(checked.good)} ready, {len(checked.bad)} with errors\n")


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"{PROG}: {message}\n")
    return code
