"""The two Ocrevus formulations and the kinds of dose each course is made of.

Owns which dose number is which kind and how many milligrams it holds. Facts cited are the numbered facts of
shared/clinical-facts.md. Must not import anything outside the standard library.
"""

from __future__ import annotations

from enum import StrEnum


class Formulation(StrEnum):
    """How ocrelizumab is given."""

    IV = "iv"  # OCREVUS, intravenous infusion
    SC = "sc"  # OCREVUS ZUNOVO, subcutaneous injection


class DoseKind(StrEnum):
    """One kind of dose in a course."""

    IV_INITIAL_1 = "iv_initial_300mg_infusion_1"
    IV_INITIAL_2 = "iv_initial_300mg_infusion_2"
    IV_600 = "iv_600mg"
    SC_920 = "sc_920mg"

    @property
    def amount_mg(self) -> int:
        """Returns the ocrelizumab dose of this kind in milligrams."""
        return _AMOUNT_MG[self]

    @property
    def is_six_monthly(self) -> bool:
        """Tells whether doses of this kind repeat every 6 months."""
        return self in (DoseKind.IV_600, DoseKind.SC_920)


_AMOUNT_MG = {
    DoseKind.IV_INITIAL_1: 300,  # fact 1: the initial 600 mg is split into two 300 mg infusions
    DoseKind.IV_INITIAL_2: 300,  # fact 1
    DoseKind.IV_600: 600,  # fact 2: later IV doses are a single 600 mg infusion
    DoseKind.SC_920: 920,  # fact 11: every SC dose is 920 mg, with no split starting dose
}


def dose_kind(formulation: Formulation, dose_number: int) -> DoseKind:
    """Returns the kind of the 1-based `dose_number` in a course of `formulation`."""
    if dose_number < 1:
        raise ValueError(f"dose_number starts at 1, got {dose_number}")
    if Formulation(formulation) is Formulation.SC:
        return DoseKind.SC_920  # fact 11
    if dose_number == 1:
        return DoseKind.IV_INITIAL_1  # facts 1, 16
    if dose_number == 2:
        return DoseKind.IV_INITIAL_2  # facts 1, 16
    return DoseKind.IV_600  # facts 2, 16
