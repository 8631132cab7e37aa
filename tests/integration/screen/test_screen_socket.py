"""WS /support/ws/orders/{n}: refused at the handshake without a session or from a foreign
Origin; with one, a snapshot of the screen and then every change without reload."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from portal.models import StaffUser
from portal.security import hash_password
from portal.web.pages import feedback_csrf
from tests.eventually import eventually
from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import InProcessPortal, Watcher
from tests.integration.staff_helpers import STAFF_PASSWORD, csrf_in, login


async def signed_in_cookie(server: InProcessPortal) -> str:
    return (await signed_in(server))[0]


async def signed_in(server: InProcessPortal) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a new agent's session on the real server."""
    email = f"agent-{uuid.uuid4().hex[:12]}@shop.example"  # several per test, within a second
    async with server.runtime.db.write() as session:
        session.add(
            StaffUser(
                email=email,
                password_hash=hash_password(STAFF_PASSWORD),
                role="agent",
                created_at=server.runtime.clock(),
            )
        )
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        answer = await login(client, email, STAFF_PASSWORD)
        assert answer.status_code == 303, answer.text
        csrf = csrf_in((await client.get("/support")).text)
        return f"portal_session={client.cookies['portal_session']}", csrf


def screen_url(server: InProcessPortal, number: str) -> str:
    return f"ws://127.0.0.1:{server.port}/support/ws/orders/{number}"


@pytest.mark.parametrize("case", ["no session", "bad session", "foreign", "no origin", "unknown"])
async def test_refused_at_the_handshake(make_portal: MakePortal, case: str) -> None:
    server, api = await make_portal()
    number, token = await api.create_order()
    origin: str | None = server.runtime.settings.base_origin
    headers = {"Cookie": await signed_in_cookie(server)}
    if case == "no session":
        headers = {"Authorization": api.client.headers["Authorization"]}
    elif case == "bad session":
        headers = {"Cookie": "portal_session=" + token}
    elif case == "foreign":
        origin = "http://evil.example"
    elif case == "no origin":
        origin = None
    else:
        number = "NOPE-1"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            screen_url(server, number),
            origin=origin,  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=5,
        ):
            pytest.fail("the upgrade was accepted")
    assert refused.value.response.status_code == 403
    assert server.runtime.screen_hub.stats()["viewers"] == 0
    assert server.runtime.broker.subscriptions == frozenset()


async def test_snapshot_then_changes_without_reload(make_portal: MakePortal) -> None:
    server, api = await make_portal()
    number, token = await api.create_order()
    cookie = await signed_in_cookie(server)
    origin = server.runtime.settings.base_origin
    screen = await Watcher.open(
        screen_url(server, number), origin, additional_headers={"Cookie": cookie}
    )
    customer = await Watcher.open(server.ws_url(token), origin)
    await eventually(lambda: bool(screen.frames and customer.frames))
    assert 'id="screen-links"' in screen.frames[0] and f"Order {number}" in screen.frames[0]
    assert 'hx-swap-oob="true"' in screen.frames[0] and "csrf_token" not in screen.frames[0]
    # One subscription for both hubs.
    assert server.runtime.broker.subscriptions == {server.runtime.channel(number)}

    # A carrier checkpoint.
    await api.shipment(number, "JD0146000099")
    await api.carrier_event("JD0146000099", "in_transit", "Departed Leipzig hub")
    await eventually(lambda: "Departed Leipzig hub" in screen.frames[-1])
    # A customer's page visit: a doorbell with no new event.
    await server.runtime.hub.wait_idle()
    customer_frames = len(customer.frames)
    assert (await api.client.get(f"/t/{token}")).status_code == 200
    await eventually(lambda: 'id="screen-visits">1' in screen.frames[-1])
    # A link revoked over the API.
    links = (await api.client.get(f"/api/v1/orders/{number}/links")).json()["links"]
    await api.client.post(f"/api/v1/orders/{number}/links/{links[0]['id']}/revoke")
    await eventually(lambda: "revoked <time" in screen.frames[-1])
    await server.runtime.hub.wait_idle()
    assert len(customer.frames) == customer_frames
    # The customer's feedback once delivered.
    await api.carrier_event("JD0146000099", "delivered", "Left at the door")
    await eventually(lambda: "Left at the door" in screen.frames[-1])
    secret = server.runtime.settings.secret_key
    sent = await api.client.post(
        f"/t/{token}",
        data={"rating": "4", "comment": "Quick!", "csrf_token": feedback_csrf(secret, number)},
    )
    assert sent.status_code == 303, sent.text
    await eventually(lambda: "<strong>4/5</strong>" in screen.frames[-1])
    customer_frames = len(customer.frames)
    # The customer's hub took the doorbells as duplicates: no extra frame for them.
    await server.runtime.hub.wait_idle()
    assert len(customer.frames) == customer_frames
    assert server.runtime.hub.stats()["duplicates"] >= 1
    await screen.close()
    await eventually(lambda: server.runtime.screen_hub.stats()["viewers"] == 0)
    # The customer still watches: the channel stays; once they leave, nothing is subscribed.
    assert server.runtime.broker.subscriptions == {server.runtime.channel(number)}
    await customer.close()
    await eventually(lambda: server.runtime.broker.subscriptions == frozenset())


async def test_a_notification_sent_appears_without_reload(make_portal: MakePortal) -> None:
    from portal.services.dispatch import in_process_dispatcher, run_in_process

    server, api = await make_portal()
    number, _ = await api.create_order()
    screen = await Watcher.open(
        screen_url(server, number),
        server.runtime.settings.base_origin,
        additional_headers={"Cookie": await signed_in_cookie(server)},
    )
    await eventually(lambda: bool(screen.frames))
    assert 'badge--delivered">sent</span>' not in screen.frames[0]
    # The portal's own dispatcher (no separate event is recorded when a notice goes out).
    rt = server.runtime
    dispatcher = in_process_dispatcher(
        rt.settings, rt.clock, rt.metrics, rt.broker, rt.db, rt.inquiry_bell
    )
    task = asyncio.create_task(run_in_process(dispatcher))
    try:
        await eventually(lambda: 'badge--delivered">sent</span>' in screen.frames[-1])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await screen.close()


async def test_signing_out_closes_the_open_screen(
    make_portal: MakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.web.screen import socket

    monkeypatch.setattr(socket, "SESSION_CHECK_SECONDS", 0.2)
    server, api = await make_portal()
    number, _ = await api.create_order()
    cookie, csrf = await signed_in(server)
    screen = await Watcher.open(
        screen_url(server, number),
        server.runtime.settings.base_origin,
        additional_headers={"Cookie": cookie},
    )
    await eventually(lambda: bool(screen.frames))
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Cookie": cookie}) as client:
        out = await client.post("/support/logout", data={"csrf_token": csrf})
        assert out.status_code == 303
    assert await screen.wait_closed(5) == 1008
