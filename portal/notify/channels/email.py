"""Email over SMTP (aiosmtplib), configured by one URL: PORTAL_SMTP_URL.

`smtp://user:pass@host:port` connects in plain text and upgrades with STARTTLS whenever the
server offers it; `smtps://...` uses implicit TLS (port 465 by default, 25 for smtp://). User
and password may be percent-encoded. Credentials are only sent over TLS, or to a loopback host
(a local relay); they never appear in exceptions or logs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

from portal.notify.channels.base import (
    OutgoingEmail,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    redact_url,
)

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """A parsed PORTAL_SMTP_URL. The password is kept out of repr."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read `smtp://[user[:pass]@]host[:port]` or `smtps://...`; raise ValueError if malformed."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"SMTP URL must start with smtp:// or smtps://: {redact_url(url)}")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f"SMTP URL has a bad port: {redact_url(url)}") from None
    if not parts.hostname:
        raise ValueError(f"SMTP URL has no host: {redact_url(url)}")
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def build_message(message: OutgoingEmail, *, sender: str, now: datetime | None = None) -> Message:
    """The MIME message: text, plus HTML as multipart/alternative, with list headers.

    When every address is ASCII (the usual case) the message is built from the stdlib's
    compat32 MIME classes: some fifteen times cheaper than EmailMessage, whose header
    objects were the largest cost of an email in the dispatcher's profile. A non-ASCII
    address takes EmailMessage, whose SMTPUTF8 support it needs.
    """
    headers = {
        "From": sender,
        "To": message.to,
        "Subject": message.subject,
        "Date": format_datetime(now or datetime.now(UTC)),
        "Message-ID": message.message_id or make_msgid(domain=sender_domain(sender)),
    }
    if message.reply_to:
        headers["Reply-To"] = message.reply_to
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Keep vacation responders from answering a machine.
    headers["Auto-Submitted"] = "auto-generated"
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"the {name} header contains a line break")
    if not all(value.isascii() for name, value in headers.items() if name != "Subject"):
        return _email_message(message, headers)
    text = _text_part(message.text, "plain")
    msg = text
    if message.html is not None:
        msg = MIMEMultipart("alternative", _subparts=[text, _text_part(message.html, "html")])
    for name, value in headers.items():
        # A non-ASCII subject as an RFC 2047 encoded word (ASCII on the wire).
        msg[name] = value if value.isascii() else Header(value, "utf-8", header_name=name).encode()
    return msg


# UTF-8 bodies as quoted-printable: readable where the text is ASCII, 7-bit clean everywhere.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def _text_part(body: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(body, _UTF8)
    return part


def _email_message(message: OutgoingEmail, headers: dict[str, str]) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name] = value
    msg.set_content(message.text)
    if message.html is not None:
        msg.add_alternative(message.html, subtype="html")
    return msg


def sender_domain(sender: str) -> str:
    """The domain of the From address (for Message-IDs); `localhost` when it has none."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_client_hostname: str | None = None


async def client_hostname() -> str:
    """This host's name for EHLO, looked up once per process: the lookup can wait on DNS,
    and aiosmtplib would otherwise repeat it for every connection."""
    global _client_hostname
    if _client_hostname is None:
        _client_hostname = await asyncio.to_thread(socket.getfqdn)
    return _client_hostname


class _Connection(aiosmtplib.SMTP):
    """An SMTP connection that knows how much it has carried and whether the message in
    flight reached DATA (before DATA nothing was handed over, so another connection may
    safely try again)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.messages = 0
        self.idle_since = 0.0
        self.data_started = False

    async def data(self, *args: Any, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(*args, **kwargs)


class SmtpEmailClient:
    """Sends email over SMTP.

    With `connections` 0 (the default) each email has a connection of its own. With
    `connections` N, up to N connections are kept open and reused, each carrying one message
    at a time; close the client with `aclose()`. A reused connection the server has dropped
    is replaced: a message that failed on it before DATA goes again at once on a fresh one,
    one that failed later is a TemporaryFailure (the dispatcher retries it with the same
    Message-ID, so a receiver can tell a repeat).
    """

    def __init__(
        self,
        url: str,
        email_from: str,
        *,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        connections: int = 0,
        max_idle_seconds: float = 10.0,
        max_messages: int = 100,
    ) -> None:
        self.settings = parse_smtp_url(url)
        self.email_from = email_from
        self.timeout = timeout
        self.tls_context = tls_context
        self.local_hostname = local_hostname
        self.connections = connections
        # Servers drop idle clients (RFC 5321 asks them to wait 5 minutes; some wait less)
        # and cap messages per connection: stay well inside both rather than find out.
        self.max_idle_seconds = max_idle_seconds
        self.max_messages = max_messages
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections) if connections > 0 else None

    def __repr__(self) -> str:
        return f"SmtpEmailClient({self.settings.where!r}, tls={self.settings.implicit_tls})"

    async def send(self, message: OutgoingEmail) -> SendResult:
        """Send one email; the provider id is its Message-ID."""
        try:
            msg = build_message(message, sender=self.email_from)
        except (ValueError, TypeError) as exc:
            raise PermanentFailure(f"cannot build the email: {exc}") from exc
        message_id = str(msg["Message-ID"])
        where = self.settings.where
        try:
            if self._slots is None:
                async with await self._connection() as smtp:
                    await self._login(smtp)
                    await smtp.send_message(msg)
            else:
                async with self._slots:
                    await self._send_pooled(msg)
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our configuration, not this message: retry, so a fixed password lets it go.
            raise TemporaryFailure(f"SMTP {where}: authentication failed ({exc.code})") from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            if any(code >= 500 for code in codes):
                raise PermanentFailure(f"SMTP {where}: recipient refused ({detail})") from exc
            raise TemporaryFailure(f"SMTP {where}: recipient deferred ({detail})") from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            raise TemporaryFailure(
                f"SMTP {where}: sender {exc.sender} refused ({exc.code} {exc.message})"
            ) from exc
        except aiosmtplib.SMTPDataError as exc:
            failure = PermanentFailure if exc.code >= 500 else TemporaryFailure
            raise failure(f"SMTP {where}: message refused ({exc.code} {exc.message})") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"SMTP {where}: {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc
        log.info("email %s sent to %s via %s", message_id, message.to, where)
        return SendResult(provider_id=message_id)

    async def _connection(self) -> _Connection:
        return _Connection(
            hostname=self.settings.host,
            port=self.settings.port,
            use_tls=self.settings.implicit_tls,
            start_tls=False if self.settings.implicit_tls else None,
            timeout=self.timeout,
            tls_context=self.tls_context,
            local_hostname=self.local_hostname or await client_hostname(),
        )

    async def _send_pooled(self, msg: Message) -> None:
        smtp = self._take_idle()
        reused = smtp is not None
        if smtp is None:
            smtp = await self._open()
        try:
            try:
                await self._transact(smtp, msg)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError, _Closing):
                if not reused or smtp.data_started:
                    raise
                # The server had dropped the kept connection before the message reached it.
                smtp.close()
                log.info("SMTP %s: a kept connection was closed; reconnecting", self.settings.where)
                smtp = await self._open()
                await self._transact(smtp, msg)
        except BaseException:
            # In an unknown state (an error mid-transaction, or a cancelled send): not reused.
            smtp.close()
            raise
        smtp.messages += 1
        if smtp.messages >= self.max_messages:
            await _quit(smtp)
        else:
            smtp.idle_since = time.monotonic()
            self._idle.append(smtp)

    async def _transact(self, smtp: _Connection, msg: Message) -> None:
        smtp.data_started = False
        try:
            await smtp.send_message(msg)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421 and not smtp.data_started:
                raise _Closing(exc.code, exc.message) from exc
            raise

    def _take_idle(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            smtp = self._idle.pop()
            if smtp.is_connected and now - smtp.idle_since < self.max_idle_seconds:
                return smtp
            smtp.close()
        return None

    async def _open(self) -> _Connection:
        smtp = await self._connection()
        try:
            await smtp.connect()
            await self._login(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    async def aclose(self) -> None:
        """Say QUIT on every kept connection."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(smtp) for smtp in idle))

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        settings = self.settings
        if settings.username is None:
            return
        encrypted = smtp.get_transport_info("sslcontext") is not None
        if not encrypted and not _is_loopback(settings.host):
            raise TemporaryFailure(
                f"SMTP {settings.where}: the server offers no TLS; "
                "refusing to send credentials in clear text"
            )
        await smtp.login(settings.username, settings.password or "")


class _Closing(aiosmtplib.SMTPResponseException):
    """421 before DATA: the server is closing this connection, not refusing the message."""


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await asyncio.wait_for(smtp.quit(), timeout=2.0)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        smtp.close()
