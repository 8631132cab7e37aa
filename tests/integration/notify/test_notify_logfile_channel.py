"""The log-file channels: what the portal uses when no SMTP or SMS provider is configured."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from portal.notify.channels import Channels, OutgoingEmail, OutgoingSms, TemporaryFailure
from portal.notify.channels.logfile import LogfileEmailClient, LogfileSmsClient

EMAIL = OutgoingEmail(
    to="ada@example.com",
    subject="Example Shop: pedido A1001 confirmado",
    text="Hola, Ada:\nGracias por su pedido.",
    html="<p>Hola, Ada:</p>",
    unsubscribe_url="https://shop.example/unsubscribe/tok",
)


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_email_lines(tmp_path: Path) -> None:
    client = LogfileEmailClient(tmp_path / "instance", "no-reply@shop.example")
    first = await client.send(EMAIL)
    second = await client.send(OutgoingEmail(to="bob@example.com", subject="Hi", text="Hello"))
    lines = read_lines(tmp_path / "instance" / "mail.log")
    assert [line["id"] for line in lines] == [first.provider_id, second.provider_id]
    assert first.provider_id.startswith("log-") and first.provider_id != second.provider_id
    assert lines[0]["to"] == "ada@example.com"
    assert lines[0]["from"] == "no-reply@shop.example"
    assert lines[0]["subject"] == EMAIL.subject
    assert lines[0]["text"] == EMAIL.text and lines[0]["html"] == EMAIL.html
    assert lines[0]["list_unsubscribe"] == EMAIL.unsubscribe_url
    assert lines[1]["html"] is None
    assert "logged_at" in lines[0]


async def test_sms_lines_carry_their_size(tmp_path: Path) -> None:
    client = LogfileSmsClient(tmp_path, "+15005550006")
    await client.send(OutgoingSms(to="+14155552671", body="Pedido A1001: en reparto."))
    await client.send(OutgoingSms(to="+14155552671", body="Envío en camino 📦"))
    lines = read_lines(tmp_path / "sms.log")
    assert [(line["encoding"], line["segments"]) for line in lines] == [
        ("GSM-7", 1),
        ("UCS-2", 1),
    ]
    assert lines[1]["body"] == "Envío en camino 📦"


async def test_concurrent_sends_keep_lines_whole(tmp_path: Path) -> None:
    client = LogfileSmsClient(tmp_path, "Shop")
    body = "x" * 5000
    results = await asyncio.gather(
        *(client.send(OutgoingSms(to=f"+1415555{n:04d}", body=body)) for n in range(25))
    )
    lines = read_lines(tmp_path / "sms.log")
    assert len(lines) == 25
    assert {line["id"] for line in lines} == {r.provider_id for r in results}


async def test_log_is_private(tmp_path: Path) -> None:
    await LogfileEmailClient(tmp_path, "no-reply@shop.example").send(EMAIL)
    assert stat.S_IMODE((tmp_path / "mail.log").stat().st_mode) == 0o600


async def test_unwritable_folder_is_temporary(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(TemporaryFailure, match=r"mail\.log"):
        await LogfileEmailClient(blocker, "no-reply@shop.example").send(EMAIL)


async def test_factory_without_providers_uses_the_logs(tmp_path: Path) -> None:
    async with Channels.build(
        None, None, None, tmp_path, "no-reply@shop.example", "+15005550006"
    ) as channels:
        assert isinstance(channels.email, LogfileEmailClient)
        assert isinstance(channels.sms, LogfileSmsClient)
        assert channels.voice is None and channels.http is None
        await channels.email.send(EMAIL)
        await channels.sms.send(OutgoingSms(to="+14155552671", body="Hi"))
    assert len(read_lines(tmp_path / "mail.log")) == 1
    assert len(read_lines(tmp_path / "sms.log")) == 1
