"""What each command using the database checks first: valid settings, a database at the newest schema."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from ocrebot.settings import Settings, SettingsError, load_settings
from storage.migrate import current_revision, head_revision


class NotReady(Exception):
    """Why a command cannot start, in one line for its user."""


def ready_settings() -> Settings:
    """Returns the settings once the database they name is reachable and migrated; NotReady otherwise."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise NotReady(f"configuration error: {exc}") from None
    try:
        migrated = current_revision(settings.database_url) == head_revision()
    except (OSError, SQLAlchemyError):
        raise NotReady("cannot reach the database; check DATABASE_URL") from None
    if not migrated:
        raise NotReady("the database is not migrated: run `ocrebot migrate` first")
    return settings
