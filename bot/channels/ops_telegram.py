"""The operators' alert channel: a flagged check-in sent to the clinic team's Telegram chat.

Owns `OpsTelegramAlerter` (an `bot.alerts.Alerter` over a python-telegram-bot `Bot`, the same Bot API base
URL as the patient channel) and `build_alerter` (it, or the logging stand-in when OPS_TELEGRAM_CHAT_ID is
unset). The message names the patient and quotes their answer: it goes to staff only. Logs carry ids and
levels, never the text. Must not import `storage`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from bot.alerts import Alert, Alerter, LoggingAlerter

_LEVELS = {
    "emergency": "🚨 EMERGENCY (told to call emergency services)",
    "clinic_now": "🔴 Call the clinic right away",
    "clinic_today": "🟠 Call the clinic today",
    "fine": "⚪ Fine",
}
_REASONS = {
    "answer": "Check-in answer",
    "no_answer": "No answer to the check-in, even after a reminder",
    "dose_unconfirmed": "Dose not confirmed for 3 days (was it given, or moved?)",
    "booking_gap": "No next dose booked 6 months after the last one",
    "unreachable": "Cannot be reached: every channel is blocked or opted out (scheduled messages wait)",
}
MAX_ANSWER_CHARS = 800


class AlertNotSent(RuntimeError):
    """Telegram did not take the alert; the message names the error type only."""


class OpsTelegramAlerter:
    """Sends alerts to one Telegram chat (a group, a channel, or a person).

    bot: an initialized `telegram.Bot` (the caller owns initialize and shutdown); chat_id: a numeric chat id
    or an @channel name (OPS_TELEGRAM_CHAT_ID).
    """

    def __init__(self, bot: Bot, chat_id: str) -> None:
        self._bot = bot
        self._chat_id: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id

    async def alert(self, alert: Alert) -> None:
        """Sends one alert; raises `AlertNotSent` when Telegram refuses or cannot be reached."""
        try:
            await self._bot.send_message(chat_id=self._chat_id, text=alert_text(alert))
        except TelegramError as exc:
            raise AlertNotSent(f"telegram: {type(exc).__name__}") from None


def alert_text(alert: Alert) -> str:
    """Returns the staff message for an alert (plain text: no markup to escape)."""
    answer = alert.answer if alert.answer is not None else "(no answer)"
    if len(answer) > MAX_ANSWER_CHARS:
        answer = answer[: MAX_ANSWER_CHARS - 1] + "…"
    lines = [
        _LEVELS.get(alert.level, alert.level),
        _REASONS.get(alert.reason, alert.reason),
        f"Patient #{alert.patient_id}" + (f": {alert.display_name}" if alert.display_name else ""),
        f"At: {alert.at:%Y-%m-%d %H:%M} UTC",
        f"Answer: {answer}",
        f"Check-in #{alert.check_in_id}: acknowledge it in the console.",
    ]
    return "\n".join(lines)


def build_alerter(bot: Bot | None, chat_id: str | None) -> Alerter:
    """Returns the ops Telegram alerter, or the logging one when there is no bot or no chat id."""
    if bot is None or not chat_id:
        return LoggingAlerter()
    return OpsTelegramAlerter(bot, chat_id)
