"""The web (sandbox) channel's sender: sandbox patients are reached only here, never by Telegram or SMS.

"Sending" stores nothing itself: the dispatcher writes the message_log row for every channel, and the
simulator page reads the log. Must not import `storage`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from bot.channels.base import Option, SendResult


class WebSender:
    """A sender that always succeeds with a local provider id, "web-<hex>"."""

    async def send(self, address: str, text: str, options: Sequence[Option]) -> SendResult:
        """Accepts the message for the simulator; it reads it back from the message log."""
        return SendResult.sent(f"web-{uuid.uuid4().hex}")
