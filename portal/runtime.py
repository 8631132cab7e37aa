"""Everything a running portal shares between requests, built whole in the app's lifespan.

To give a feature a long-lived part (a hub of its own, a cache, a client), add a typed field
to `Runtime` and build it in `build_runtime`; to run a loop beside the server, add a
`BackgroundTask` to `portal.app.BACKGROUND_TASKS`. Nothing is set on a Runtime after it is
built (it is frozen), so a part is never missing while the app serves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse

from realtime.admission import Admission
from realtime.batch import Batcher
from realtime.broker import Broker, BrokerUnavailable
from realtime.follower import create_follower_hub
from realtime.hub import Hub, create_hub

from .clock import Clock
from .db import Database
from .metrics import Metrics
from .models import Order, Shipment
from .publisher import Publisher
from .services.dispatch import Dispatcher, in_process_dispatcher
from .services.inquiry_watch import BreachWatcher, InquiryBell, count_breaches
from .services.links import LinkTarget
from .services.outbox import Notifier
from .services.timeline import UnitOfWork, order_channel
from .services.webhooks import apply_unmatched
from .settings import Settings
from .web.live import LinkWatch, OrderFeed, link_lookups
from .web.ratelimit import RateLimiter
from .web.render import LiveRenderer
from .web.screen.feed import ScreenFeed

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Runtime:
    """Shared resources: settings, database, hub and broker, templates, clock, metrics."""

    settings: Settings
    db: Database
    env: Environment
    clock: Clock
    metrics: Metrics
    renderer: LiveRenderer
    hub: Hub
    # The order screens' hub, following `hub` (one subscription per order for both), and its
    # source of frames.
    screen_hub: Hub
    screen_feed: ScreenFeed
    link_watch: LinkWatch
    # The tracking socket's share-link look-ups: concurrent connects share one query.
    link_lookups: Batcher[str, LinkTarget]
    # The tracking socket's source of frames (its snapshots of one moment are read together).
    order_feed: OrderFeed
    notifier: Notifier
    # The in-process notification dispatcher; None when this process sends nothing.
    dispatcher: Dispatcher | None
    # Changed inquiries announced across processes, and the SLA breach detector it feeds.
    inquiry_bell: InquiryBell
    breach_watcher: BreachWatcher
    lookup_limiter: RateLimiter
    # Console sign-in attempts per address (the per-account lockout is in the database).
    login_limiter: RateLimiter
    page_globals: Mapping[str, str]
    # Doorbells after commit, rung by a background worker (none running: rung in the caller).
    publisher: Publisher

    @property
    def broker(self) -> Broker:
        return self.hub.broker

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

        The one place that publishes. A failed publish loses nothing: the database holds the
        event, and sockets repair gaps from it when the next message arrives or the broker
        reconnects.
        """
        for published in uow.published:
            if self.publisher.running:
                self.publisher.offer(self.channel(published.order_number), published.encode())
                continue
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
        """Count the breaches recorded, announce changed inquiries, raise priorities after order
        changes that may."""
        from .services.inquiries import may_raise_priority, raise_after_order_changes

        changed = [i for i in uow.inquiries if i is not None]
        urgent = {p.order_number for p in uow.published if may_raise_priority(p.kind, p.status)}
        if uow.sla_breaches:
            await count_breaches(self.db, self.metrics)
        if changed:
            await self.inquiry_bell.ring(changed)
        if urgent:
            raised = self.new_uow()
            try:
                await raise_after_order_changes(
                    self.db, raised, self.settings.sla_policy, self.clock(), urgent
                )
            except Exception:
                log.exception("raising inquiry priorities after a change to %s failed", urgent)
            else:
                # Its own commit: its breaches, queue entries and order screens, announced
                # like any other (its bells are never urgent, so this does not recurse).
                await self.after_commit(raised)

    async def on_shipment_registered(
        self, session: AsyncSession, uow: UnitOfWork, order: Order, shipment: Shipment
    ) -> None:
        """Apply carrier updates that arrived before the shop registered this shipment."""
        await apply_unmatched(session, uow, order, shipment, now=self.clock())

    def refresh_gauges(self) -> None:
        stats = self.hub.stats()
        self.metrics.websockets.set(stats.get("viewers", 0))
        self.metrics.hub_topics.set(stats.get("topics", 0))
        work = self.metrics.ws_connect_work
        for kind in ("snapshot_reads", "snapshots_shared", "refused_busy"):
            work.labels(kind).set(stats.get(kind, 0))
        work.labels("link_lookups").set(self.link_lookups.keys)
        work.labels("link_queries").set(self.link_lookups.queries)
        work.labels("snapshot_orders").set(self.order_feed.views.keys)
        work.labels("snapshot_queries").set(self.order_feed.views.queries)


@dataclass(frozen=True)
class BackgroundTask:
    """A loop the server runs beside requests, from start to shutdown (cancelled then)."""

    name: str
    run: Callable[[Runtime], Coroutine[Any, Any, None]]
    enabled: Callable[[Runtime], bool] = lambda runtime: True


def build_runtime(settings: Settings, db: Database, env: Environment, clock: Clock) -> Runtime:
    """Every shared part, wired; the broker is started by the lifespan."""
    metrics = Metrics()
    renderer = LiveRenderer(env)
    feed = OrderFeed(settings, db, renderer)
    hub_channel = partial(order_channel, settings.instance)
    hub = create_hub(
        settings.redis_url,
        feed,
        channel_for=hub_channel,
        snapshot_reuse=settings.ws_snapshot_reuse,
        admission=Admission(settings.ws_catchup_concurrency, settings.ws_catchup_queue),
    )
    inquiry_bell = InquiryBell(settings.redis_url, settings.instance)
    dispatcher = (
        in_process_dispatcher(settings, clock, metrics, hub.broker, db, inquiry_bell)
        if settings.dispatcher
        else None
    )
    # The screens' source renders with features' extensions, which take the whole runtime.
    built: list[Runtime] = []
    screen_feed = ScreenFeed(env, lambda: built[0])
    runtime = Runtime(
        settings=settings,
        db=db,
        env=env,
        clock=clock,
        metrics=metrics,
        renderer=renderer,
        hub=hub,
        screen_hub=create_follower_hub(hub, screen_feed, channel_for=hub_channel),
        screen_feed=screen_feed,
        link_watch=LinkWatch(),
        link_lookups=link_lookups(db, settings.ws_batch_window),
        order_feed=feed,
        notifier=Notifier.from_settings(settings),
        dispatcher=dispatcher,
        inquiry_bell=inquiry_bell,
        breach_watcher=BreachWatcher(
            db, settings.sla_policy, clock, inquiry_bell, metrics, broker=hub.broker
        ),
        lookup_limiter=RateLimiter(limit=10, window=300),
        login_limiter=RateLimiter(limit=60, window=300),
        page_globals={"shop_name": settings.shop_name, "support_email": settings.support_email},
        publisher=Publisher(hub.broker, metrics),
    )
    built.append(runtime)
    return runtime
