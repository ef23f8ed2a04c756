"""Fakes of the outside services, at their HTTP boundary."""

import os

# python-telegram-bot 22 warns on `RetryAfter.retry_after` as int;
# opt in to timedelta (its documented switch).
os.environ.setdefault("PTB_TIMEDELTA", "true")
