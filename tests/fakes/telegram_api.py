"""A fake Telegram Bot API server on loopback that answers as Telegram does.

The real python-telegram-bot client talks to it over HTTP (`base_url=server.base_url`). It keeps a log
of every call, answers with Telegram's `{"ok": ...}` envelope, returns 400/401/403/404/429 like the real
service (`retry_after` included), enforces Telegram's rate limits (about 30 messages a second overall, about
one a second per chat with short bursts), and long-polls `getUpdates`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 7_000_001
BOT_USERNAME = "ocrebot_test_bot"
SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto"}


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    status: int
    at: float


@dataclass
class TokenBucket:
    """Telegram's limits modelled as buckets: `rate` per second, bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def wait_s(self, now: float) -> float:
        """Refill; return 0 when a token is free, else the seconds until one is."""
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend one token (after `wait_s` said one is free)."""
        self.tokens -= 1


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegram:
    """The fake Bot API: start with `await server.start()`, stop with `await server.stop()`."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        overall_per_s: float = 30,
        overall_burst: float = 30,
        chat_per_s: float = 1,
        chat_burst: float = 3,
    ) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.blocked_chats: set[int] = set()
        self.unknown_chats: set[int] = set()
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self.rate_limited = 0
        self.watchers: list[Callable[[Call], None]] = []  # called with every call as it is answered
        self._failing: dict[str, tuple[float, int, str]] = {}
        self._overall = TokenBucket(overall_per_s, overall_burst)
        self._chat_buckets: dict[Any, TokenBucket] = {}
        self._chat_limit = (chat_per_s, chat_burst)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """What to give PTB as `base_url`: the token is appended by PTB."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The parameters of every message the fake accepted, in order."""
        return [call.params for call in self.calls if call.method in SEND_METHODS and call.status == 200]

    def fail_next(self, method: str, status: int, description: str, **parameters: Any) -> None:
        """Answer the next call of `method` with this error (e.g. 500, or 429 with retry_after=...)."""
        self.failures[method].append((status, {"description": description, "parameters": parameters}))

    def fail_for(self, method: str, seconds: float, status: int, description: str) -> None:
        """Answer every call of `method` with this error for the next `seconds` (an outage, e.g. 500)."""
        self._failing[method] = (time.monotonic() + seconds, status, description)

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def push_callback(self, chat_id: int, data: str, *, language_code: str = "en") -> int:
        """Queue a tap on an inline button under a message the bot sent to `chat_id`."""
        user = {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": language_code}
        message = {"message_id": 1, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}}
        query = {"id": str(next(self._update_ids)), "from": user, "chat_instance": "1", "data": data}
        return self.push_update({"callback_query": {**query, "message": message}})

    def push_text(
        self, chat_id: int, text: str, *, language_code: str = "en", first_name: str = "Ana"
    ) -> int:
        """Queue a private text message, with a bot_command entity when it starts with '/'."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "from": {
                "id": chat_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": language_code,
            },
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.push_update({"message": message})

    async def start(self) -> None:
        """Serve on a free loopback port."""
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving and wait for the server task."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            self._new_update.set()
            await self._task

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        async with request.form() as form:
            params: dict[str, Any] = {}
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = _decode(value)
                else:  # an uploaded file (multipart, e.g. sendDocument): kept whole for tests to read
                    content = await value.read()
                    params[key] = {"filename": value.filename, "mime": value.content_type, "content": content}
        status, body = await self._answer(request.path_params["token"], method, params)
        call = Call(method, params, status, time.monotonic())
        self.calls.append(call)
        for watch in self.watchers:
            watch(call)
        return JSONResponse(body, status_code=status)

    async def _answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token != self.token:
            return _error(401, "Unauthorized")
        if self.failures.get(method):
            status, spec = self.failures[method].pop(0)
            return _error(status, spec["description"], spec["parameters"] or None)
        outage = self._failing.get(method)
        if outage is not None and time.monotonic() < outage[0]:
            return _error(outage[1], outage[2])
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        return await handler(params)

    async def _m_getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return _ok({"id": BOT_ID, "is_bot": True, "first_name": "Ocrebot", "username": BOT_USERNAME})

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return _ok(True)

    async def _m_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return _ok(True)

    async def _m_setMyCommands(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return _ok(True)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return _ok(True)

    async def _m_getUpdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        offset = int(params.get("offset", 0))
        self._updates = [update for update in self._updates if update["update_id"] >= offset]
        timeout_s = float(params.get("timeout", 0))
        if not self._updates and timeout_s > 0:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout_s)
            except TimeoutError:
                pass
        return _ok(list(self._updates))

    async def _m_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return self._send(params, {"text": params.get("text", "")})

    async def _m_sendDocument(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return self._send(params, {"document": {"file_id": "doc", "file_unique_id": "doc"}})

    def _send(self, params: dict[str, Any], content: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = params.get("chat_id")
        if chat_id is None:
            return _error(400, "Bad Request: chat_id is empty")
        if chat_id in self.unknown_chats:
            return _error(400, "Bad Request: chat not found")
        if chat_id in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        now = time.monotonic()
        bucket = self._chat_buckets.setdefault(chat_id, TokenBucket(*self._chat_limit))
        wait_s = max(self._overall.wait_s(now), bucket.wait_s(now))
        if wait_s > 0:
            self.rate_limited += 1
            retry_after = max(1, int(wait_s + 0.999))
            return _error(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        self._overall.take()
        bucket.take()
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            **content,
        }
        return _ok(message)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


def private_message(chat_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A private message update body (without update_id): text, or any other content in `extra`."""
    message: dict[str, Any] = {
        "message_id": chat_id % 100_000 + 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
        **extra,
    }
    if text is not None:
        message["text"] = text
    return message
