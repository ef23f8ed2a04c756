"""A choice offered to a patient: rendered as a Telegram button, a numbered SMS line or a web button."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One choice: `key` is what comes back when chosen, `label` what the patient reads."""

    key: str
    label: str
