"""Creating and revoking share links as staff or the shop's CRM, each logged in the CRM."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ...models import Order, ShareLink
from ..interactions import InteractionEntry, record_interaction
from ..links import IssuedLink, issue_link, revoke_order_link
from ..timeline import UnitOfWork
from .actor import Actor
from .bell import INTERACTIONS, LINKS, ring_after_commit

CREATED_BY_LENGTH = 64  # the share_links.created_by column


def _link_entry(actor: Actor, action: InteractionAction, summary: str) -> InteractionEntry:
    return InteractionEntry(
        channel=InteractionChannel.WEB,
        direction=Direction.OUTBOUND,
        outcome=InteractionOutcome.RESOLVED,
        summary=summary,
        staff=actor.name,
        staff_user_id=actor.staff_user_id,
        action=action,
    )


async def create_link(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    *,
    actor: Actor,
    expires_in_days: int | None,
    now: datetime,
) -> IssuedLink:
    """A new share link made by ``actor``: its token is in the answer only (stored hashed)."""
    issued = issue_link(
        session,
        order,
        now=now,
        expires_in_days=expires_in_days,
        created_by=actor.name[:CREATED_BY_LENGTH],
    )
    await session.flush()
    days = f"expires in {expires_in_days} days" if expires_in_days else "never expires"
    record_interaction(
        session,
        order,
        _link_entry(
            actor, InteractionAction.LINK_CREATED, f"Share link {issued.link.id} created ({days})"
        ),
        now=now,
    )
    ring_after_commit(uow, order, LINKS, INTERACTIONS)
    return issued


async def revoke_link(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    link_id: int,
    *,
    actor: Actor,
    now: datetime,
) -> ShareLink:
    """Revoke one of ``order``'s links (NotFound for another order's); a second revocation
    changes nothing and logs nothing. Sockets on it are closed by the caller after commit."""
    link, revoked = await revoke_order_link(session, order, link_id, now)
    if revoked:
        record_interaction(
            session,
            order,
            _link_entry(actor, InteractionAction.LINK_REVOKED, f"Share link {link_id} revoked"),
            now=now,
        )
        ring_after_commit(uow, order, LINKS, INTERACTIONS)
    return link
