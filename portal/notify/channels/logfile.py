"""The channels used when no provider is set: each message becomes one JSON line in a log file.

`mail.log` and `sms.log` in the instance folder are what the demo shows. Each line is written
with a single append-mode write and fsynced before the send counts as done, so a crash never
leaves half a line and an acknowledged message is on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portal.notify.channels.base import (
    OutgoingEmail,
    OutgoingSms,
    SendResult,
    TemporaryFailure,
)
from portal.notify.sms import segments

MAIL_LOG = "mail.log"
SMS_LOG = "sms.log"


def append_json_line(path: Path, record: dict[str, Any]) -> None:
    """Append `record` as one JSON line to `path` (created 0600: it holds personal data)."""
    line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = 0
        while written < len(line):
            written += os.write(fd, line[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


class _LogfileChannel:
    def __init__(self, folder: Path | str, filename: str) -> None:
        self.path = Path(folder) / filename
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    async def _append(self, record: dict[str, Any]) -> SendResult:
        provider_id = f"log-{uuid.uuid4()}"
        record = {"id": provider_id, "logged_at": datetime.now(UTC).isoformat(), **record}
        try:
            # One writer at a time in this process; O_APPEND keeps other processes' lines whole.
            async with self._lock:
                await asyncio.to_thread(append_json_line, self.path, record)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {self.path.name}: {exc.strerror}") from exc
        return SendResult(provider_id=provider_id)


class LogfileEmailClient(_LogfileChannel):
    """Writes each email to `mail.log` in `folder`."""

    def __init__(self, folder: Path | str, email_from: str) -> None:
        super().__init__(folder, MAIL_LOG)
        self.email_from = email_from

    async def send(self, message: OutgoingEmail) -> SendResult:
        """Log one email."""
        return await self._append(
            {
                "channel": "email",
                "from": self.email_from,
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "list_unsubscribe": message.unsubscribe_url,
                "message_id": message.message_id,
                "reply_to": message.reply_to,
            }
        )


class LogfileSmsClient(_LogfileChannel):
    """Writes each SMS to `sms.log` in `folder`, with its encoding and segment count."""

    def __init__(self, folder: Path | str, sms_from: str) -> None:
        super().__init__(folder, SMS_LOG)
        self.sms_from = sms_from

    async def send(self, message: OutgoingSms) -> SendResult:
        """Log one SMS."""
        size = segments(message.body)
        return await self._append(
            {
                "channel": "sms",
                "from": self.sms_from,
                "to": message.to,
                "body": message.body,
                "encoding": size.encoding,
                "segments": size.segments,
            }
        )
