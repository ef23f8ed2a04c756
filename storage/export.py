"""A patient's data export: everything stored about one patient, as one JSON-ready document.

Owns which rows belong to a patient for an export (the right of access): every table with a `patient_id`
column, and every table that hangs off one of those (doses off courses, dialog states off addresses), found
from the models' foreign keys so a table added later is exported without touching this module. The rows of
other patients never enter: each query is filtered by this patient's id or by ids of rows already theirs.
Operators' password hashes and API tokens are not about the patient and are not reachable. Must not
import `bot`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, Patient

FORMAT = "ocrebot-patient-export/1"
_PATIENT = Patient.__table__


def _owned_tables() -> list[tuple[sa.Table, sa.Column[Any], sa.Table]]:
    """(table, the column tying it to its owner, the owner's table), parents before children."""
    owned: dict[str, tuple[sa.Table, sa.Column[Any], sa.Table]] = {}
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table is _PATIENT or table.name in owned:
                continue
            link = _link(table, owned)
            if link is not None:
                owned[table.name] = (table, *link)
                changed = True
    return list(owned.values())


def _link(
    table: sa.Table, owned: dict[str, tuple[sa.Table, sa.Column[Any], sa.Table]]
) -> tuple[sa.Column[Any], sa.Table] | None:
    """The foreign key tying `table` to the patient, directly if it can, else through an owned table."""
    keys = sorted(table.foreign_keys, key=lambda key: key.parent.name)
    for key in keys:
        if key.column.table is _PATIENT:
            return key.parent, _PATIENT
    for key in keys:
        # Only a required (cascading) link makes a row the patient's; a nullable one (a log row pointing at
        # an outbox row) is reached by its own patient_id above or not at all.
        if key.column.table.name in owned and not key.parent.nullable:
            return key.parent, key.column.table
    return None


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _row(row: sa.Row[Any]) -> dict[str, Any]:
    return {name: _value(value) for name, value in row._mapping.items()}


async def export_patient(session: AsyncSession, patient_id: int, now: datetime) -> dict[str, Any] | None:
    """Returns everything stored about the patient as JSON-ready data, or None for no such patient."""
    found = (await session.execute(sa.select(_PATIENT).where(_PATIENT.c.id == patient_id))).first()
    if found is None:
        return None
    patient = _row(found)
    ids: dict[str, set[Any]] = {_PATIENT.name: {patient_id}}
    sections: dict[str, list[dict[str, Any]]] = {}
    for table, column, owner in _owned_tables():
        owner_ids = ids.get(owner.name, set())
        rows: list[dict[str, Any]] = []
        if owner_ids:
            query = sa.select(table).where(column.in_(sorted(owner_ids))).order_by(*table.primary_key.columns)
            rows = [_row(row) for row in await session.execute(query)]
        sections[table.name] = rows
        ids[table.name] = {row["id"] for row in rows if "id" in row}
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "patient": patient,
        "consent": {
            "version": patient["consent_version"],
            "consented_at": patient["consented_at"],
            "sms_consent": patient["sms_consent"],
        },
        **dict(sorted(sections.items())),
    }


def to_json(document: dict[str, Any]) -> bytes:
    """The export as indented UTF-8 JSON (readable by a person, loadable by a program)."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
