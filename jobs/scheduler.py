"""APScheduler wiring: the clock that wakes our jobs, never the store of what to send.

Owns the scheduler's defaults. Imports nothing of ours but may be given jobs from `jobs/`.
"""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

# APScheduler's default grace of 1 s silently drops a run missed during a restart (DESIGN decision 2).
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


def create_scheduler() -> AsyncIOScheduler:
    """Return an unstarted scheduler in UTC with our job defaults; start it inside the running loop."""
    return AsyncIOScheduler(timezone="UTC", job_defaults=dict(JOB_DEFAULTS))
