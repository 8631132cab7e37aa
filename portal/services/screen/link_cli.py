"""`portal link ORDER --list | --revoke ID`: the links API's service from the command line."""

from __future__ import annotations

import contextlib
from typing import Any

from realtime.broker import create_broker

from ...clock import utcnow
from ...db import Database
from ...settings import Settings
from ..links import link_json, links_of
from ..timeline import UnitOfWork, lock_order, order_channel
from .actor import Actor
from .links import revoke_link

CLI_ACTOR = Actor("cli")


async def list_order_links(db: Database, order_number: str) -> list[dict[str, Any]]:
    """The order's links as the API lists them (PortalError for an unknown order)."""
    async with db.read() as session:
        order = await lock_order(session, order_number)
        assert order.id is not None
        return [link_json(link) for link in await links_of(session, order.id)]


async def revoke_from_cli(
    settings: Settings, db: Database, order_number: str, link_id: int
) -> dict[str, Any]:
    """Revoke a link and announce it; the servers' revocation checks close its sockets."""
    uow = UnitOfWork()
    async with db.write() as session:
        order = await lock_order(session, order_number)
        link = await revoke_link(session, uow, order, link_id, actor=CLI_ACTOR, now=utcnow())
        answer = link_json(link)

    async def ignore(channel: str, message: bytes) -> None:
        return None

    broker = create_broker(settings.redis_url, ignore)
    await broker.start()
    try:
        for published in uow.published:
            # The database has it: an order screen catches up with its next change.
            with contextlib.suppress(Exception):
                await broker.publish(
                    order_channel(settings.instance, published.order_number), published.encode()
                )
    finally:
        await broker.stop()
    return answer
