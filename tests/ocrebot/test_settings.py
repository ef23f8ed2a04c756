"""Settings: defaults that run with nothing set, and one clear line for every wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrebot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, load_settings


def test_nothing_set_runs_on_sqlite_with_both_channels_off(clean_env: Path) -> None:
    settings = load_settings(env_file=None)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8000)
    assert not settings.telegram_enabled and not settings.sms_enabled
    assert settings.channel_report() == [
        "telegram channel off: TELEGRAM_BOT_TOKEN is not set",
        "sms channel off: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
        "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID not set",
    ]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL: must be a sqlite:/// or postgresql://"),
        ("HTTP_PORT", "eighty", "HTTP_PORT: "),
        ("HTTP_PORT", "70000", "HTTP_PORT: "),
        ("TELEGRAM_BOT_TOKEN", "not a token", "TELEGRAM_BOT_TOKEN: must look like"),
        ("TELEGRAM_WEBHOOK_URL", "http://example.org/hook", "TELEGRAM_WEBHOOK_URL: must be an https://"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces in it", "TELEGRAM_WEBHOOK_SECRET: must be 1-256"),
        ("TWILIO_ACCOUNT_SID", "AC123", "TWILIO_ACCOUNT_SID: must be AC followed by 32 hex digits"),
        ("TWILIO_MESSAGING_SERVICE_SID", "XX" + "0" * 32, "TWILIO_MESSAGING_SERVICE_SID: must be MG"),
        ("TWILIO_FROM_NUMBER", "555-1234", "TWILIO_FROM_NUMBER: must be a phone number in E.164"),
        ("PUBLIC_BASE_URL", "ftp://example.org", "PUBLIC_BASE_URL: must be an http:// or https:// URL"),
        ("TWILIO_API_BASE_URL", "not a url", "TWILIO_API_BASE_URL: must be an http:// or https:// URL"),
        ("REMINDER_PLAN_FILE", "/nonexistent/plan.toml", "REMINDER_PLAN_FILE: no such file"),
        ("OPS_TELEGRAM_CHAT_ID", "the ops room", "OPS_TELEGRAM_CHAT_ID: must be a numeric chat id"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE: must be an IANA time zone"),
        ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE: "),
        (
            "DEFAULT_EMERGENCY_NUMBER",
            "call 911",
            "DEFAULT_EMERGENCY_NUMBER: must be a short emergency number",
        ),
        ("MESSAGE_RETENTION_DAYS", "0", "MESSAGE_RETENTION_DAYS: "),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isupper() else "",
)
def test_a_wrong_value_is_one_line_naming_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message
    assert value not in message or name == "REMINDER_PLAN_FILE"  # no secret echoed back


def test_a_webhook_without_its_secret_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:ABC")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/webhooks/telegram")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET must be set"):
        load_settings(env_file=None)


def test_common_database_url_spellings_get_the_async_driver(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/ocrebot")
    assert load_settings(env_file=None).database_url == "postgresql+asyncpg://u@db:5432/ocrebot"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./x.db")
    assert load_settings(env_file=None).database_url == "sqlite+aiosqlite:///./x.db"


def test_dotenv_is_read_and_blank_values_mean_unset(clean_env: Path) -> None:
    (clean_env / ".env").write_text("HTTP_PORT=8123\nTELEGRAM_BOT_TOKEN=\nDEFAULT_LANGUAGE=es\n")
    settings = load_settings()
    assert settings.http_port == 8123
    assert settings.default_language == "es"
    assert settings.telegram_bot_token is None


def test_full_credentials_turn_both_channels_on(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-def_ghi")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "a" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t0k3n")
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG" + "b" * 32)
    settings = load_settings(env_file=None)
    assert settings.channel_report() == ["telegram channel on (polling)", "sms channel on"]
    assert not any("t0k3n" in line or "ABC-def" in line for line in settings.channel_report())


def test_no_default_holds_a_secret() -> None:
    secret_fields = {
        "telegram_bot_token",
        "telegram_webhook_secret",
        "twilio_account_sid",
        "twilio_auth_token",
    }
    for name in secret_fields:
        assert Settings.model_fields[name].default is None, name
