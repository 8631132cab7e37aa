"""Share-link guessing: 429 with Retry-After after 20 unknown tokens a minute per client, on pages
and the websocket, keyed on the real client behind a trusted proxy only."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from portal.proxies import parse_networks
from portal.settings import Settings
from portal.web.link_guard import UNKNOWN_TOKENS_PER_MINUTE
from tests.integration.conftest import Portal
from tests.integration.live.conftest import MakePortal
from tests.integration.test_pages import path_of

PROXY = "203.0.113.7"  # the test client's address (tests/integration/conftest.py)


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/portal.db"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, trusted_proxies=parse_networks(PROXY))


def guess(n: int) -> str:
    return f"/t/guessed-token-{n:04d}-xxxxxxxxxxxxxxxx"


async def test_guessing_is_429_after_the_limit_and_others_go_on(portal: Portal) -> None:
    order = await portal.create_order()
    real = path_of(order["tracking_url"])
    alice = {"X-Forwarded-For": "198.51.100.1"}
    for n in range(UNKNOWN_TOKENS_PER_MINUTE):
        assert (await portal.client.get(guess(n), headers=alice)).status_code == 404
    refused = await portal.client.get(real, headers=alice)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert order["order_number"] not in refused.text
    assert (await portal.client.post(guess(99), headers=alice)).status_code == 429
    # Another client behind the same proxy is not affected; nor are other pages.
    assert (
        await portal.client.get(real, headers={"X-Forwarded-For": "198.51.100.2"})
    ).status_code == 200
    assert (await portal.client.get("/track", headers=alice)).status_code == 200
    # Once the minute has passed (the guard's clock is monotonic: forget the hits), it may again.
    portal.app.state.link_guard.limiter._hits.clear()
    assert (await portal.client.get(real, headers=alice)).status_code == 200


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(portal: Portal) -> None:
    transport = httpx.ASGITransport(app=portal.app, client=("192.0.2.50", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as other:
        for n in range(UNKNOWN_TOKENS_PER_MINUTE):
            spoofed = {"X-Forwarded-For": f"198.51.100.{n + 10}"}
            assert (await other.get(guess(n), headers=spoofed)).status_code == 404
        # Every guess counted against the peer itself, whatever it claimed to forward.
        assert (
            await other.get(guess(50), headers={"X-Forwarded-For": "1.2.3.4"})
        ).status_code == 429
    assert (await portal.client.get(guess(51))).status_code == 404  # the proxy's own key


async def test_websocket_guesses_count_and_a_blocked_client_is_refused_with_429(
    make_portal: MakePortal,
) -> None:
    server, api = await make_portal()
    _, token = await api.create_order()
    origin = server.runtime.settings.base_origin
    for n in range(UNKNOWN_TOKENS_PER_MINUTE):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.ws_url(f"guessed-{n:04d}-xxxxxxxxxxxx"), origin=origin):  # type: ignore[arg-type]
                pytest.fail("accepted")
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url(token), origin=origin):  # type: ignore[arg-type]
            pytest.fail("accepted")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "60"
    page = await api.client.get(f"/t/{token}")
    assert page.status_code == 429
