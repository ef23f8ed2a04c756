"""Who is calling the console or the API: a signed session cookie or a Bearer token, and what they may do.

Owns the request-level checks: `page_actor` (pages: no session -> redirect to the login page), `api_actor`
(API: no session or token -> 401), `require_role` (a viewer changing something -> 403) and `check_csrf`
(every form post and every cookie-authenticated API change carries the session's CSRF token; Bearer calls
need none, a browser never sends them by itself). Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from admin import accounts
from admin.security import CookieSigner, SessionData
from storage.models import Operator, OperatorRole

log = logging.getLogger(__name__)

SESSION_COOKIE = "ocrebot_session"
PRELOGIN_COOKIE = "ocrebot_prelogin"
SESSION_MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class Rank(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3


RANKS = {
    OperatorRole.VIEWER: Rank.VIEWER,
    OperatorRole.OPERATOR: Rank.OPERATOR,
    OperatorRole.ADMIN: Rank.ADMIN,
}


@dataclass(frozen=True)
class Console:
    """The console's per-app state: the cookie signer and whether cookies are Secure (https only)."""

    signer: CookieSigner
    secure_cookies: bool

    @classmethod
    def from_secret(cls, secret: str | None, public_base_url: str) -> Console:
        """Builds it from SESSION_SECRET, or from a random key (logged: sessions end on restart)."""
        if secret is None:
            log.warning("SESSION_SECRET is not set: console sessions use a random key and end on restart")
            key = secrets.token_bytes(32)
        else:
            key = secret.encode()
        return cls(CookieSigner(key), public_base_url.startswith("https://"))


@dataclass(frozen=True)
class Actor:
    """The signed-in operator of this request; `session_id` is None for a Bearer token."""

    operator_id: int
    email: str
    role: OperatorRole
    session_id: str | None

    @property
    def rank(self) -> Rank:
        return RANKS[self.role]

    def may(self, role: OperatorRole) -> bool:
        """Tells whether this operator has at least `role`."""
        return self.rank >= RANKS[role]


class LoginRequired(Exception):
    """A page needs a session; the app answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def console_of(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def now_of(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.services.clock.now()


def session_of(request: Request) -> SessionData | None:
    """Returns the valid session cookie's data, or None."""
    now_s = int(now_of(request).timestamp())
    return console_of(request).signer.load_session(
        request.cookies.get(SESSION_COOKIE), now_s=now_s, max_age_s=SESSION_MAX_AGE_S
    )


def _actor(operator: Operator | None, session_id: str | None) -> Actor | None:
    if operator is None or not operator.active:
        return None
    return Actor(operator.id, operator.email, operator.role, session_id)


async def current_actor(request: Request) -> Actor | None:
    """Returns who calls: a Bearer token wins over a cookie; None when neither is valid."""
    services = request.app.state.services
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        async with services.sessions() as db, db.begin():
            return _actor(await accounts.operator_for_token(db, token.strip(), now_of(request)), None)
    data = session_of(request)
    if data is None:
        return None
    async with services.sessions() as db:
        return _actor(await db.get(Operator, data.operator_id), data.session_id)


async def api_actor(request: Request) -> Actor:
    """The API's caller, or 401 with a Bearer challenge."""
    actor = await current_actor(request)
    if actor is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "sign in or send a Bearer token", {"WWW-Authenticate": "Bearer"}
        )
    request.state.actor = actor
    return actor


async def page_actor(request: Request) -> Actor:
    """The console page's operator, or a redirect to the login page that comes back here."""
    actor = await current_actor(request)
    if actor is None or actor.session_id is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    request.state.actor = actor
    return actor


async def check_csrf(request: Request, actor: Actor) -> None:
    """Raises 403 unless a cookie-authenticated change carries its session's CSRF token."""
    if actor.session_id is None:
        return  # a Bearer token: browsers never attach it on their own
    token = request.headers.get(CSRF_HEADER)
    form = None
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        token = str(form.get(CSRF_FIELD) or "")
    if not console_of(request).signer.csrf_ok(actor.session_id, token):
        if form is not None:
            await form.close()  # its uploaded files: the route that would close them does not run
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def require_role(role: OperatorRole, *, page: bool = False):  # type: ignore[no-untyped-def]
    """A dependency: the caller has at least `role` (else 403) and, for a change, a valid CSRF token."""
    base = page_actor if page else api_actor

    async def dependency(request: Request, actor: Actor = Depends(base)) -> Actor:  # noqa: B008
        if not actor.may(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role.value} role")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await check_csrf(request, actor)
        return actor

    return dependency


def login_url(next_path: str) -> str:
    """The login page's URL that returns to `next_path` afterwards."""
    return f"/admin/login?next={quote(next_path, safe='')}"


def safe_next(next_path: str | None) -> str:
    """Returns `next_path` if it is a console path on this site, else the dashboard (no open redirect)."""
    if next_path and next_path.startswith("/admin") and not next_path.startswith("//"):
        return next_path
    return "/admin/"
