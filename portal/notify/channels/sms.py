"""SMS and voice calls through a Twilio-style HTTP provider (PORTAL_SMS_URL).

A message is a form POST of To, From and Body to the configured endpoint; a call posts To, From
and Twiml (a `<Response><Say>` reading the script). Credentials in the URL
(`https://SID:TOKEN@host/path`) are taken out of it and sent as HTTP basic auth, so they never
appear in a logged URL or an exception.
"""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import httpx

from portal.notify.channels.base import (
    OutgoingCall,
    OutgoingSms,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    strip_credentials,
)

log = logging.getLogger(__name__)

# Twilio's <Say> language codes for the shipped locales.
SAY_LANGUAGES = {"en": "en-US", "es": "es-ES"}


class HttpEndpoint:
    """A provider endpoint URL with its credentials split off, and the POST that talks to it."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("provider URL must be an http:// or https:// URL with a host")
        self.url = strip_credentials(parts).geturl()
        self._auth: httpx.BasicAuth | None = None
        if parts.username is not None:
            self._auth = httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
        self._client = client

    def __repr__(self) -> str:
        return f"HttpEndpoint({self.url!r})"

    async def post_form(
        self, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> SendResult:
        """POST `form`; map the answer to a SendResult or a failure."""
        try:
            if self._auth is not None:
                response = await self._client.post(
                    self.url, data=form, auth=self._auth, headers=headers
                )
            else:
                response = await self._client.post(self.url, data=form, headers=headers)
        except httpx.TimeoutException as exc:
            raise TemporaryFailure(f"{self.url}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TemporaryFailure(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(provider_id=_provider_id(response))
        detail = f"{self.url}: HTTP {status}{_error_detail(response)}"
        if status in (408, 425, 429) or status >= 500:
            raise TemporaryFailure(detail, retry_after=_retry_after(response))
        raise PermanentFailure(detail)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _provider_id(response: httpx.Response) -> str:
    data = _json(response)
    for key in ("sid", "id"):
        value = data.get(key)
        if isinstance(value, str | int) and str(value):
            return str(value)
    # Accepted but unnamed: still sent, so no failure (a retry would send it twice).
    return f"http-{response.status_code}"


def _error_detail(response: httpx.Response) -> str:
    data = _json(response)
    message = data.get("message") or data.get("error")
    if isinstance(message, dict):
        message = message.get("message")
    code = data.get("code")
    text = " ".join(str(part) for part in (code, message) if part)
    return f" ({text[:200]})" if text else ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        date_header = response.headers.get("date")
        now = parsedate_to_datetime(date_header) if date_header else None
    except (TypeError, ValueError):
        return None
    if now is None:
        return None
    return max(0.0, (when - now).total_seconds())


class HttpSmsClient:
    """Sends SMS by form POST (To, From, Body) to PORTAL_SMS_URL."""

    def __init__(self, url: str, sms_from: str, client: httpx.AsyncClient) -> None:
        self.endpoint = HttpEndpoint(url, client)
        self.sms_from = sms_from

    def __repr__(self) -> str:
        return f"HttpSmsClient({self.endpoint.url!r})"

    async def send(self, message: OutgoingSms) -> SendResult:
        """Send one SMS; the provider id is the answer's `sid` (or `id`)."""
        headers = {"Idempotency-Key": message.idempotency_key} if message.idempotency_key else None
        result = await self.endpoint.post_form(
            {"To": message.to, "From": self.sms_from, "Body": message.body}, headers
        )
        log.info("sms %s sent to %s", result.provider_id, message.to)
        return result


def twiml_say(script: str, locale: str = "en") -> str:
    """A TwiML document that reads `script` aloud, XML-escaped."""
    language = SAY_LANGUAGES.get(locale.split("-", 1)[0].lower(), SAY_LANGUAGES["en"])
    text = " ".join(script.split())
    return f'<Response><Say language="{language}">{escape(text)}</Say></Response>'


class HttpVoiceClient:
    """Places calls by form POST (To, From, Twiml) to a Twilio-style calls endpoint."""

    def __init__(self, url: str, caller_id: str, client: httpx.AsyncClient) -> None:
        self.endpoint = HttpEndpoint(url, client)
        self.caller_id = caller_id

    def __repr__(self) -> str:
        return f"HttpVoiceClient({self.endpoint.url!r})"

    async def place_call(self, to: str, script: str, *, locale: str = "en") -> SendResult:
        """Call `to` and read `script`; the provider id is the call's `sid` (or `id`)."""
        result = await self.endpoint.post_form(
            {"To": to, "From": self.caller_id, "Twiml": twiml_say(script, locale)}
        )
        log.info("call %s placed to %s", result.provider_id, to)
        return result

    async def send(self, message: OutgoingCall) -> SendResult:
        """Place the call described by `message`."""
        return await self.place_call(message.to, message.script, locale=message.locale)
