"""/export (and EXPORT by SMS): the patient's own copy of everything stored about them, as a JSON file.

The document is `storage.export`'s. In Telegram (and the terminal chat) it comes as a file; an SMS cannot
carry a file, so by SMS the patient is told, kindly, that their clinic can give it to them, and the
request is audited so staff can see it was asked for. Every export or request leaves one audit row (ids and
the channel only), added unflushed at the end so the engine sees a write to commit. Must not import `jobs`,
`admin` or `ocrebot`.
"""

from __future__ import annotations

from bot.dialog.events import Attachment
from bot.dialog.turn import Turn
from storage.export import export_patient, to_json
from storage.models import ActorType, AuditLog, Channel

MIME = "application/json"


async def send_export(turn: Turn) -> None:
    """Sends the patient their data as a file, or by SMS says how to get it from the clinic."""
    by_sms = turn.address.channel is Channel.SMS
    if by_sms:
        turn.say("export_by_sms")
    else:
        document = await export_patient(turn.session, turn.patient.id, turn.now)
        assert document is not None  # the turn's own patient
        filename = f"my-ocrebot-data-{turn.now:%Y-%m-%d}.json"
        turn.send(turn.t("export_ready"), attachment=Attachment(filename, MIME, to_json(document)))
    turn.session.add(
        AuditLog(
            at=turn.now,
            actor_type=ActorType.PATIENT,
            patient_id=turn.patient.id,
            action="patient.export_requested" if by_sms else "patient.export",
            detail={"channel": turn.address.channel.value},
        )
    )
