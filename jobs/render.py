"""The production renderer: a claimed outbox row becomes the patient's text, from `bot.outbound` templates.

Owns only the gathering of what a template may say (the dose the row is about, its place and local time,
the formulation, the last dose for a booking nudge, the emergency number) from the database. The words
live in bot/outbound_texts.toml; the dispatcher owns when and where a row goes.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbound import OutboundContext, OutboundTexts, Rendered, render_outbound
from care.clock import Clock
from care.tips import TIP_KIND
from care.triage import TriagePolicy
from jobs.tips import render_tip
from storage import outbox, patients
from storage.models import Channel, Dose, DoseStatus, Patient, TreatmentCourse
from storage.outbox import ClaimedMessage


class OutboxRenderer:
    """Renders rows for the dispatcher (`jobs.dispatcher.Renderer`).

    clock: the sending instant ("today"/"tomorrow" follow it). policy, default_emergency_number: the
    emergency number check-ins quote: the patient's country's, else the default, else none (the text then
    says "your local emergency number"). texts: the templates (the default file when None).
    """

    def __init__(
        self,
        clock: Clock,
        policy: TriagePolicy,
        default_emergency_number: str | None,
        texts: OutboundTexts | None = None,
    ) -> None:
        self._clock = clock
        self._policy = policy
        self._default_number = default_emergency_number
        self._texts = texts

    async def __call__(
        self, session: AsyncSession, message: ClaimedMessage, patient: Patient, channel: Channel
    ) -> Rendered:
        if message.kind in outbox.QUEUED_TEXT_KINDS:  # words written when queued, sent as they are
            text = await patients.queued_text(session, message.id)
            if text is None:
                raise LookupError(f"{message.kind} message {message.id} has no queued text")
            return Rendered(text, ())
        if message.kind == TIP_KIND:  # a weekly tip: a library topic, not a template
            return await render_tip(session, patient, channel)
        zone = ZoneInfo(patient.timezone)
        dose = await session.get(Dose, message.dose_id) if message.dose_id is not None else None
        if dose is None:  # the booking nudge: about the last dose given
            dose = await _last_given(session, patient.id)
        formulation = await _formulation(session, patient, dose)
        given = dose is not None and dose.status is DoseStatus.GIVEN and dose.given_at is not None
        context = OutboundContext(
            display_name=patient.display_name,
            starts_at_local=_local(dose.planned_at, zone) if dose is not None and message.dose_id else None,
            location=dose.location if dose is not None else None,
            formulation=formulation,
            dose_number=dose.number if dose is not None else 1,
            last_dose_local=_local(dose.given_at, zone) if given and dose is not None else None,
            emergency_number=self._policy.emergency_numbers.get((patient.country or "").upper())
            or self._default_number,
            sending_at_local=self._clock.now().astimezone(zone),
        )
        touchpoint = message.touchpoint_id or message.kind
        return render_outbound(touchpoint, context, patient.language.value, channel.value, texts=self._texts)


def _local(instant: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if instant is None else instant.astimezone(zone)


async def _last_given(session: AsyncSession, patient_id: int) -> Dose | None:
    return await session.scalar(
        select(Dose)
        .join(TreatmentCourse, TreatmentCourse.id == Dose.course_id)
        .where(TreatmentCourse.patient_id == patient_id, Dose.status == DoseStatus.GIVEN)
        .order_by(Dose.given_at.desc())
        .limit(1)
    )


async def _formulation(session: AsyncSession, patient: Patient, dose: Dose | None) -> str:
    if dose is not None:
        course = await session.get(TreatmentCourse, dose.course_id)
        if course is not None:
            return course.formulation.value
    return patient.formulation.value if patient.formulation is not None else "iv"
