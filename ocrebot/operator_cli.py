"""`ocrebot operator`: create console accounts and API tokens, on the configured database.

`operator create --email E --role admin|operator|viewer` asks for the password (twice, hidden, on a
terminal; one line from stdin otherwise, for scripts). `operator token --email E [--label L]` prints a new
API token for that operator, once: only its hash is stored. Both write the audit log. Errors a user can fix
are one line on stderr and exit 2. Registered in `ocrebot.cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from typing import Any

from admin import accounts
from care.clock import SystemClock
from ocrebot.readiness import NotReady, ready_settings
from ocrebot.settings import Settings
from storage.db import create_engine, session_factory
from storage.models import OperatorRole

EXIT_USAGE = 2
PROG = "ocrebot operator"
MIN_PASSWORD_LENGTH = 12


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Registers `operator` (with `create` and `token`) on an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "operator", help="console accounts and API tokens", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="add an operator (asks for the password)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in OperatorRole])
    create.set_defaults(func=run_create)
    token = sub.add_parser("token", help="print a new API token for an operator (shown once)")
    token.add_argument("--email", required=True)
    token.add_argument("--label", help="what the token is for, e.g. 'nightly export'")
    token.set_defaults(func=run_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `ocrebot operator ...` without the rest of the CLI (for tests) and returns the exit code."""
    parser = argparse.ArgumentParser(prog="ocrebot")
    add_parser(parser.add_subparsers(dest="command", metavar="COMMAND"))
    args = parser.parse_args(["operator", *(argv or [])])
    return int(args.func(args))


def run_create(args: argparse.Namespace) -> int:
    """Reads the password and adds the operator."""
    settings = _ready_settings()
    if isinstance(settings, int):
        return settings
    password = _read_password()
    if password is None:
        return _fail("the passwords do not match")
    if len(password) < MIN_PASSWORD_LENGTH:
        return _fail(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    try:
        operator_id = asyncio.run(_create(settings, args.email, password, OperatorRole(args.role)))
    except accounts.AccountError as exc:
        return _fail(str(exc))
    sys.stdout.write(f"operator {operator_id} created ({args.role})\n")
    return 0


def run_token(args: argparse.Namespace) -> int:
    """Prints a new API token for the operator."""
    settings = _ready_settings()
    if isinstance(settings, int):
        return settings
    try:
        token = asyncio.run(_token(settings, args.email, args.label))
    except accounts.AccountError as exc:
        return _fail(str(exc))
    sys.stdout.write(token + "\n")
    sys.stderr.write("Store it now: it is not shown again. Send it as 'Authorization: Bearer <token>'.\n")
    return 0


async def _create(settings: Settings, email: str, password: str, role: OperatorRole) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            operator = await accounts.create_operator(session, email, password, role, SystemClock().now())
            return operator.id
    finally:
        await engine.dispose()


async def _token(settings: Settings, email: str, label: str | None) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            operator = await accounts.find_operator(session, email)
            if operator is None or not operator.active:
                raise accounts.AccountError("no active operator with this email")
            return await accounts.create_token(session, operator, label, SystemClock().now())
    finally:
        await engine.dispose()


def _read_password() -> str | None:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    return first if getpass.getpass("Again: ") == first else None


def _ready_settings() -> Settings | int:
    try:
        return ready_settings()
    except NotReady as exc:
        return _fail(str(exc))


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: {message}\n")
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
