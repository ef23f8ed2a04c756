"""A fake Twilio REST API on loopback that answers as api.twilio.com does, and signs webhooks as Twilio does.

The real twilio client talks to it (`api_base_url=server.base_url`). `POST /2010-04-01/Accounts/{Sid}/
Messages.json` with HTTP Basic auth answers 201 with a Message resource (`sid` "SM" + 32 hex, `status`
"queued", or "accepted" through a Messaging Service), or Twilio's error JSON `{code, message, more_info,
status}`: 401/20003 for bad credentials, 400/21610 for an opted-out number, 400/21211 for an invalid one,
400/21614 for a non-mobile one, 400/21602-21604 for missing fields, and any queued failure (429/20429,
500/20500). Every request and reply is checked against Twilio's OpenAPI description (shared/specs) when it
is there (a breach is kept in `violations` and answered 500). Unknown paths get Twilio's 404/20404.
`calls` logs everything; a failing test prints it.

Webhooks: `sign(url, params)` is Twilio's documented X-Twilio-Signature (base64 HMAC-SHA1 of the URL and
the sorted params, through twilio's own `RequestValidator.compute_signature`); `inbound_params` and
`status_params` build the forms Twilio posts.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
FROM_NUMBER = "+15005550006"
SERVICE_SID = "MG" + "fedcba9876543210" * 2
API_VERSION = "2010-04-01"
MESSAGES_PATH = f"/{API_VERSION}/Accounts/{{sid}}/Messages.json"
SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "specs" / "twilio_api_v2010.json"
MAX_BODY_CHARS = 1600

ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "Invalid 'To' Phone Number: {to}"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number {to} is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}


@dataclass
class Call:
    """One request the fake received, and the status it answered."""

    method: str
    path: str
    form: dict[str, list[str]]
    status: int


class Spec:
    """The Messages create operation of Twilio's OpenAPI description: request fields and the reply schema."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        spec = json.loads(path.read_text(encoding="utf-8"))
        operation = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["post"]
        request = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        self.request_fields = set(request["properties"])
        self.required = set(request.get("required", []))
        schemas = spec["components"]["schemas"]
        self.message_fields = set(schemas["api.v2010.account.message"]["properties"])
        self.statuses = set(schemas["message_enum_status"]["enum"])
        self.example = operation["responses"]["201"]["content"]["application/json"]["examples"]["create"]

    def check_request(self, form: dict[str, list[str]]) -> None:
        """Raises AssertionError when the form has a field the spec does not know, or lacks a required one."""
        unknown = set(form) - self.request_fields
        assert not unknown, f"fields not in CreateMessageRequest: {sorted(unknown)}"
        assert self.required <= set(form), f"missing required fields: {sorted(self.required - set(form))}"

    def check_message(self, message: dict[str, Any]) -> None:
        """Raises AssertionError when a reply is not shaped as the spec's Message resource."""
        assert set(message) == self.message_fields, set(message) ^ self.message_fields
        assert message["status"] in self.statuses, message["status"]


def load_spec() -> Spec | None:
    """Returns the spec when shared/specs has it, else None (the checks are then skipped)."""
    return Spec() if SPEC_PATH.is_file() else None


class FakeTwilio:
    """The fake API: `await server.start()`, `await server.stop()`; then read `messages` and `calls`."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.calls: list[Call] = []
        self.messages: list[dict[str, Any]] = []  # the Message resources created, in order
        self.opted_out: set[str] = set()
        self.invalid: set[str] = set()
        self.landlines: set[str] = set()
        self.spec = load_spec()
        self.violations: list[str] = []  # requests or replies the OpenAPI description does not allow
        self._failures: list[int] = []
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """What to give the twilio client as its API base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def sent(self) -> list[dict[str, Any]]:
        """The Message resources created: `to`, `body`, `status_callback` (kept for tests), ..."""
        return self.messages

    def fail_next(self, code: int) -> None:
        """Answers the next create with Twilio's error `code` (20429, 20500, 21610, ...)."""
        self._failures.append(code)

    def sign(self, url: str, params: dict[str, str]) -> str:
        """Returns the X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    def inbound_params(self, from_: str, body: str, *, to: str = FROM_NUMBER, **extra: str) -> dict[str, str]:
        """The form Twilio posts to the SMS webhook for one inbound message."""
        return {
            "ToCountry": "US",
            "SmsMessageSid": (sid := _sid("SM")),
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
            **extra,
        }

    def status_params(
        self, message_sid: str, status: str, *, error_code: int | None = None
    ) -> dict[str, str]:
        """The form Twilio posts to a StatusCallback URL (ErrorCode only when delivery failed)."""
        message = next((m for m in self.messages if m["sid"] == message_sid), None)
        params = {
            "SmsSid": message_sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": message["to"] if message else "+15005550009",
            "MessageSid": message_sid,
            "AccountSid": self.account_sid,
            "From": FROM_NUMBER,
            "ApiVersion": API_VERSION,
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    async def start(self) -> None:
        """Serves on a free loopback port."""
        app = Starlette(
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE"])],
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stops serving."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def _endpoint(self, request: Request) -> JSONResponse:
        async with request.form() as raw:
            form: dict[str, list[str]] = {}
            for key, value in raw.multi_items():
                form.setdefault(key, []).append(str(value))
        try:
            status, body = self._answer(request, form)
        except AssertionError as exc:  # the client broke Twilio's API description: fail the test loudly
            self.violations.append(str(exc))
            status, body = _error(20500)
        self.calls.append(Call(request.method, request.url.path, form, status))
        return JSONResponse(body, status_code=status)

    def _answer(self, request: Request, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        path = request.url.path
        if request.method != "POST" or path != MESSAGES_PATH.format(sid=self.account_sid):
            if path.startswith(f"/{API_VERSION}/Accounts/") and not self._authorized(request):
                return _error(20003)
            return _error(20404)
        if not self._authorized(request):
            return _error(20003)
        if self.spec is not None:
            self.spec.check_request(form)
        fields = {key: values[-1] for key, values in form.items()}
        to = fields.get("To", "")
        if self._failures:
            return _error(self._failures.pop(0), to=to)
        if not to:
            return _error(21604)
        if not fields.get("From") and not fields.get("MessagingServiceSid"):
            return _error(21603)
        if not fields.get("Body") and not fields.get("MediaUrl"):
            return _error(21602)
        if len(fields.get("Body", "")) > MAX_BODY_CHARS:
            return _error(21617)
        if to in self.invalid or not to.startswith("+"):
            return _error(21211, to=to)
        if to in self.landlines:
            return _error(21614, to=to)
        if to in self.opted_out:
            return _error(21610)
        message = self._message(fields)
        if self.spec is not None:
            self.spec.check_message(message)
        self.messages.append({**message, "status_callback": fields.get("StatusCallback")})
        return 201, message

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}")

    def _message(self, fields: dict[str, str]) -> dict[str, Any]:
        sid = _sid("SM")
        now = format_datetime(datetime.now(UTC), usegmt=False)
        service = fields.get("MessagingServiceSid")
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": fields.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": fields.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(fields.get("Body", "")) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": fields["To"],
            "uri": uri,
        }


_counter = itertools.count(1)


def _sid(prefix: str) -> str:
    return f"{prefix}{next(_counter):032x}"


def _error(code: int, **values: str) -> tuple[int, dict[str, Any]]:
    status, message = ERRORS[code]
    return status, {
        "code": code,
        "message": message.format(**values),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
