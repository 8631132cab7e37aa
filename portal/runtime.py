"""Everything a running portal shares between requests, built in the app's lifespan."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse

from realtime.broker import Broker, BrokerUnavailable

from .clock import Clock
from .db import Database
from .metrics import Metrics
from .models import Order, Shipment
from .services.outbox import Notifier
from .services.timeline import UnitOfWork, order_channel
from .services.webhooks import apply_unmatched
from .settings import Settings
from .web.ratelimit import RateLimiter
from .web.render import LiveRenderer

log = logging.getLogger(__name__)


class Runtime:
    """Shared resources: settings, database, broker, hub, templates, clock, metrics."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        env: Environment,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.db = db
        self.env = env
        self.clock = clock
        self.metrics = metrics
        self.renderer = LiveRenderer(env)
        self.lookup_limiter = RateLimiter(limit=10, window=300)
        # Console sign-in attempts per address (the per-account lockout is in the database).
        self.login_limiter = RateLimiter(limit=60, window=300)
        self.broker: Broker  # set by the lifespan once the hub exists
        self.hub: Any = None
        self.screen_hub: Any = None  # the order screens' hub, following `hub`
        self.screen_feed: Any = None
        self.notifier = Notifier.from_settings(settings)
        self.link_watch: Any = None
        self.dispatcher: Any = None
        self.inquiry_bell: Any = None  # portal.services.inquiry_watch.InquiryBell
        self.breach_watcher: Any = None  # portal.services.inquiry_watch.BreachWatcher
        self.page_globals = {
            "shop_name": settings.shop_name,
            "support_email": settings.support_email,
        }

    def channel(self, order_number: str) -> str:
        return order_channel(self.settings.instance, order_number)

    def new_uow(self) -> UnitOfWork:
        return UnitOfWork(notifier=self.notifier)

    def page(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render({**self.page_globals, **context})
        return HTMLResponse(html, status_code=status, headers=dict(headers or {}))

    async def after_commit(self, uow: UnitOfWork) -> None:
        """Ring the doorbell for every event a committed transaction recorded.

        A failed publish loses nothing: the database holds the event, and sockets repair
        gaps from it when the next message arrives or the broker reconnects.
        """
        for published in uow.published:
            try:
                await self.broker.publish(self.channel(published.order_number), published.encode())
                self.metrics.events_published.inc()
            except BrokerUnavailable:
                self.metrics.publish_failures.inc()
                log.warning(
                    "broker unavailable: order %s seq %s not announced",
                    published.order_number,
                    published.seq,
                )
        if uow.notifications and self.dispatcher is not None:
            self.dispatcher.wake()
        await self._inquiries_after_commit(uow)

    async def _inquiries_after_commit(self, uow: UnitOfWork) -> None:
        """Announce changed inquiries; raise priorities after order changes that may."""
        from .services.inquiries import may_raise_priority, raise_after_order_changes

        changed = [i for i in uow.inquiries if i is not None]
        urgent = {p.order_number for p in uow.published if may_raise_priority(p.kind, p.status)}
        if urgent:
            try:
                changed += await raise_after_order_changes(
                    self.db, self.new_uow, self.settings.sla_policy, self.clock(), urgent
                )
            except Exception:
                log.exception("raising inquiry priorities after a change to %s failed", urgent)
        if changed and self.inquiry_bell is not None:
            await self.inquiry_bell.ring(changed)

    async def on_shipment_registered(
        self, session: AsyncSession, uow: UnitOfWork, order: Order, shipment: Shipment
    ) -> None:
        """Apply carrier updates that arrived before the shop registered this shipment."""
        await apply_unmatched(session, uow, order, shipment, now=self.clock())

    def refresh_gauges(self) -> None:
        if self.hub is not None:
            stats = self.hub.stats()
            self.metrics.websockets.set(stats.get("viewers", 0))
            self.metrics.hub_topics.set(stats.get("topics", 0))
