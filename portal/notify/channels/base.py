"""What every channel client takes, answers and raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit


@dataclass(frozen=True, slots=True)
class SendResult:
    """The provider accepted the message; `provider_id` identifies it there."""

    provider_id: str


class ChannelError(Exception):
    """Sending failed. The message never contains credentials."""


class TemporaryFailure(ChannelError):
    """Try again later (the server is down, busy, or says 4xx / 5xx-transient).

    `retry_after` is the provider's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(ChannelError):
    """Do not retry: the provider refused this message or its recipient for good."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingEmail:
    """One email to one customer. `message_id` is kept across retries when given."""

    to: str
    subject: str
    text: str
    html: str | None = None
    unsubscribe_url: str | None = None
    message_id: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingSms:
    """One text message to one E.164 number.

    `idempotency_key` is sent as the provider's `Idempotency-Key` header, the same on every
    retry: a retry after a timeout that followed acceptance is then not sent twice.
    """

    to: str
    body: str
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingCall:
    """One automated call reading `script` to an E.164 number."""

    to: str
    script: str
    locale: str = "en"


class EmailSender(Protocol):
    """Sends email (SMTP, or the mail log)."""

    async def send(self, message: OutgoingEmail) -> SendResult:
        """Send one email; raise TemporaryFailure or PermanentFailure."""
        ...


class SmsSender(Protocol):
    """Sends SMS (an HTTP provider, or the message log)."""

    async def send(self, message: OutgoingSms) -> SendResult:
        """Send one SMS; raise TemporaryFailure or PermanentFailure."""
        ...


class VoiceCaller(Protocol):
    """Places automated calls through a voice provider."""

    async def send(self, message: OutgoingCall) -> SendResult:
        """Place one call; raise TemporaryFailure or PermanentFailure."""
        ...


def redact_url(url: str) -> str:
    """`url` without its password (and without a user name that may be an account id)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return strip_credentials(parts).geturl().replace("://", "://***@", 1)


def strip_credentials(parts: SplitResult) -> SplitResult:
    """`parts` with the user:password@ removed from the network location."""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return parts._replace(netloc=netloc)
