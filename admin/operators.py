"""Operator management for admins: list, create, change role, deactivate or reactivate, revoke API tokens.

Nothing here commits; the caller owns the transaction. The last active admin can be neither demoted nor
deactivated (someone must be able to manage operators); the active admins are locked while that is checked,
so two admins demoting each other at once cannot both succeed. A deactivated operator's sessions and tokens
stop working at their next request (`admin.auth` reads the row each time). Audit rows hold ids and roles.
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from admin.accounts import AccountError, audit, find_operator, normalize_email
from admin.security import hash_password
from storage.models import ApiToken, Operator, OperatorRole

MIN_PASSWORD_LENGTH = 12  # as `ocrebot operator create`


class NotFound(LookupError):
    """No such operator (or token of that operator)."""


class LastAdmin(ValueError):
    """The change would leave no active admin."""


@dataclass(frozen=True)
class OperatorRow:
    """An operator and their API tokens, newest first."""

    operator: Operator
    tokens: list[ApiToken]


async def list_operators(session: AsyncSession) -> list[OperatorRow]:
    """Returns every operator, by email, with their tokens."""
    operators = list(await session.scalars(select(Operator).order_by(Operator.email)))
    tokens = list(await session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
    return [OperatorRow(op, [t for t in tokens if t.operator_id == op.id]) for op in operators]


def new_password() -> str:
    """Returns a random initial password (shown once to the admin, who hands it over)."""
    return secrets.token_urlsafe(15)


async def create(
    session: AsyncSession, email: str, role: OperatorRole, password: str | None, *, by: int, now: datetime
) -> tuple[Operator, str | None]:
    """Adds an active operator; returns it and the generated password when none was given."""
    email = normalize_email(email)
    if "@" not in email.strip("@") or len(email) > 254 or any(char.isspace() for char in email):
        raise AccountError("the email must look like name@clinic.example")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if await find_operator(session, email) is not None:
        raise AccountError("an operator with this email exists")
    generated = None if password is not None else new_password()
    # argon2 takes about a second of CPU: in a thread, not on the event loop
    password_hash = await asyncio.to_thread(hash_password, password or generated or "")
    operator = Operator(email=email, password_hash=password_hash, role=role, active=True, created_at=now)
    session.add(operator)
    await session.flush()
    await audit(
        session, now, operator_id=by, action="operator.create", detail={"operator": operator.id, "role": role}
    )
    return operator, generated


async def _locked(session: AsyncSession, operator_id: int) -> Operator:
    operator = await session.scalar(
        select(Operator)
        .where(Operator.id == operator_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if operator is None:
        raise NotFound(f"operator {operator_id} does not exist")
    return operator


async def _lock_active_admins(session: AsyncSession) -> list[int]:
    """Locks the active admins' rows, by id (every caller locks in the same order: no deadlock)."""
    return list(
        await session.scalars(
            select(Operator.id)
            .where(Operator.role == OperatorRole.ADMIN, Operator.active.is_(True))
            .order_by(Operator.id)
            .with_for_update()
        )
    )


async def change(
    session: AsyncSession,
    operator_id: int,
    *,
    role: OperatorRole | None = None,
    active: bool | None = None,
    by: int,
    now: datetime,
) -> Operator:
    """Changes an operator's role and/or active flag (each change audited); NotFound or LastAdmin."""
    demoting = role is not None and role is not OperatorRole.ADMIN
    # the admins first, then the target: a concurrent demotion waits here and then sees this one's outcome
    admins = await _lock_active_admins(session) if demoting or active is False else []
    operator = await _locked(session, operator_id)
    if (demoting or active is False) and operator_id in admins and len(admins) <= 1:
        raise LastAdmin("this is the last active admin: make another admin first")
    if role is not None and role is not operator.role:
        before = operator.role
        operator.role = role
        await audit(
            session,
            now,
            operator_id=by,
            action="operator.role",
            detail={"operator": operator.id, "from": before, "to": role},
        )
    if active is not None and active is not operator.active:
        operator.active = active
        action = "operator.reactivate" if active else "operator.deactivate"
        await audit(session, now, operator_id=by, action=action, detail={"operator": operator.id})
    await session.flush()
    return operator


async def revoke_tokens(
    session: AsyncSession, operator_id: int, *, token_id: int | None = None, by: int, now: datetime
) -> int:
    """Revokes one of the operator's API tokens, or all of them; returns how many were still valid."""
    await _locked(session, operator_id)
    query = update(ApiToken).where(ApiToken.operator_id == operator_id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        exists = await session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.operator_id == operator_id)
        )
        if not exists:
            raise NotFound(f"operator {operator_id} has no token {token_id}")
        query = query.where(ApiToken.id == token_id)
    result = await session.execute(query.values(revoked_at=now))
    count = int(result.rowcount)
    detail: dict[str, object] = {"operator": operator_id, "revoked": count}
    if token_id is not None:
        detail["token"] = token_id
    await audit(session, now, operator_id=by, action="api_token.revoke", detail=detail)
    return count
