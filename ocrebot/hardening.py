"""The HTTP server's guards: request size limits, rate limits, and security headers on every answer.

Owns three ASGI layers that `install(app, settings)` puts around the app (innermost first):
- body size: a request body above its route prefix's limit gets 413 with a short body (CSV uploads under
  `IMPORT_PREFIXES` get a larger limit; their routes refuse smaller files themselves); the Content-Length
  is checked before anything is read, and a body sent in chunks is counted as it arrives;
- rate: `/webhooks/*` and the console's sign-in POST get 429 with Retry-After past a token bucket per client
  address. The buckets live in this process's memory: with N processes a client gets N times the rate, and
  behind a proxy the client is the proxy unless it passes X-Forwarded-For from a trusted address (uvicorn's
  `--forwarded-allow-ips`);
- headers: CSP, nosniff, frame denial, Referrer-Policy, HSTS when PUBLIC_BASE_URL is https, and
  `Cache-Control: no-store` on console and API answers (they carry patient data).
Nothing here logs a request's content or its client address. Must not import `bot`, `jobs` or `admin`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The console's templates need inline event handlers (a confirm() on "unsubscribe") and may carry inline
# styles; everything else is served from this origin. No frames, no plugins, forms post only here.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
# FastAPI's Swagger UI page (/api/docs) loads its script and style from jsDelivr and runs an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_PATH = "/api/docs"
NO_STORE_PREFIXES = ("/admin", "/api")
NO_STORE_EXEMPT = ("/admin/static/",)
LOGIN_PATH = "/admin/login"
WEBHOOK_PREFIX = "/webhooks/"
IMPORT_PREFIXES = ("/admin/import", "/api/patients/import")  # CSV uploads: the console page and the API
HSTS = "max-age=31536000; includeSubDomains"


class HardeningSettings(Protocol):
    """What the guards read from the service's settings (structural: `ocrebot.settings.Settings`)."""

    public_base_url: str
    request_max_body_bytes: int
    webhook_max_body_bytes: int
    import_max_body_bytes: int
    webhook_rate_per_s: float
    login_attempts_per_minute: int


def body_limits(settings: HardeningSettings) -> list[tuple[str, int]]:
    """(path prefix, limit in bytes), longest prefix first; "" is every other route."""
    limits = [
        (WEBHOOK_PREFIX, settings.webhook_max_body_bytes),
        *((prefix, settings.import_max_body_bytes) for prefix in IMPORT_PREFIXES),
        ("", settings.request_max_body_bytes),
    ]
    return sorted(limits, key=lambda item: len(item[0]), reverse=True)


async def _send_short(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": text}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(HTTPException):
    """The body went past its limit while it was being read (an HTTPException: FastAPI's body parsing
    re-raises those as they are, where it turns any other error into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"request body too large (limit {limit} bytes)"


class BodySizeLimit:
    """Answers 413 to a request whose body is larger than its route prefix's limit."""

    def __init__(self, app: ASGIApp, limits: list[tuple[str, int]]) -> None:
        self.app = app
        self.limits = limits

    def limit_for(self, path: str) -> int:
        """The limit of the longest prefix `path` starts with."""
        return next(limit for prefix, limit in self.limits if path.startswith(prefix))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_short(send, 413, _too_large(limit), [])
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if started:
                raise
            await _send_short(send, 413, _too_large(limit), [])


@dataclass
class TokenBucket:
    """`rate_per_s` tokens a second up to `burst`; each request takes one."""

    rate_per_s: float
    burst: float
    tokens: float = field(init=False)
    at: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> float:
        """Takes a token and returns 0, or returns the seconds until one is free (nothing taken)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate_per_s)
        self.at = now
        if self.tokens >= 1 - 1e-9:  # a client that waited Retry-After gets in despite float rounding
            self.tokens = max(0.0, self.tokens - 1)
            return 0.0
        return (1 - self.tokens) / self.rate_per_s


@dataclass(frozen=True)
class RateRule:
    """Requests matching `method` (None: any) and `prefix` share a bucket per client address."""

    name: str
    prefix: str
    method: str | None
    rate_per_s: float
    burst: float

    def matches(self, method: str, path: str) -> bool:
        """Whether a request falls under this rule."""
        return path.startswith(self.prefix) and (self.method is None or method == self.method)


def rate_rules(settings: HardeningSettings) -> list[RateRule]:
    """The webhooks (bursts of 5 s worth) and the sign-in POST (a minute's worth at once)."""
    per_minute, per_s = settings.login_attempts_per_minute, settings.webhook_rate_per_s
    return [
        RateRule("webhooks", WEBHOOK_PREFIX, None, per_s, 5 * per_s),
        RateRule("login", LOGIN_PATH, "POST", per_minute / 60, per_minute),
    ]


class RateLimit:
    """Answers 429 with Retry-After when a client address has used up its bucket for a rule (per process)."""

    MAX_BUCKETS = 50_000  # past this, buckets that have refilled are forgotten

    def __init__(
        self, app: ASGIApp, rules: list[RateRule], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.rules = rules
        self.monotonic = monotonic
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            rule = next((r for r in self.rules if r.matches(scope["method"], scope["path"])), None)
            if rule is not None:
                wait_s = self._take(rule, scope)
                if wait_s > 0:
                    retry = str(max(1, math.ceil(wait_s))).encode()
                    await _send_short(send, 429, "too many requests", [(b"retry-after", retry)])
                    return
        await self.app(scope, receive, send)

    def _take(self, rule: RateRule, scope: Scope) -> float:
        client = scope.get("client")
        key = (rule.name, client[0] if client else "")
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.MAX_BUCKETS:
                self._forget_full()
            bucket = self.buckets[key] = TokenBucket(rule.rate_per_s, rule.burst)
            bucket.at = self.monotonic()
        return bucket.take(self.monotonic())

    def _forget_full(self) -> None:
        now = self.monotonic()
        for key, bucket in list(self.buckets.items()):
            if bucket.tokens + (now - bucket.at) * bucket.rate_per_s >= bucket.burst:
                del self.buckets[key]


class SecurityHeaders:
    """Adds the security headers to every answer, and no-store to the console's and the API's."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        """The headers an answer on `path` gets."""
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", (DOCS_CSP if path == DOCS_PATH else CONSOLE_CSP).encode()),
        ]
        if self.https:
            headers.append((b"strict-transport-security", HSTS.encode()))
        if path.startswith(NO_STORE_PREFIXES) and not path.startswith(NO_STORE_EXEMPT):
            headers.append((b"cache-control", b"no-store"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: Any, settings: HardeningSettings) -> None:
    """Adds the three guards to a FastAPI app: headers outermost, so 413 and 429 answers carry them too."""
    app.add_middleware(BodySizeLimit, limits=body_limits(settings))
    app.add_middleware(RateLimit, rules=rate_rules(settings))
    app.add_middleware(SecurityHeaders, https=settings.public_base_url.startswith("https://"))
