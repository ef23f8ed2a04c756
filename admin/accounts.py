"""Operator accounts in the database: create, find, sign-in bookkeeping, API tokens, failed sign-ins, audit.

Nothing here commits; the caller owns the transaction. Audit rows name the operator and the patient by id
and say what was done; they never hold names, phone numbers, messages or answers.
Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.security import hash_api_token, hash_password, new_api_token
from storage.models import ActorType, ApiToken, AuditLog, LoginFailure, Operator, OperatorRole

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class AccountError(ValueError):
    """An account request that cannot be done (duplicate email, unknown operator); one line."""


def normalize_email(email: str) -> str:
    """Returns the email as stored: trimmed and lower-cased."""
    return email.strip().lower()


async def create_operator(
    session: AsyncSession, email: str, password: str, role: OperatorRole, now: datetime
) -> Operator:
    """Adds an active operator; raises AccountError when the email is taken or malformed."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("the email must look like name@clinic.example")
    if await find_operator(session, email) is not None:
        raise AccountError("an operator with this email exists")
    operator = Operator(
        email=email, password_hash=hash_password(password), role=role, active=True, created_at=now
    )
    session.add(operator)
    await session.flush()
    await audit(session, now, operator_id=None, action="operator.create", detail={"operator": operator.id})
    return operator


async def find_operator(session: AsyncSession, email: str) -> Operator | None:
    """Returns the operator with this email (any case), or None."""
    return await session.scalar(select(Operator).where(Operator.email == normalize_email(email)))


async def create_token(
    session: AsyncSession, operator: Operator, label: str | None, now: datetime, *, by: int | None = None
) -> str:
    """Stores a new API token's hash for `operator` and returns the token, which is never stored."""
    token = new_api_token()
    session.add(
        ApiToken(operator_id=operator.id, token_hash=hash_api_token(token), label=label, created_at=now)
    )
    await session.flush()
    await audit(session, now, operator_id=by, action="api_token.create", detail={"operator": operator.id})
    return token


async def operator_for_token(session: AsyncSession, token: str, now: datetime) -> Operator | None:
    """Returns the active operator a valid, unrevoked token belongs to, and notes its use; else None."""
    row = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_api_token(token), ApiToken.revoked_at.is_(None))
    )
    if row is None:
        return None
    operator = await session.get(Operator, row.operator_id)
    if operator is None or not operator.active:
        return None
    row.last_used_at = now
    return operator


async def recent_failures(session: AsyncSession, key_hash: str, now: datetime) -> int:
    """Counts failed sign-ins of this (email, client) within the throttling window."""
    count = await session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key_hash == key_hash, LoginFailure.at > now - FAILURE_WINDOW)
    )
    return int(count or 0)


async def note_failure(session: AsyncSession, key_hash: str, now: datetime) -> None:
    """Records one failed sign-in, and forgets those older than the window."""
    await session.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
    session.add(LoginFailure(key_hash=key_hash, at=now))
    await session.flush()


async def clear_failures(session: AsyncSession, key_hash: str) -> None:
    """Forgets the failed sign-ins of this (email, client) after a successful one."""
    await session.execute(delete(LoginFailure).where(LoginFailure.key_hash == key_hash))


async def keyed_entries(
    session: AsyncSession,
    action: str,
    key: str,
    *,
    operator_id: int | None = None,
    patient_id: int | None = None,
) -> list[AuditLog]:
    """Returns the audit rows of `action` whose detail keeps idempotency `key` (a form's nonce, an API's
    scoped key), oldest first; narrowed to the operator and the patient when given."""
    query = select(AuditLog).where(AuditLog.action == action, AuditLog.detail["key"].as_string() == key)
    if operator_id is not None:
        query = query.where(AuditLog.operator_id == operator_id)
    if patient_id is not None:
        query = query.where(AuditLog.patient_id == patient_id)
    return list(await session.scalars(query.order_by(AuditLog.id)))


async def audit(
    session: AsyncSession,
    at: datetime,
    *,
    operator_id: int | None,
    action: str,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Adds an audit row: an operator's (or the system's, with no operator) action, ids and codes only."""
    session.add(
        AuditLog(
            at=at,
            actor_type=ActorType.OPERATOR if operator_id is not None else ActorType.SYSTEM,
            operator_id=operator_id,
            patient_id=patient_id,
            action=action,
            detail=detail or {},
        )
    )
    await session.flush()
