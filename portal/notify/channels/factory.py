"""Build the channel clients the settings ask for."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from portal.notify.channels.base import EmailSender, SmsSender, VoiceCaller
from portal.notify.channels.email import SmtpEmailClient
from portal.notify.channels.logfile import LogfileEmailClient, LogfileSmsClient
from portal.notify.channels.sms import HttpSmsClient, HttpVoiceClient


@dataclass
class Channels:
    """The email, SMS and (optional) voice clients, and the HTTP client they share.

    Without a voice URL `voice` is None: a phone notice is then only a call task for support.
    Close with `await channels.aclose()` or use `async with`.
    """

    email: EmailSender
    sms: SmsSender
    voice: VoiceCaller | None
    http: httpx.AsyncClient | None = None

    @classmethod
    def build(
        cls,
        smtp_url: str | None,
        sms_url: str | None,
        voice_url: str | None,
        instance_dir: Path | str,
        email_from: str,
        sms_from: str,
        *,
        timeout: float = 15.0,
        tls_context: ssl.SSLContext | None = None,
        smtp_connections: int = 0,
    ) -> Channels:
        """SMTP when `smtp_url` is set, else `mail.log`; the HTTP provider when `sms_url` is
        set, else `sms.log`; voice calls only when `voice_url` is set (caller id `sms_from`).
        `smtp_connections` above 0 keeps up to that many SMTP connections open for reuse.
        """
        http = (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False)
            if sms_url or voice_url
            else None
        )
        email: EmailSender = (
            SmtpEmailClient(
                smtp_url,
                email_from,
                timeout=timeout,
                tls_context=tls_context,
                connections=smtp_connections,
            )
            if smtp_url
            else LogfileEmailClient(instance_dir, email_from)
        )
        sms: SmsSender = (
            HttpSmsClient(sms_url, sms_from, http)
            if sms_url and http
            else LogfileSmsClient(instance_dir, sms_from)
        )
        voice = HttpVoiceClient(voice_url, sms_from, http) if voice_url and http else None
        return cls(email=email, sms=sms, voice=voice, http=http)

    async def aclose(self) -> None:
        """Close the kept SMTP connections and the shared HTTP client."""
        if isinstance(self.email, SmtpEmailClient):
            await self.email.aclose()
        if self.http is not None:
            await self.http.aclose()

    async def __aenter__(self) -> Channels:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
