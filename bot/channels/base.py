"""The outbound channel port: what a sender is given, and what it says happened.

Owns `Sender` (one provider: Telegram, SMS, the web simulator), `SendResult` (the outcome as values, so the
dispatcher decides retries without catching provider exceptions) and how a choice is tied to the message it
came with (`tag_option` / `untag_option_key`). Senders translate only: no database, no rules, no clock.
Must not import `storage`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.options import Option

__all__ = ["Option", "SendResult", "Sender", "tag_option", "untag_option_key"]


@dataclass(frozen=True)
class SendResult:
    """What a provider said about one message.

    ok: the provider accepted it; provider_id: its id for the message (delivery callbacks carry it).
    retry_after_s: the provider asked us to wait this long before trying again (rate limit).
    permanent: trying again will not help (bad address, rejected content); blocked: the recipient blocked us
    or opted out (always permanent; the address should not be used again). error: a short reason, never
    the message text or the address.
    """

    ok: bool
    provider_id: str | None = None
    retry_after_s: float | None = None
    permanent: bool = False
    blocked: bool = False
    error: str | None = None

    @classmethod
    def sent(cls, provider_id: str) -> SendResult:
        """The provider accepted the message."""
        return cls(ok=True, provider_id=provider_id)

    @classmethod
    def rate_limited(cls, retry_after_s: float, error: str) -> SendResult:
        """The provider asked us to come back after `retry_after_s` seconds."""
        return cls(ok=False, retry_after_s=retry_after_s, error=error)

    @classmethod
    def transient(cls, error: str) -> SendResult:
        """A failure worth retrying later (network, timeout, provider error)."""
        return cls(ok=False, error=error)

    @classmethod
    def rejected(cls, error: str) -> SendResult:
        """A failure retrying will not fix."""
        return cls(ok=False, permanent=True, error=error)

    @classmethod
    def blocked_by_recipient(cls, error: str) -> SendResult:
        """The recipient blocked us or opted out: permanent, and the address is done."""
        return cls(ok=False, permanent=True, blocked=True, error=error)

    @property
    def transient_failure(self) -> bool:
        """Tells whether this is a failure to retry with backoff (no retry_after, not permanent)."""
        return not self.ok and not self.permanent and self.retry_after_s is None


class Sender(Protocol):
    """Sends one message to one address of its channel; returns the outcome, never raises for the provider."""

    async def send(self, address: str, text: str, options: Sequence[Option]) -> SendResult:
        """Sends `text` with `options` as choices (buttons, or a numbered list) to `address`."""
        ...


def tag_option(message_id: int, option: Option) -> Option:
    """Returns `option` with its key prefixed by the scheduled message it belongs to, like "812:yes"."""
    return Option(key=f"{message_id}:{option.key}", label=option.label)


def untag_option_key(key: str) -> tuple[int, str] | None:
    """Returns (scheduled message id, option key) from a tagged key, or None when it is not one."""
    head, separator, tail = key.partition(":")
    if not separator or not head.isdigit() or not tail:
        return None
    return int(head), tail
