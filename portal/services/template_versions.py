"""Notification template versions: history, diffs, previews, and saving a checked new version.

The shipped files are version 1 of every kind, channel and locale; each edit saves every part
of one kind, channel and locale as the next version (TemplateVersion rows), so a version is
always complete and a notice's `template_version` names exactly what rendered it. The outbox
(portal.services.outbox.Notifier.templates) picks a new version up on its next notice.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import Delay, Order, Shipment, TemplateVersion
from ..notify.kinds import Channel, NotificationKind
from ..notify.samples import sample_context
from ..notify.template_check import problems
from ..notify.templates import (
    DEFAULT_DIRECTORY,
    PARTS,
    NoticeContext,
    Rendered,
    TemplateSet,
    read_directory,
)
from ..settings import Settings
from .outbox import notice_context

SHIPPED_BY = "shipped with the portal"


@dataclass(frozen=True, slots=True)
class Version:
    """One version of one kind, channel and locale: every part's source, who and when."""

    version: int
    parts: Mapping[str, str]
    created_by: str
    created_at: datetime | None = None
    changed: tuple[str, ...] = field(default_factory=tuple)


def parse_key(kind: str, channel: str, locale: str) -> tuple[NotificationKind, Channel, str]:
    """The template a URL names, or NotFound."""
    try:
        return NotificationKind(kind), Channel(channel), locale.lower()
    except ValueError:
        raise NotFound(f"no templates for {kind} by {channel}") from None


def shipped_parts(kind: NotificationKind, channel: Channel, locale: str) -> dict[str, str] | None:
    sources = read_directory(DEFAULT_DIRECTORY)
    found = {
        part: sources[(kind.value, channel.value, locale, part)][1]
        for part in PARTS[channel]
        if (kind.value, channel.value, locale, part) in sources
    }
    return found if len(found) == len(PARTS[channel]) else None


async def history(
    session: AsyncSession, kind: NotificationKind, channel: Channel, locale: str
) -> list[Version]:
    """Every version, oldest first, each with the parts it changed from the one before."""
    rows = (
        await session.execute(
            select(TemplateVersion)
            .where(
                col(TemplateVersion.kind) == kind.value,
                col(TemplateVersion.channel) == channel.value,
                col(TemplateVersion.locale) == locale,
            )
            .order_by(col(TemplateVersion.version), col(TemplateVersion.part))
        )
    ).scalars()
    stored: dict[int, list[TemplateVersion]] = {}
    for row in rows:
        stored.setdefault(row.version, []).append(row)
    versions: list[Version] = []
    shipped = shipped_parts(kind, channel, locale)
    if shipped is not None:
        versions.append(Version(1, shipped, SHIPPED_BY))
    for number, parts in sorted(stored.items()):
        sources = {r.part: r.source for r in parts}
        before = versions[-1].parts if versions else {}
        changed = tuple(p for p in PARTS[channel] if sources.get(p) != before.get(p))
        versions.append(Version(number, sources, parts[0].created_by, parts[0].created_at, changed))
    if not versions:
        raise NotFound(f"no {locale} templates for {kind.value} by {channel.value}")
    return versions


def diff(older: Version, newer: Version) -> dict[str, list[str]]:
    """Per part, the unified diff from `older` to `newer` (parts without change left out)."""
    out: dict[str, list[str]] = {}
    for part in newer.parts:
        lines = list(
            difflib.unified_diff(
                older.parts.get(part, "").splitlines(),
                newer.parts[part].splitlines(),
                f"version {older.version}",
                f"version {newer.version}",
                lineterm="",
            )
        )
        if lines:
            out[part] = lines
    return out


async def preview_context(
    session: AsyncSession,
    settings: Settings,
    order_number: str | None,
    kind: NotificationKind,
    today: date,
) -> NoticeContext:
    """The sample order's context, or a real order's for a notice of ``kind`` (with a stand-in
    link: no token made): its latest shipment, and its latest delay for a delay notice only, as
    the outbox gives them (only the delayed milestone's notices are about a delay)."""
    if not order_number:
        return sample_context(today, base_url=settings.base_url)
    order = (
        await session.execute(select(Order).where(col(Order.order_number) == order_number))
    ).scalar_one_or_none()
    if order is None:
        raise ValidationFailed(f"there is no order {order_number}")
    shipment = (
        (
            await session.execute(
                select(Shipment)
                .where(col(Shipment.order_id) == order.id)
                .order_by(col(Shipment.id).desc())
            )
        )
        .scalars()
        .first()
    )
    delay = None
    if kind is NotificationKind.DELAY:
        delay = (
            (
                await session.execute(
                    select(Delay)
                    .where(col(Delay.order_id) == order.id)
                    .order_by(col(Delay.id).desc())
                )
            )
            .scalars()
            .first()
        )
    ctx, _ = await notice_context(
        session, settings, order, "/t/preview-link", today, shipment=shipment, delay=delay
    )
    return ctx


def render_candidate(
    base: TemplateSet,
    kind: NotificationKind,
    channel: Channel,
    locale: str,
    parts: Mapping[str, str],
    ctx: NoticeContext,
) -> Rendered:
    """The candidate rendered with `ctx` in `locale`; RenderError when it cannot be."""
    overrides = {(kind.value, channel.value, locale, p): (0, s) for p, s in parts.items()}
    return base.with_overrides(overrides).render(kind, channel, locale, ctx)


async def save_version(
    session: AsyncSession,
    base: TemplateSet,
    kind: NotificationKind,
    channel: Channel,
    locale: str,
    parts: Mapping[str, str],
    *,
    author: str,
    now: datetime,
    base_url: str,
) -> int:
    """Store the candidate as the next version, or raise ValidationFailed with the problems."""
    found = problems(base, kind, channel, locale, parts, today=now.date(), base_url=base_url)
    if found:
        raise ValidationFailed(
            "this version cannot be saved", details=[{"msg": problem} for problem in found]
        )
    current = (
        await session.execute(
            select(func.max(col(TemplateVersion.version))).where(
                col(TemplateVersion.kind) == kind.value,
                col(TemplateVersion.channel) == channel.value,
                col(TemplateVersion.locale) == locale,
            )
        )
    ).scalar()
    version = max(int(current or 1), 1) + 1
    for part in PARTS[channel]:
        session.add(
            TemplateVersion(
                kind=kind.value,
                channel=channel.value,
                locale=locale,
                part=part,
                version=version,
                source=parts[part],
                created_by=author,
                created_at=now,
            )
        )
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("someone saved another version at the same moment; reload") from None
    return version
