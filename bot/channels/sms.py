"""The SMS sender: one message out through the official twilio client (async), its errors turned into values.

Owns the twilio `Client` on an `AsyncTwilioHttpClient` pointed at `api_base_url` (Twilio's, or a fake's:
`client.api.base_url`, library notes §3 option A), the send (From number or Messaging Service, with our
status callback URL), the text as it goes (folded to GSM-7 where possible, `bot.sms_text`) and the error
mapping: 21610 (the recipient replied STOP) -> blocked; 21211 / 21614 and other 4xx (a bad or non-mobile
number, a rejected message) -> permanent, for operators to see; 429 and 5xx, time-outs and network errors ->
retry later; 401/403 (our credentials) -> retry once fixed. Twilio queues and paces messages itself (its
queue drains at the sender's rate), so there is no pacer here. Logs no number and no text.
Must not import `storage`, `jobs`, `admin` or `ocrebot`.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.channels.base import Option, SendResult
from bot.sms_text import fold_to_gsm7, list_options

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
BAD_NUMBERS = frozenset({21211, 21614})  # invalid 'To' number; 'To' is not a valid mobile number
RATE_LIMIT_RETRY_S = 5.0  # Twilio's 429 (code 20429) carries no Retry-After


class _Transport(AsyncTwilioHttpClient):
    """twilio's aiohttp client with Basic auth sent as a header and a `ClientTimeout`.

    aiohttp 3.14 deprecates the `auth=` argument and `BasicAuth` the stock client uses (library notes §3).
    """

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's HttpClient interface
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        assert self.session is not None
        async with self.session.request(
            method.upper(),
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout) if timeout else self._timeout,
            allow_redirects=allow_redirects,
        ) as response:
            return Response(response.status, await response.text(), response.headers)


class SmsSender:
    """Sends SMS through Twilio; create it inside the running loop and `await aclose()` when done.

    account_sid, auth_token: the Twilio credentials. from_number (E.164) or messaging_service_sid: who
    sends (the Messaging Service wins when both are set). api_base_url: Twilio's API, or a fake's.
    status_callback_url: where Twilio reports delivery (PUBLIC_BASE_URL + STATUS_CALLBACK_PATH); None for
    no callbacks. timeout_s: per request.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str = "https://api.twilio.com",
        status_callback_url: str | None = None,
        timeout_s: float = 15.0,
    ) -> None:
        if from_number is None and messaging_service_sid is None:
            raise ValueError("an SMS sender needs a from number or a messaging service sid")
        self._http = _Transport(timeout_s)
        self.client = Client(account_sid, auth_token, http_client=self._http)
        self.client.api.base_url = api_base_url.rstrip("/")
        self._sender = (
            {"messaging_service_sid": messaging_service_sid}
            if messaging_service_sid
            else {"from_": from_number}
        )
        self._status_callback_url = status_callback_url

    async def aclose(self) -> None:
        """Closes the HTTP session."""
        await self._http.close()

    async def send(self, address: str, text: str, options: Sequence[Option]) -> SendResult:
        """Sends `text` to the E.164 number `address`; options it does not already number are listed."""
        body = fold_to_gsm7(_with_options(text, options))
        kwargs: dict[str, object] = {"to": address, "body": body, **self._sender}
        if self._status_callback_url:
            kwargs["status_callback"] = self._status_callback_url
        try:
            message = await self.client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            return _from_error(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return SendResult.transient(f"twilio: {type(exc).__name__}")
        except TwilioException as exc:  # an unreadable reply, and the like
            return SendResult.transient(f"twilio: {type(exc).__name__}")
        if not message.sid:
            return SendResult.transient("twilio: no message sid in the reply")
        return SendResult.sent(message.sid)


def _with_options(text: str, options: Sequence[Option]) -> str:
    """SMS templates number their options themselves ({options}); others get "Reply 1 for ..." added."""
    if not options or _lists_options(text, len(options)):
        return text
    return f"{text} {list_options(options, 'en')}"


def _lists_options(text: str, count: int) -> bool:
    numbers = set("".join(char if char.isdigit() else " " for char in text).split())
    return all(str(n) in numbers for n in range(1, count + 1))


def _from_error(exc: TwilioRestException) -> SendResult:
    code, status = exc.code, exc.status
    reason = f"twilio {code or status}: {_short(exc.msg)}"
    if code == OPTED_OUT:
        return SendResult.blocked_by_recipient(reason)
    if code in BAD_NUMBERS:
        return SendResult.rejected(reason)
    if status == 429:
        return SendResult.rate_limited(RATE_LIMIT_RETRY_S, reason)
    if status >= 500 or status in (401, 403):  # Twilio's trouble, or our credentials: retry later
        log.warning("twilio answered %s (code %s)", status, code)
        return SendResult.transient(reason)
    return SendResult.rejected(reason)


def _short(message: str) -> str:
    """Twilio's message without the number it may quote (no addresses in our errors)."""
    text = message.removeprefix("Unable to create record: ")
    return "".join("#" if char.isdigit() else char for char in text)[:160]
