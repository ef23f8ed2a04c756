"""How long a dose appointment is expected to take, from premedication to the end of observation.

Owns the label's minimum times per dose (facts 4-6, 8, 12-13, 17-22 of shared/clinical-facts.md). They are
minimums for planning: infusions run longer when slowed or interrupted (fact 8), so check-ins are timed from
the expected end, never before it. Must not import anything outside the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from care.formulation import DoseKind, Formulation, dose_kind
from care.wall_clock import require_aware


@dataclass(frozen=True)
class DoseDuration:
    """The expected phases of one dose appointment."""

    premedication_lead: timedelta  # premedication is given this long before the dose starts
    administration: timedelta  # the infusion or injection itself
    observation: timedelta  # monitoring after the infusion or injection ends

    @property
    def total(self) -> timedelta:
        """Returns the whole expected appointment, from premedication to the end of observation."""
        return self.premedication_lead + self.administration + self.observation


# IV premedication: a corticosteroid about 30 min before and an antihistamine 30-60 min before each infusion
# (facts 17, 19); we plan for the longer lead so the expected end is not too early.
_IV_PREMEDICATION = timedelta(minutes=60)
# SC premedication: oral corticosteroid and antihistamine at least 30 min before (facts 12, 18).
_SC_PREMEDICATION = timedelta(minutes=30)

_IV_300 = DoseDuration(
    premedication_lead=_IV_PREMEDICATION,
    administration=timedelta(hours=2, minutes=30),  # fact 4: each 300 mg infusion takes at least 2.5 h
    observation=timedelta(hours=1),  # fact 20: at least 1 h after each infusion
)
_IV_600 = DoseDuration(
    premedication_lead=_IV_PREMEDICATION,
    # fact 5: the standard 600 mg infusion takes at least 3.5 h. The 2 h option (fact 6) is the clinic's
    # choice for patients with no prior serious reaction; we never assume it.
    administration=timedelta(hours=3, minutes=30),
    observation=timedelta(hours=1),  # fact 20
)
_SC_FIRST = DoseDuration(
    premedication_lead=_SC_PREMEDICATION,
    administration=timedelta(minutes=10),  # fact 11: about 10 min
    observation=timedelta(hours=1),  # facts 13, 22: at least 1 h after the first injection
)
_SC_LATER = DoseDuration(
    premedication_lead=_SC_PREMEDICATION,
    administration=timedelta(minutes=10),  # fact 11
    observation=timedelta(minutes=15),  # facts 13, 22: at least 15 min after later injections
)


def expected_duration(formulation: Formulation, dose_number: int) -> DoseDuration:
    """Returns the expected phases of the 1-based `dose_number` in a course of `formulation`."""
    kind = dose_kind(formulation, dose_number)
    if kind in (DoseKind.IV_INITIAL_1, DoseKind.IV_INITIAL_2):
        return _IV_300
    if kind is DoseKind.IV_600:
        return _IV_600
    return _SC_FIRST if dose_number == 1 else _SC_LATER


def expected_end(start: datetime, duration: DoseDuration) -> datetime:
    """Returns when an appointment that starts at `start` (premedication included) is expected to end."""
    return require_aware(start, "start") + duration.total
