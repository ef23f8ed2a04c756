"""The `ocrebot` command line: run, migrate, plan preview.

Settings are read once here and passed down. Errors a user can fix are one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from ocrebot import chat_cli, import_cli, learn_cli, operator_cli, plan_preview
from ocrebot.roles import ROLES
from ocrebot.settings import Settings, SettingsError, load_settings

EXIT_USAGE = 2
SHUTDOWN_GRACE_S = 5

log = logging.getLogger("ocrebot")


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"ocrebot: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        raise SystemExit(EXIT_USAGE) from None


def _configure_logging() -> None:
    from ocrebot import logs

    logs.configure()


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database to the newest schema."""
    from storage.db import redact_url
    from storage.migrate import upgrade

    settings = _settings_or_exit()
    _configure_logging()
    upgrade(settings.database_url)
    log.info("database %s is up to date", redact_url(settings.database_url))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Serve HTTP and run the scheduler until SIGINT or SIGTERM."""
    import uvicorn

    from ocrebot.app import create_app
    from ocrebot.readiness import NotReady, ready_settings

    try:
        settings = ready_settings()
    except NotReady as exc:
        print(f"ocrebot: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    _configure_logging()
    config = uvicorn.Config(
        create_app(settings, role=args.role, freeze_gc=True),
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        log_config=None,
        # Access lines carry query strings (a console search for a patient's name): none are logged.
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the stop signal once it has shut down; a stop we asked for is a clean exit (0).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: None)
    server.run()
    return 0 if server.started else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="ocrebot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="serve HTTP and run the scheduler")
    run.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="web: HTTP only; worker: send scheduled messages and poll Telegram; all: both (default)",
    )
    run.set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="bring the database to the newest schema").set_defaults(func=cmd_migrate)
    plan_preview.add_parser(sub)
    chat_cli.add_parser(sub)
    operator_cli.add_parser(sub)
    learn_cli.add_parser(sub)
    import_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
