"""Share links: random tokens, stored only as hashes, with expiry and revocation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from ..errors import NotFound
from ..models import Order, ShareLink
from ..security import hash_token, new_token

PLACEMENT_LINK_DAYS = 180


@dataclass(frozen=True, slots=True)
class IssuedLink:
    token: str
    link: ShareLink

    def path(self) -> str:
        return f"/t/{self.token}"


def issue_link(
    session: AsyncSession,
    order: Order,
    *,
    now: datetime,
    expires_in_days: int | None,
    created_by: str,
) -> IssuedLink:
    """A new share link for an order; the token is returned once and stored only hashed."""
    assert order.id is not None
    token = new_token()
    link = ShareLink(
        order_id=order.id,
        token_hash=hash_token(token),
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(link)
    return IssuedLink(token, link)


async def resolve_link(
    session: AsyncSession, token: str, now: datetime
) -> tuple[ShareLink, Order] | None:
    """The live link and its order, or None for unknown, expired and revoked tokens alike."""
    if not _plausible(token):
        return None
    stmt = (
        select(ShareLink, Order)
        .join(Order, col(Order.id) == col(ShareLink.order_id))
        .where(col(ShareLink.token_hash) == hash_token(token))
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    link, order = row
    return (link, order) if _is_live(link.revoked_at, link.expires_at, now) else None


_LINK_TARGET = (
    select(
        col(ShareLink.id),
        col(Order.order_number),
        col(ShareLink.revoked_at),
        col(ShareLink.expires_at),
    )
    .join(Order, col(Order.id) == col(ShareLink.order_id))
    .where(col(ShareLink.token_hash) == bindparam("token_hash"))
)


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """A share link as the tracking socket needs it: plain values, no ORM object."""

    link_id: int
    order_number: str
    revoked_at: datetime | None
    expires_at: datetime | None

    def live_at(self, now: datetime) -> tuple[int, str] | None:
        """(link id, order number) if the link opens its order at ``now``, else None."""
        if not _is_live(self.revoked_at, self.expires_at, now):
            return None
        return self.link_id, self.order_number


_LINK_TARGETS = (
    select(
        col(ShareLink.token_hash),
        col(ShareLink.id),
        col(Order.order_number),
        col(ShareLink.revoked_at),
        col(ShareLink.expires_at),
    )
    .join(Order, col(Order.id) == col(ShareLink.order_id))
    .where(col(ShareLink.token_hash).in_(bindparam("token_hashes", expanding=True)))
)


async def read_link_targets(
    connection: AsyncConnection, tokens: Sequence[str]
) -> dict[str, LinkTarget]:
    """The links of ``tokens`` (live or not) by token, in one query; unknown ones left out.

    For reconnect storms: the tracking socket's concurrent look-ups share one query
    (:class:`realtime.batch.Batcher`). Liveness is for the caller to judge, at its own time.
    """
    by_hash = {hash_token(token): token for token in tokens if _plausible(token)}
    if not by_hash:
        return {}
    rows = await connection.execute(_LINK_TARGETS, {"token_hashes": list(by_hash)})
    return {
        by_hash[token_hash]: LinkTarget(link_id, order_number, revoked_at, expires_at)
        for token_hash, link_id, order_number, revoked_at, expires_at in rows.all()
        if link_id is not None
    }


async def why_not_live(session: AsyncSession, token: str, now: datetime) -> str:
    """Why a token opens nothing: ``expired``, ``revoked`` or ``unknown`` (``live`` if it does)."""
    if not _plausible(token):
        return "unknown"
    row = (await session.execute(_LINK_TARGET, {"token_hash": hash_token(token)})).first()
    if row is None:
        return "unknown"
    _, _, revoked_at, expires_at = row
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "live"


def _plausible(token: str) -> bool:
    """Worth a lookup: tokens are short, and an empty or huge one is refused unread."""
    return 0 < len(token) <= 128


def _is_live(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > now)


async def link_is_live(session: AsyncSession, link_id: int, now: datetime) -> bool:
    link = await session.get(ShareLink, link_id)
    return link is not None and _is_live(link.revoked_at, link.expires_at, now)


async def count_use(session: AsyncSession, link_id: int, now: datetime) -> None:
    stmt = (
        update(ShareLink)
        .where(col(ShareLink.id) == link_id)
        .values(use_count=col(ShareLink.use_count) + 1, last_used_at=now)
    )
    await session.execute(stmt)


async def revoke_link(session: AsyncSession, link_id: int, now: datetime) -> None:
    link = await session.get(ShareLink, link_id)
    if link is not None and link.revoked_at is None:
        link.revoked_at = now
        session.add(link)


async def links_of(session: AsyncSession, order_id: int) -> list[ShareLink]:
    """An order's share links, newest first."""
    stmt = (
        select(ShareLink)
        .where(col(ShareLink.order_id) == order_id)
        .order_by(col(ShareLink.created_at).desc(), col(ShareLink.id).desc())
    )
    return list((await session.execute(stmt)).scalars())


async def revoke_order_link(
    session: AsyncSession, order: Order, link_id: int, now: datetime
) -> tuple[ShareLink, bool]:
    """Revoke one of ``order``'s links; (the link, whether this call revoked it).

    A link of another order is NotFound, as an unknown one: ids are not secrets, but a
    revocation must name the order it belongs to.
    """
    link = await session.get(ShareLink, link_id)
    if link is None or link.order_id != order.id:
        raise NotFound(f"order {order.order_number} has no link {link_id}")
    if link.revoked_at is not None:
        return link, False
    link.revoked_at = now
    session.add(link)
    return link, True


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def link_json(link: ShareLink) -> dict[str, Any]:
    """The API's form of a link (DESIGN.md): never its token, nor the token's hash."""
    return {
        "id": link.id,
        "created_at": _iso(link.created_at),
        "created_by": link.created_by,
        "expires_at": _iso(link.expires_at),
        "revoked_at": _iso(link.revoked_at),
        "use_count": link.use_count,
        "last_used_at": _iso(link.last_used_at),
    }
