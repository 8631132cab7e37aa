"""The SMTP client against a real aiosmtpd server on a free port, in the test's event loop."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from portal.notify.channels import (
    Channels,
    OutgoingEmail,
    PermanentFailure,
    TemporaryFailure,
)
from portal.notify.channels import email as email_channel
from portal.notify.channels.email import SmtpEmailClient

USER, PASSWORD = "portal@shop.example", "p@ss:w/rd%"
QUOTED = "portal%40shop.example:p%40ss%3Aw%2Frd%25"  # the same, percent-encoded for a URL
FROM = "Example Shop <no-reply@shop.example>"
MESSAGE = OutgoingEmail(
    to="ada@example.com",
    subject="Example Shop: envío de su pedido A1001",
    text="Hola, Ada:\n\nSu pedido está en camino.\n",
    html="<p>Hola, Ada:</p><p>Su pedido está en camino.</p>",
    unsubscribe_url="https://shop.example/unsubscribe/tok?x=1",
)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives and answers as told."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    received: list[tuple[Envelope, Session]] = field(default_factory=list)
    encrypted: list[bool] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append((envelope, session))
        transport = server.transport
        assert transport is not None
        self.encrypted.append(transport.get_extra_info("ssl_object") is not None)
        return "250 2.0.0 Ok: queued"

    def authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append(data.login)
        ok = (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False, auth_data=data.login)

    def message(self, index: int = 0) -> EmailMessage:
        content = self.received[index][0].original_content
        assert content is not None
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@asynccontextmanager
async def smtp_server(
    handler: Recorder,
    *,
    tls: ssl.SSLContext | None = None,
    implicit: bool = False,
    auth: bool = False,
) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    options: dict[str, Any] = {"hostname": "localhost", "loop": loop}
    if tls is not None and not implicit:
        options["tls_context"] = tls
    if auth:
        options.update(authenticator=handler.authenticator, auth_require_tls=False)
    server = await loop.create_server(
        lambda: SMTP(handler, **options), "127.0.0.1", 0, ssl=tls if implicit else None
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture(scope="module")
def certificates() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    # trustme makes a throwaway CA and a certificate for 127.0.0.1 (test dependency).
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return server_context, client_context


def client(url: str, **options: Any) -> SmtpEmailClient:
    return SmtpEmailClient(url, FROM, timeout=5, local_hostname="localhost", **options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_sends_a_multipart_email_with_list_headers() -> None:
    handler = Recorder()
    async with smtp_server(handler) as port:
        result = await client(f"smtp://127.0.0.1:{port}").send(MESSAGE)
    envelope, session = handler.received[0]
    assert envelope.mail_from == "no-reply@shop.example"
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert handler.encrypted == [False] and not session.authenticated
    msg = handler.message()
    assert msg["From"] == FROM
    assert msg["To"] == "ada@example.com"
    assert msg["Subject"] == MESSAGE.subject
    assert msg["Date"]
    assert msg["Message-ID"].endswith("@shop.example>")
    assert result.provider_id == msg["Message-ID"]
    assert msg["List-Unsubscribe"] == "<https://shop.example/unsubscribe/tok?x=1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == MESSAGE.text
    assert html.get_content().strip() == MESSAGE.html


async def test_the_host_name_for_ehlo_is_looked_up_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups: list[str] = []

    def getfqdn() -> str:
        lookups.append("looked up")
        return "portal-7.shop.example"

    monkeypatch.setattr(email_channel, "_client_hostname", None)
    monkeypatch.setattr(email_channel.socket, "getfqdn", getfqdn)
    handler = Recorder()
    async with smtp_server(handler) as port:
        url = f"smtp://127.0.0.1:{port}"
        for _ in range(3):  # one connection per email: three EHLOs
            await SmtpEmailClient(url, FROM, timeout=5).send(MESSAGE)
    assert [session.host_name for _, session in handler.received] == ["portal-7.shop.example"] * 3
    assert lookups == ["looked up"]


async def test_text_only_and_a_stable_message_id() -> None:
    handler = Recorder()
    message = OutgoingEmail(
        to="ada@example.com", subject="Hi", text="Plain.", message_id="<n-42@shop.example>"
    )
    async with smtp_server(handler) as port:
        result = await client(f"smtp://127.0.0.1:{port}").send(message)
    msg = handler.message()
    assert result.provider_id == "<n-42@shop.example>" == msg["Message-ID"]
    assert msg.get_content_type() == "text/plain"
    assert msg["List-Unsubscribe"] is None


async def test_authenticates_with_decoded_credentials() -> None:
    handler = Recorder()
    async with smtp_server(handler, auth=True) as port:
        await client(f"smtp://{QUOTED}@127.0.0.1:{port}").send(MESSAGE)
    _, session = handler.received[0]
    assert session.authenticated and session.auth_data == USER.encode()


async def test_wrong_password_is_temporary_and_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    handler = Recorder()
    wrong = "wrong-Secret-123"
    async with smtp_server(handler, auth=True) as port:
        sender = client(f"smtp://{USER}:{wrong}@127.0.0.1:{port}")
        with pytest.raises(TemporaryFailure) as caught:
            await sender.send(MESSAGE)
    assert handler.logins and set(handler.logins) == {USER.encode()} and not handler.received
    shown = [str(caught.value), repr(caught.value), repr(sender), repr(sender.settings)]
    shown += [str(e) for e in (caught.value.__cause__, caught.value.__context__) if e]
    shown += [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    secret_forms = (wrong, base64.b64encode(f"\0{USER}\0{wrong}".encode()).decode())
    for text in shown:
        for secret in secret_forms:
            assert secret not in text
    assert "authentication failed" in str(caught.value)


async def test_starttls_when_the_server_offers_it(
    certificates: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = certificates
    handler = Recorder()
    async with smtp_server(handler, tls=server_context, auth=True) as port:
        sender = client(f"smtp://{QUOTED}@127.0.0.1:{port}", tls_context=client_context)
        await sender.send(MESSAGE)
    _, session = handler.received[0]
    assert session.ssl is not None and handler.encrypted == [True]
    assert session.authenticated


async def test_smtps_uses_implicit_tls(
    certificates: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = certificates
    handler = Recorder()
    async with smtp_server(handler, tls=server_context, implicit=True) as port:
        await client(f"smtps://127.0.0.1:{port}", tls_context=client_context).send(MESSAGE)
    assert handler.encrypted == [True]


async def test_untrusted_certificate_is_temporary(
    certificates: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, _ = certificates
    async with smtp_server(Recorder(), tls=server_context, implicit=True) as port:
        with pytest.raises(TemporaryFailure):
            await client(f"smtps://127.0.0.1:{port}").send(MESSAGE)


async def test_no_credentials_in_clear_text_to_a_remote_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test server is on loopback, where plain-text AUTH is allowed; pretend it is remote.
    monkeypatch.setattr(email_channel, "_is_loopback", lambda host: False)
    handler = Recorder()
    async with smtp_server(handler, auth=True) as port:
        with pytest.raises(TemporaryFailure, match="refusing to send credentials") as caught:
            await client(f"smtp://{QUOTED}@127.0.0.1:{port}").send(MESSAGE)
    assert handler.logins == [] and not handler.received
    assert PASSWORD not in str(caught.value)


async def test_server_down_is_temporary() -> None:
    with pytest.raises(TemporaryFailure) as caught:
        await client(f"smtp://{QUOTED}@127.0.0.1:{free_port()}").send(MESSAGE)
    assert PASSWORD not in str(caught.value) and QUOTED not in str(caught.value)


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "failure"),
    [
        ("550 5.1.1 No such user here", None, PermanentFailure),
        ("553 5.1.3 Bad recipient address syntax", None, PermanentFailure),
        ("450 4.2.1 Mailbox busy, try later", None, TemporaryFailure),
        ("452 4.3.1 Insufficient system storage", None, TemporaryFailure),
        (None, "554 5.7.1 Message rejected as spam", PermanentFailure),
        (None, "451 4.3.0 Local error in processing", TemporaryFailure),
    ],
)
async def test_refusals(
    rcpt_reply: str | None, data_reply: str | None, failure: type[Exception]
) -> None:
    handler = Recorder(rcpt_reply=rcpt_reply, data_reply=data_reply)
    async with smtp_server(handler) as port:
        with pytest.raises(failure) as caught:
            await client(f"smtp://127.0.0.1:{port}").send(MESSAGE)
    code = (rcpt_reply or data_reply or "")[:3]
    assert code in str(caught.value)


async def test_factory_builds_smtp_from_the_url(tmp_path: Any) -> None:
    handler = Recorder()
    async with (
        smtp_server(handler) as port,
        Channels.build(
            f"smtp://127.0.0.1:{port}", None, None, tmp_path, FROM, "+15005550006"
        ) as channels,
    ):
        assert isinstance(channels.email, SmtpEmailClient)
        channels.email.local_hostname = "localhost"
        await channels.email.send(MESSAGE)
    assert len(handler.received) == 1
    assert not (tmp_path / "mail.log").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://host", "must start with smtp:// or smtps://"),
        (f"smtp://{QUOTED}@:25", "has no host"),
        (f"ftp://{QUOTED}@host", "must start with"),
    ],
)
def test_bad_urls_are_refused_without_showing_the_password(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        client(url)
    assert "w%2Frd" not in str(caught.value) and PASSWORD not in str(caught.value)


async def test_a_long_non_ascii_subject_and_body_arrive_intact() -> None:
    handler = Recorder()
    subject = "Example Shop: su pedido A1001 llegará más tarde por la nieve en el almacén de León"
    text = "Está en camino: ñandú, 10 €.\n"
    message = OutgoingEmail(to="ada@example.com", subject=subject, text=text, html="<p>€</p>")
    async with smtp_server(handler) as port:
        await client(f"smtp://127.0.0.1:{port}").send(message)
    msg = handler.message()
    assert msg["Subject"] == subject
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == text
    assert html.get_content().strip() == "<p>€</p>"
    raw = handler.received[0][0].original_content
    assert raw is not None and raw.isascii()  # encoded words and quoted-printable


@pytest.mark.parametrize("field", ["subject", "to", "reply_to"])
async def test_a_line_break_in_a_header_is_refused_for_good(field: str) -> None:
    values = {"subject": "Hi", "to": "ada@example.com", "reply_to": "help@shop.example"}
    values[field] += "\r\nBcc: victim@example.com"
    handler = Recorder()
    async with smtp_server(handler) as port:
        with pytest.raises(PermanentFailure, match="cannot build the email"):
            await client(f"smtp://127.0.0.1:{port}").send(OutgoingEmail(text="x", **values))
    assert handler.received == []


async def test_a_non_ascii_address_goes_with_smtputf8() -> None:
    handler = Recorder()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", loop=loop, enable_SMTPUTF8=True),
        "127.0.0.1",
        0,
    )
    try:
        port = server.sockets[0].getsockname()[1]
        message = OutgoingEmail(to="josé@example.com", subject="Hola", text="Hola, José.\n")
        await client(f"smtp://127.0.0.1:{port}").send(message)
    finally:
        server.close()
        await server.wait_closed()
    envelope, _ = handler.received[0]
    assert envelope.rcpt_tos == ["josé@example.com"]
    assert "SMTPUTF8" in [option.upper() for option in envelope.mail_options]
