"""Settings: the environment (and `.env`) read once, checked, and passed down.

Owns the variables of DESIGN.md and their rules. Nothing here opens a connection. A wrong value raises
`SettingsError` whose message is one line naming the variable; a channel with missing credentials is off.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/ocrebot.db"

_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message is one line naming the variable."""


def _normalize_database_url(url: str) -> str:
    """Accept the common spellings and return the async driver's URL."""
    for prefix, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ValueError("must be a sqlite:/// or postgresql:// URL (drivers aiosqlite or asyncpg)")


class Settings(BaseSettings):
    """Every configuration variable of the service.

    database_url: where everything is stored (SQLite file by default, PostgreSQL in production).
    telegram_*: the bot token, the Bot API base URL, and webhook mode (polling when no webhook URL).
    twilio_*: credentials and sender for SMS, and the API base URL (a fake's in tests).
    public_base_url: how the outside world reaches this server (webhook URLs and their signatures).
    http_host, http_port: where the HTTP server listens.
    reminder_plan_file: a reminder plan replacing the default one.
    ops_telegram_chat_id: where alerts for staff go.
    default_timezone, default_language: for patients who have not chosen yet.
    default_emergency_number: quoted to patients whose country's number the triage policy does not list.
    message_retention_days: message texts older than this are blanked by a daily job (the rows stay).
    session_secret: signs the operator console's session cookies (random per process when unset).
    request_max_body_bytes, webhook_max_body_bytes, import_max_body_bytes: the largest request body (413
    beyond) anywhere, under /webhooks/, and under /admin/import and /api/patients/import (CSV uploads).
    webhook_rate_per_s, login_attempts_per_minute: per client address and per process (429 beyond), on
    /webhooks/* (bursts of 5 s worth) and on the console's sign-in POST.
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    public_base_url: str = "http://127.0.0.1:8000"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    reminder_plan_file: Path | None = None
    ops_telegram_chat_id: str | None = None
    default_timezone: str = "UTC"
    default_language: Literal["en", "es"] = "en"
    default_emergency_number: str | None = None
    message_retention_days: int = Field(default=180, ge=1, le=3650)
    session_secret: str | None = None
    request_max_body_bytes: int = Field(default=65_536, ge=1_024)
    webhook_max_body_bytes: int = Field(default=65_536, ge=1_024)
    import_max_body_bytes: int = Field(default=5_242_880, ge=1_024)
    webhook_rate_per_s: float = Field(default=50.0, gt=0)
    login_attempts_per_minute: int = Field(default=10, ge=1)

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "twilio_account_sid",
        "twilio_auth_token",
        "twilio_from_number",
        "twilio_messaging_service_sid",
        "ops_telegram_chat_id",
        "reminder_plan_file",
        "default_emergency_number",
        "session_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return _normalize_database_url(value.strip())

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and not _TOKEN.match(value):
            raise ValueError("must look like 123456:ABC-def (digits, a colon, letters)")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET.match(value):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("https://") and _URL.match(value)):
            raise ValueError("must be an https:// URL (Telegram only calls https webhooks)")
        return value

    @field_validator("telegram_api_base_url", "twilio_api_base_url", "public_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not _URL.match(value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT_SID.match(value):
            raise ValueError("must be AC followed by 32 hex digits")
        return value

    @field_validator("twilio_messaging_service_sid")
    @classmethod
    def _service_sid(cls, value: str | None) -> str | None:
        if value is not None and not _SERVICE_SID.match(value):
            raise ValueError("must be MG followed by 32 hex digits")
        return value

    @field_validator("twilio_from_number")
    @classmethod
    def _from_number(cls, value: str | None) -> str | None:
        if value is not None and not _E164.match(value):
            raise ValueError("must be a phone number in E.164 form, like +15551234567")
        return value

    @field_validator("ops_telegram_chat_id")
    @classmethod
    def _ops_chat(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{4,})$", value):
            raise ValueError("must be a numeric chat id or an @channel name")
        return value

    @field_validator("reminder_plan_file")
    @classmethod
    def _plan_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/London") from None
        return value

    @field_validator("default_emergency_number")
    @classmethod
    def _emergency_number(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{2,4}", value):
            raise ValueError("must be a short emergency number such as 112 or 911")
        return value

    @field_validator("session_secret")
    @classmethod
    def _session_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -hex 32)")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url is not None and self.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set when TELEGRAM_WEBHOOK_URL is")
        return self

    @property
    def telegram_enabled(self) -> bool:
        """Telegram runs when a bot token is set."""
        return self.telegram_bot_token is not None

    @property
    def sms_enabled(self) -> bool:
        """SMS runs when Twilio's credentials and a sender are all set."""
        return not self.sms_missing

    @property
    def sms_missing(self) -> list[str]:
        """The Twilio variables still missing for SMS to run."""
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
            )
            if value is None
        ]
        if self.twilio_from_number is None and self.twilio_messaging_service_sid is None:
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        return missing

    def channel_report(self) -> list[str]:
        """One line per channel saying whether it is on, and why not; no secret is printed."""
        lines = []
        if self.telegram_enabled:
            mode = "webhook" if self.telegram_webhook_url else "polling"
            lines.append(f"telegram channel on ({mode})")
        else:
            lines.append("telegram channel off: TELEGRAM_BOT_TOKEN is not set")
        if self.sms_enabled:
            lines.append("sms channel on")
        else:
            lines.append("sms channel off: " + ", ".join(self.sms_missing) + " not set")
        return lines


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read the settings from the environment (and `env_file`), or raise a one-line `SettingsError`."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
