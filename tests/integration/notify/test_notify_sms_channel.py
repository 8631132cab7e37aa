"""The SMS and voice clients against a local Starlette endpoint served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import base64
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.notify.channels import (
    Channels,
    OutgoingCall,
    OutgoingSms,
    PermanentFailure,
    TemporaryFailure,
)
from portal.notify.channels.sms import HttpSmsClient, HttpVoiceClient, twiml_say

SID, TOKEN = "AC0123456789", "tok/en+s3cret"
QUOTED_TOKEN = "tok%2Fen%2Bs3cret"
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
CALLS_PATH = f"/2010-04-01/Accounts/{SID}/Calls.json"
SMS = OutgoingSms(to="+14155552671", body="Example Shop: your order A1001 is out for delivery.")


@dataclass
class Provider:
    """A Twilio-like endpoint: records each request, answers from a script of responses."""

    answers: list[Response] = field(default_factory=list)
    requests: list[tuple[str, str | None, dict[str, str]]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def endpoint(self, request: Request) -> Response:
        form = await request.form()
        self.requests.append(
            (
                request.url.path,
                request.headers.get("authorization"),
                {k: str(v) for k, v in form.items()},
            )
        )
        if request.query_params.get("slow"):
            await self.release.wait()
        if self.answers:
            return self.answers.pop(0)
        return JSONResponse({"sid": f"SM{len(self.requests):032d}", "status": "queued"}, 201)

    def basic_auth(self, index: int = 0) -> tuple[str, str]:
        header = self.requests[index][1]
        assert header is not None and header.startswith("Basic ")
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user, password


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    state = Provider()
    app = Starlette(
        routes=[
            Route(MESSAGES_PATH, state.endpoint, methods=["POST"]),
            Route(CALLS_PATH, state.endpoint, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield state, f"http://{SID}:{QUOTED_TOKEN}@127.0.0.1:{port}"
    finally:
        state.release.set()
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_posts_the_form_with_basic_auth_from_the_url(
    provider: tuple[Provider, str], http: httpx.AsyncClient
) -> None:
    state, base = provider
    client = HttpSmsClient(base + MESSAGES_PATH, "+15005550006", http)
    result = await client.send(SMS)
    path, _, form = state.requests[0]
    assert path == MESSAGES_PATH
    assert form == {"To": SMS.to, "From": "+15005550006", "Body": SMS.body}
    assert state.basic_auth() == (SID, TOKEN)
    assert result.provider_id == f"SM{1:032d}"
    assert TOKEN not in repr(client) and QUOTED_TOKEN not in client.endpoint.url


async def test_provider_id_from_id_field(
    provider: tuple[Provider, str], http: httpx.AsyncClient
) -> None:
    state, base = provider
    state.answers.append(JSONResponse({"id": "msg-77"}, 200))
    result = await HttpSmsClient(base + MESSAGES_PATH, "Shop", http).send(SMS)
    assert result.provider_id == "msg-77"


async def test_no_credentials_no_auth_header(
    provider: tuple[Provider, str], http: httpx.AsyncClient
) -> None:
    state, base = provider
    bare = base.replace(f"{SID}:{QUOTED_TOKEN}@", "")
    await HttpSmsClient(bare + MESSAGES_PATH, "Shop", http).send(SMS)
    assert state.requests[0][1] is None


@pytest.mark.parametrize(
    ("status", "body", "headers", "failure", "retry_after"),
    [
        (503, {"message": "Service Unavailable"}, {}, TemporaryFailure, None),
        (500, {}, {}, TemporaryFailure, None),
        (
            429,
            {"code": 20429, "message": "Too Many Requests"},
            {"Retry-After": "30"},
            TemporaryFailure,
            30.0,
        ),
        (
            400,
            {"code": 21211, "message": "The 'To' number is not a valid phone number."},
            {},
            PermanentFailure,
            None,
        ),
        (401, {"code": 20003, "message": "Authenticate"}, {}, PermanentFailure, None),
        (404, {}, {}, PermanentFailure, None),
    ],
)
async def test_error_answers(
    provider: tuple[Provider, str],
    http: httpx.AsyncClient,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    failure: type[Exception],
    retry_after: float | None,
) -> None:
    state, base = provider
    state.answers.append(JSONResponse(body, status, headers=headers))
    with pytest.raises(failure) as caught:
        await HttpSmsClient(base + MESSAGES_PATH, "Shop", http).send(SMS)
    text = str(caught.value)
    assert f"HTTP {status}" in text
    if "code" in body:
        assert str(body["code"]) in text
    assert TOKEN not in text and QUOTED_TOKEN not in text
    if isinstance(caught.value, TemporaryFailure):
        assert caught.value.retry_after == retry_after


async def test_timeout_is_temporary(provider: tuple[Provider, str]) -> None:
    _, base = provider
    async with httpx.AsyncClient(timeout=0.2) as http:
        client = HttpSmsClient(base + MESSAGES_PATH + "?slow=1", "Shop", http)
        with pytest.raises(TemporaryFailure, match="timed out") as caught:
            await client.send(SMS)
    assert TOKEN not in str(caught.value)


async def test_provider_down_is_temporary(http: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = HttpSmsClient(f"http://{SID}:{QUOTED_TOKEN}@127.0.0.1:{port}/sms", "Shop", http)
    with pytest.raises(TemporaryFailure) as caught:
        await client.send(SMS)
    assert TOKEN not in str(caught.value) and QUOTED_TOKEN not in str(caught.value)


async def test_voice_call_posts_escaped_twiml(
    provider: tuple[Provider, str], http: httpx.AsyncClient
) -> None:
    state, base = provider
    script = 'Hola, Ada.\nSu pedido <A1001> & "otro" llegará tarde.'
    client = HttpVoiceClient(base + CALLS_PATH, "+15005550006", http)
    result = await client.send(OutgoingCall(to="+14155552671", script=script, locale="es"))
    path, _, form = state.requests[0]
    assert path == CALLS_PATH and result.provider_id.startswith("SM")
    assert form["To"] == "+14155552671" and form["From"] == "+15005550006"
    root = ET.fromstring(form["Twiml"])
    say = root.find("Say")
    assert root.tag == "Response" and say is not None
    assert say.get("language") == "es-ES"
    assert say.text == " ".join(script.split())
    assert state.basic_auth() == (SID, TOKEN)


def test_twiml_escapes_markup() -> None:
    assert twiml_say("a < b & c", "en") == (
        '<Response><Say language="en-US">a &lt; b &amp; c</Say></Response>'
    )


async def test_factory_builds_http_clients(provider: tuple[Provider, str], tmp_path: Any) -> None:
    state, base = provider
    async with Channels.build(
        None,
        base + MESSAGES_PATH,
        base + CALLS_PATH,
        tmp_path,
        "no-reply@shop.example",
        "+15005550006",
    ) as channels:
        assert isinstance(channels.sms, HttpSmsClient)
        assert isinstance(channels.voice, HttpVoiceClient)
        await channels.sms.send(SMS)
        await channels.voice.send(OutgoingCall(to=SMS.to, script="Hello."))
    assert [r[0] for r in state.requests] == [MESSAGES_PATH, CALLS_PATH]
    assert channels.http is not None and channels.http.is_closed
    assert not (tmp_path / "sms.log").exists()


@pytest.mark.parametrize("url", ["ftp://host/x", "not a url", "https:///path"])
async def test_bad_provider_urls(url: str, http: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError):
        HttpSmsClient(url, "Shop", http)
