"""Invite codes: a clinic enrolls a patient, the patient opens its link (or texts its code) to claim it.

Owns linking: the address that used a valid code (unused, not expired, for a real patient still signing
up) now belongs to the invited patient, the patient's other open invites expire in the same transaction
(`storage.invites`), a half-done sign-up of the address is discarded, and sign-up goes on skipping what
the clinic already filled in (name, formulation, stage, doses). Consent is always the patient's own.
Also owns linking a Telegram chat to a patient already signed up (active or paused) by a "link" invite,
one an operator made after the patient signed up (`admin.enroll.make_invite`): the chat joins the patient
without sign-up, when it is new or only half-way through a sign-up of its own (discarded as above). It
becomes the patient's one Telegram chat: earlier chats of the patient (active or blocked) are detached and
deleted, so an old phone or account neither gets messages nor reads the record (writing again, it is a
stranger), the switch goes in the timeline, and the outbox is replanned so pending
messages take Telegram by the channel order. SMS consent is untouched. A chat of another signed-up patient
is refused and nothing changes. A sign-up invite (any code not made as a link invite,
`storage.invites.made_for_link`) never links a patient past sign-up.
Must not import `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog import course, records, signup
from bot.dialog.turn import Turn
from storage import invites, patients, reachability
from storage.models import AddressState, Channel, Invite, Patient, PatientStatus

_CLINIC_FIELDS = ("display_name", "formulation", "stage")
LINKED_ACTION = "channel_linked"  # the timeline entry of a chat linked by invite


async def redeem(turn: Turn, code: str) -> None:
    """Links the address to the invited patient, or says why the code cannot be used."""
    invite = await records.find_invite(turn.session, code.strip())
    if invite is not None and invite.patient_id == turn.patient.id:
        turn.note("invite_same")
        await _carry_on(turn)
        return
    signed_up = await _signed_up_target(turn, invite)
    if invite is not None and signed_up is not None:
        await _link(turn, invite, signed_up)
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


async def _signed_up_target(turn: Turn, invite: Invite | None) -> Patient | None:
    """Returns the invited patient when the code is a link invite for this Telegram chat: open, made by an
    operator to link a chat, for a real patient who is active or paused."""
    if invite is None or invite.used_at is not None or invite.expires_at <= turn.now:
        return None
    if turn.address.channel is not Channel.TELEGRAM:
        return None  # a link invite is for a Telegram chat; an SMS number is the patient's own at sign-up
    target = await turn.session.get(Patient, invite.patient_id)
    if target is None or target.sandbox or target.status not in invites.LINKABLE:
        return None
    if not await invites.made_for_link(turn.session, invite):
        return None  # a sign-up invite left over from before sign-up links nobody
    return target


async def _link(turn: Turn, invite: Invite, target: Patient) -> None:
    """Attaches the chat to `target` without sign-up; refuses when the chat is another signed-up patient's."""
    if turn.patient.status is not PatientStatus.SIGNING_UP:
        turn.say("invite_other")  # the chat's own record stays as it is
        return
    if not await invites.use(turn.session, invite.id, turn.now):
        turn.note("invite_bad")  # another chat used it a moment ago
        await _carry_on(turn)
        return
    old = turn.patient
    replaced = await patients.addresses_on(turn.session, target.id, Channel.TELEGRAM)
    turn.address.patient_id = target.id
    if turn.address.state is not AddressState.ACTIVE:
        turn.address.state, turn.address.state_changed_at = AddressState.ACTIVE, turn.now
    for earlier in replaced:  # one chat: the newest; an old phone or account keeps no way into the record
        await turn.session.delete(earlier)
    await invites.expire_open(turn.session, target.id, turn.now, keep_id=invite.id)
    await turn.session.flush()
    if await records.other_addresses(turn.session, old.id, turn.address.id) == 0:
        await records.delete_patient(turn.session, old)
    turn.patient = target
    cause = "telegram: a chat was linked by invite" + (
        f"; it replaces {len(replaced)} earlier chat(s)" if replaced else ""
    )
    await reachability.record_switch(
        turn.session, target.id, Channel.TELEGRAM, AddressState.ACTIVE, turn.now, cause, action=LINKED_ACTION
    )
    turn.idle()  # the discarded sign-up's step is gone with it
    turn.patient_changed()
    turn.replan = True  # pending messages go to this chat now, by the channel order
    turn.say("invite_linked")


async def _carry_on(turn: Turn) -> None:
    if turn.patient.status is PatientStatus.SIGNING_UP and turn.flow != signup.FLOW:
        await signup.begin(turn, {})
    else:
        await turn.ask()
