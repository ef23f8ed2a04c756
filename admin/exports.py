"""A patient's data export from the console: `GET /api/patients/{id}/export`, a JSON file, audited.

The document is `storage.export`'s; this module only checks who asks, writes the audit row (ids only) and
serves the file. Operators and admins may export; viewers may read the patient page but not take a copy of
the whole record away (a file leaves the console's access control). The page's "Export data" link points
here. Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response

from admin.accounts import audit
from admin.auth import Actor, now_of, require_role
from storage.export import export_patient, to_json
from storage.models import OperatorRole

router = APIRouter(prefix="/api", tags=["console"])
Exporter = Annotated[Actor, Depends(require_role(OperatorRole.OPERATOR))]


@router.get(
    "/patients/{patient_id}/export",
    responses={200: {"content": {"application/json": {}}, "description": "everything stored about them"}},
)
async def export_patient_data(request: Request, actor: Exporter, patient_id: int) -> Response:
    """Everything stored about one patient as a JSON file (the right of access); the export is audited."""
    now = now_of(request)
    async with request.app.state.services.sessions() as session, session.begin():
        document = await export_patient(session, patient_id, now)
        if document is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such patient")
        await audit(
            session, now, operator_id=actor.operator_id, action="patient.export", patient_id=patient_id
        )
    filename = f"ocrebot-patient-{patient_id}-{now:%Y%m%d}.json"
    return Response(
        to_json(document),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
