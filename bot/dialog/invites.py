"""Invite codes: a clinic enrolls a patient, the patient opens its link (or texts its code) to claim it.

Owns linking: the address that used a valid code (unused, not expired, for a real patient still signing
up) now belongs to the invited patient, the patient's other open invites expire in the same transaction
(`storage.invites`), a half-done sign-up of the address is discarded, and sign-up goes on skipping what
the clinic already filled in (name, formulation, stage, doses). Consent is always the patient's own.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog import course, records, signup
from bot.dialog.turn import Turn
from storage import invites
from storage.models import Invite, Patient, PatientStatus

_CLINIC_FIELDS = ("display_name", "formulation", "stage")


async def redeem(turn: Turn, code: str) -> None:
    """Links the address to the invited patient, or says why the code cannot be used."""
    invite = await records.find_invite(turn.session, code.strip())
    if invite is not None and invite.patient_id == turn.patient.id:
        turn.note("invite_same")
        await _carry_on(turn)
        return
    target = await _target(turn, invite)
    if invite is None or target is None:
        turn.note("invite_bad")
        await _carry_on(turn)
        return
    if turn.patient.status is not PatientStatus.SIGNING_UP:
        turn.say("invite_other")
        return
    old = turn.patient
    turn.address.patient_id = target.id
    invite.used_at = turn.now
    await invites.expire_open(turn.session, target.id, turn.now, keep_id=invite.id)
    await turn.session.flush()
    if await records.other_addresses(turn.session, old.id, turn.address.id) == 0:
        await records.delete_patient(turn.session, old)
    turn.patient = target
    turn.note("invite_ok")
    active, doses = await course.load(turn)
    if active is not None and target.formulation is None:
        target.formulation = active.formulation
    turn.patient_changed()
    data: dict[str, object] = {
        "invite": True,
        "invite_id": invite.id,
        "fixed": [name for name in _CLINIC_FIELDS if getattr(target, name)],
    }
    if course.known_given(doses):
        data["course_given"] = True
    if any(dose.planned_at > turn.now for dose in records.planned_doses(doses)):
        data["course_planned"] = True
    await signup.begin(turn, data)


async def _target(turn: Turn, invite: Invite | None) -> Patient | None:
    """Returns the invited patient when the code may link: unused, unexpired, a real patient signing up.

    A patient already signed up (or paused, stopped, erased) is never linked by a code: a leftover code
    texted to a mistyped number must not hand a stranger someone's record. Sandbox patients never reach a
    real channel.
    """
    if invite is None or invite.used_at is not None or invite.expires_at <= turn.now:
        return None
    target = await turn.session.get(Patient, invite.patient_id)
    if target is None or target.sandbox or target.status is not PatientStatus.SIGNING_UP:
        return None
    return target


async def _carry_on(turn: Turn) -> None:
    if turn.patient.status is PatientStatus.SIGNING_UP and turn.flow != signup.FLOW:
        await signup.begin(turn, {})
    else:
        await turn.ask()
