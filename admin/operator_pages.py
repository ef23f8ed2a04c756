"""Operator management as a console page (`/admin/operators`) and JSON API routes (`/api/operators`).

Admins only: operators and viewers get 403. Each change is one transaction with its audit row. A created
operator's password is the admin's, or a generated one shown once (never stored in clear, never logged).
Must not import `bot` or `ocrebot`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from admin import operators
from admin.accounts import AccountError
from admin.auth import Actor, now_of, require_role
from admin.rendering import render
from storage.models import Operator, OperatorRole

router = APIRouter()
PageAdmin = Annotated[Actor, Depends(require_role(OperatorRole.ADMIN, page=True))]
ApiAdmin = Annotated[Actor, Depends(require_role(OperatorRole.ADMIN))]

NOTICES = {
    "role": "Role changed.",
    "deactivate": "Operator deactivated: their sessions and API tokens no longer work.",
    "reactivate": "Operator reactivated.",
    "revoke": "API token revoked.",
    "created": "Operator created.",
}


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class OperatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: OperatorRole
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    tokens: list[TokenOut] = []


class OperatorIn(BaseModel):
    """A new operator; without a password, one is generated and returned once."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    role: OperatorRole
    password: str | None = Field(default=None, min_length=operators.MIN_PASSWORD_LENGTH, max_length=1024)


class OperatorCreated(BaseModel):
    operator: OperatorOut
    password: str | None = Field(description="the generated password, shown only now; null if you gave one")


class OperatorChange(BaseModel):
    """A role and/or active flag to set."""

    model_config = ConfigDict(extra="forbid")

    role: OperatorRole | None = None
    active: bool | None = None


class RevokeIn(BaseModel):
    """One token to revoke; without it, all of the operator's tokens."""

    model_config = ConfigDict(extra="forbid")

    token_id: int | None = Field(default=None, ge=1)


class RevokeOut(BaseModel):
    revoked: int


def _out(operator: Operator, tokens: list[object] | None = None) -> OperatorOut:
    return OperatorOut.model_validate(operator).model_copy(
        update={"tokens": [TokenOut.model_validate(t) for t in tokens or []]}
    )


# API ------------------------------------------------------------------------------------------------------


@router.get("/api/operators", response_model=list[OperatorOut], tags=["operators"])
async def list_operators(request: Request, actor: ApiAdmin) -> list[OperatorOut]:
    """Every operator with their API tokens (hashes never leave the database)."""
    async with request.app.state.services.sessions() as session:
        rows = await operators.list_operators(session)
    return [_out(row.operator, list(row.tokens)) for row in rows]


@router.post("/api/operators", response_model=OperatorCreated, status_code=201, tags=["operators"])
async def create_operator(request: Request, actor: ApiAdmin, body: OperatorIn) -> OperatorCreated:
    """Adds an operator with the given or a generated password."""
    try:
        async with request.app.state.services.sessions() as session, session.begin():
            operator, generated = await operators.create(
                session, body.email, body.role, body.password, by=actor.operator_id, now=now_of(request)
            )
            out = _out(operator)
    except AccountError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return OperatorCreated(operator=out, password=generated)


@router.patch("/api/operators/{operator_id}", response_model=OperatorOut, tags=["operators"])
async def change_operator(
    request: Request, actor: ApiAdmin, operator_id: int, body: OperatorChange
) -> OperatorOut:
    """Changes a role or (de)activates; 409 when it would leave no active admin."""
    try:
        async with request.app.state.services.sessions() as session, session.begin():
            operator = await operators.change(
                session,
                operator_id,
                role=body.role,
                active=body.active,
                by=actor.operator_id,
                now=now_of(request),
            )
            out = _out(operator)
    except operators.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except operators.LastAdmin as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return out


@router.post("/api/operators/{operator_id}/tokens/revoke", response_model=RevokeOut, tags=["operators"])
async def revoke_tokens(
    request: Request, actor: ApiAdmin, operator_id: int, body: RevokeIn | None = None
) -> RevokeOut:
    """Revokes one API token of the operator (`token_id`), or all of them."""
    try:
        async with request.app.state.services.sessions() as session, session.begin():
            count = await operators.revoke_tokens(
                session,
                operator_id,
                token_id=body.token_id if body else None,
                by=actor.operator_id,
                now=now_of(request),
            )
    except operators.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return RevokeOut(revoked=count)


# pages ----------------------------------------------------------------------------------------------------


async def _page(
    request: Request,
    actor: Actor,
    *,
    error: str | None = None,
    created: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    async with request.app.state.services.sessions() as session:
        rows = await operators.list_operators(session)
    return render(
        request,
        "operators.html",
        actor,
        status_code=status_code,
        rows=rows,
        roles=list(OperatorRole),
        error=error,
        created=created,
        notice=NOTICES.get(request.query_params.get("notice", "")),
    )


def _back(notice: str) -> Response:
    return RedirectResponse(f"/admin/operators?notice={notice}", status.HTTP_303_SEE_OTHER)


@router.get("/admin/operators", include_in_schema=False)
async def operators_page(request: Request, actor: PageAdmin) -> Response:
    """The operators, their roles and tokens, and the form to add one."""
    return await _page(request, actor)


@router.post("/admin/operators", include_in_schema=False)
async def create_page(
    request: Request,
    actor: PageAdmin,
    email: Annotated[str, Form(min_length=3, max_length=254)],
    role: Annotated[OperatorRole, Form()],
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Adds an operator; a generated password is shown on this answer only."""
    try:
        async with request.app.state.services.sessions() as session, session.begin():
            operator, generated = await operators.create(
                session, email, role, password or None, by=actor.operator_id, now=now_of(request)
            )
            email_out = operator.email
    except AccountError as exc:
        return await _page(request, actor, error=str(exc).capitalize() + ".", status_code=422)
    if generated is None:
        return _back("created")
    return await _page(request, actor, created=(email_out, generated))


@router.post("/admin/operators/{operator_id}/role", include_in_schema=False)
async def role_page(
    request: Request, actor: PageAdmin, operator_id: int, role: Annotated[OperatorRole, Form()]
) -> Response:
    """Changes an operator's role."""
    return await _change_page(request, actor, operator_id, "role", role=role)


@router.post("/admin/operators/{operator_id}/active", include_in_schema=False)
async def active_page(
    request: Request, actor: PageAdmin, operator_id: int, active: Annotated[bool, Form()]
) -> Response:
    """Deactivates or reactivates an operator."""
    return await _change_page(
        request, actor, operator_id, "reactivate" if active else "deactivate", active=active
    )


async def _change_page(
    request: Request,
    actor: Actor,
    operator_id: int,
    notice: str,
    *,
    role: OperatorRole | None = None,
    active: bool | None = None,
) -> Response:
    try:
        async with request.app.state.services.sessions() as session, session.begin():
            await operators.change(
                session, operator_id, role=role, active=active, by=actor.operator_id, now=now_of(request)
            )
    except operators.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such operator") from None
    except operators.LastAdmin as exc:
        return await _page(request, actor, error=str(exc).capitalize() + ".", status_code=409)
    if operator_id == actor.operator_id and (active is False or role not in (None, OperatorRole.ADMIN)):
        return RedirectResponse("/admin/", status.HTTP_303_SEE_OTHER)  # no longer allowed here
    return _back(notice)


@router.post("/admin/operators/{operator_id}/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke_page(request: Request, actor: PageAdmin, operator_id: int, token_id: int) -> Response:
    """Revokes one API token."""
    try:
        async with request.app.state.services.sessions() as session, session.begin():
            await operators.revoke_tokens(
                session, operator_id, token_id=token_id, by=actor.operator_id, now=now_of(request)
            )
    except operators.NotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such token") from None
    return _back("revoke")
