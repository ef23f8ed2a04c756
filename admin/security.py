"""Secrets of the console: password hashes (argon2), API tokens (SHA-256 of a random token), signed cookies.

Owns the cryptography only: no database, no HTTP. A session cookie is `payload.signature`, where payload is
base64url JSON {"op": operator id, "sid": random session id, "iat": issued at (unix s)} and the signature an
HMAC-SHA256 under the console's key; CSRF tokens are HMACs of the session id, so a form token is valid
exactly as long as its session. Must not import `bot`, `jobs` or `ocrebot`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "ocb_"
_HASHER = PasswordHasher()  # argon2id with the library's recommended (RFC 9106 low-memory) parameters


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown email, so it takes as long as a wrong password."""
    return _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """Returns the argon2id hash of `password` (salt and parameters inside the string); CPU-heavy (about a
    second on a small machine): from async code, call it in a thread."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Tells whether `password` matches; with no hash, spends the same time and says no. CPU-heavy, like
    `hash_password`."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """Returns a fresh API token, shown once to whoever asked; only `hash_api_token` of it is stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """Returns the hex SHA-256 of a token (tokens are random, so a plain hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def throttle_key(email: str, client: str) -> str:
    """Returns the hex SHA-256 naming (email, client address) in the failed sign-in counts."""
    return hashlib.sha256(f"{email.strip().lower()}\x00{client}".encode()).hexdigest()


@dataclass(frozen=True)
class SessionData:
    """What a session cookie carries: the operator, a random session id, when it was issued (unix s)."""

    operator_id: int
    session_id: str
    issued_at: int


class CookieSigner:
    """Signs and checks session cookies and CSRF tokens under one key.

    key: at least 32 bytes; from SESSION_SECRET, or random per process (sessions then end on restart).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the session key must be at least 32 bytes")
        self._key = key

    def _mac(self, purpose: str, data: bytes) -> str:
        digest = hmac.new(self._key, purpose.encode() + b"\x00" + data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def dump_session(self, session: SessionData) -> str:
        """Returns the cookie value for `session`."""
        body = json.dumps({"op": session.operator_id, "sid": session.session_id, "iat": session.issued_at})
        payload = base64.urlsafe_b64encode(body.encode()).rstrip(b"=").decode()
        return f"{payload}.{self._mac('session', payload.encode())}"

    def load_session(self, value: str | None, *, now_s: int, max_age_s: int) -> SessionData | None:
        """Returns the session of a cookie value, or None when it is missing, forged, malformed or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        if not hmac.compare_digest(signature, self._mac("session", payload.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = SessionData(int(data["op"]), str(data["sid"]), int(data["iat"]))
        except (ValueError, KeyError, TypeError):
            return None
        if not (0 <= now_s - session.issued_at <= max_age_s):
            return None
        return session

    def csrf_token(self, session_id: str) -> str:
        """Returns the form token bound to one session (or to one pre-login nonce)."""
        return self._mac("csrf", session_id.encode())

    def csrf_ok(self, session_id: str | None, token: str | None) -> bool:
        """Tells whether `token` is the form token of `session_id`, in constant time."""
        if not session_id or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(session_id))
