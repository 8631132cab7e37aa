"""WS /t/{token}/ws refuses bad tokens and foreign or missing Origins at the handshake, and
closes sockets whose link is revoked or expires while they are open."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from portal.models import ShareLink
from portal.security import hash_token
from portal.services.links import revoke_link
from portal.web import live
from tests.eventually import eventually
from tests.integration.conftest import FrozenClock
from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import InProcessPortal, Watcher


async def revoke(server: InProcessPortal, token: str) -> None:
    runtime = server.runtime
    async with runtime.db.write() as session:
        link_id = (
            await session.execute(
                select(col(ShareLink.id)).where(col(ShareLink.token_hash) == hash_token(token))
            )
        ).scalar_one()
        await revoke_link(session, link_id, runtime.clock())


@pytest.mark.parametrize("case", ["unknown token", "expired", "revoked", "foreign", "missing"])
async def test_refused_at_the_handshake_with_403_and_no_data(
    make_portal: MakePortal, clock: FrozenClock, case: str
) -> None:
    server, api = await make_portal()
    origin: str | None = server.runtime.settings.base_origin
    number, token = await api.create_order()
    if case == "unknown token":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif case == "expired":
        token = await api.link(number, expires_in_days=1)
        clock.advance(days=1, seconds=1)
    elif case == "revoked":
        await revoke(server, token)
    elif case == "foreign":
        origin = "http://evil.example"
    else:
        origin = None
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url(token), origin=origin, open_timeout=5):  # type: ignore[arg-type]
            pytest.fail("the upgrade was accepted")
    assert refused.value.response.status_code == 403
    assert refused.value.response.body in (b"", None)
    # Nothing was watched or subscribed on the refused socket's behalf.
    assert server.runtime.hub.stats()["viewers"] == 0
    assert server.runtime.broker.subscriptions == frozenset()


@pytest.mark.parametrize("ending", ["revoked", "expired"])
async def test_a_link_that_dies_while_open_is_closed_with_1008(
    make_portal: MakePortal, clock: FrozenClock, ending: str
) -> None:
    server, api = await make_portal()
    origin = server.runtime.settings.base_origin
    number, token = await api.create_order()
    dying = await api.link(number, expires_in_days=1)
    doomed = await Watcher.open(server.ws_url(dying), origin)
    other = await Watcher.open(server.ws_url(token), origin)
    await eventually(lambda: bool(doomed.frames and other.frames))
    if ending == "revoked":
        await revoke(server, dying)
    else:
        clock.advance(days=1, seconds=1)
    await server.runtime.link_watch.check(server.runtime)
    assert await doomed.wait_closed(5) == 1008
    assert doomed.close_reason == "link revoked"
    # The socket on the other link of the same order goes on receiving.
    await api.delay(number)
    await other.wait_for(2)
    assert not other.closed.is_set()
    assert other.seqs() == [1, 2]
    await other.close()
    await eventually(lambda: server.runtime.hub.stats()["viewers"] == 0)


async def test_the_link_watch_runs_by_itself(
    make_portal: MakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "REVOCATION_CHECK_SECONDS", 0.2)
    server, api = await make_portal()
    _, token = await api.create_order()
    watcher = await Watcher.open(server.ws_url(token), server.runtime.settings.base_origin)
    await eventually(lambda: bool(watcher.frames))
    await revoke(server, token)
    # The lifespan's watch checks every REVOCATION_CHECK_SECONDS (10 s; 0.2 s here).
    assert await watcher.wait_closed(5) == 1008
