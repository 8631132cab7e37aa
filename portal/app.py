"""The Starlette application: create_app(settings) builds everything in the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext, suppress
from dataclasses import replace

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock, utcnow
from .db import Database, NotMigrated
from .logs import install_redaction, redact
from .metrics import Metrics
from .runtime import BackgroundTask, Runtime, build_runtime
from .server import set_ws_access_log
from .services.dispatch import run_in_process
from .settings import Settings
from .web import (
    api,
    api_crm,
    archive,
    delay_choice,
    inquiries_api,
    inquiry_page,
    inquiry_screen,
    links_api,
    live,
    ops,
    pages,
    queue,
    screen,
    support,
    webhooks,
)
from .web.deadline import BodyDeadline
from .web.errors import HANDLERS
from .web.link_guard import LinkGuard, LinkGuardMiddleware
from .web.render import make_environment, static_dir
from .web.reports_api import routes as report_routes
from .web.review import routes as review_routes
from .web.support import audit as support_audit
from .web.support import delay_choice as support_delay_choice
from .web.support import inquiry as support_inquiry
from .web.support import reports as support_reports
from .web.support import templates_admin as support_templates

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A tracking page's address is its share-link token: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


access_log = logging.getLogger("portal.access")


class SecurityHeaders:
    """Adds the security headers to every HTTP answer, records metrics and a redacted access log."""

    def __init__(self, app: ASGIApp, metrics_of: Callable[[], Metrics | None]) -> None:
        self.app = app
        self.metrics_of = metrics_of

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            # Handed on, not awaited here: a websocket lives for hours, and a frame of this
            # middleware's kept for each would be memory for nothing (same in the two below).
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            client = scope.get("client")
            access_log.info(
                '%s - "%s %s" %s %.1fms',
                client[0] if client else "-",
                scope["method"],
                redact(scope["path"]),
                status_holder["status"],
                elapsed * 1000,
            )
            metrics = self.metrics_of()
            if metrics is not None:
                route = _route_name(scope)
                metrics.http_requests.labels(route, str(status_holder["status"])).inc()
                metrics.http_latency.labels(route).observe(elapsed)


SERVER_GC_THRESHOLDS = (20_000, 20, 20)


@contextmanager
def tuned_collector() -> Iterator[None]:
    """The cyclic garbage collector set up for a server holding thousands of sockets.

    Each pass over the old generation stops the event loop for as long as it takes to walk
    every tracked object, and a socket keeps 130 to 160 of them: with 10,000 sockets one full
    pass took 1.45 s on the 2-core test machine. Two measures, both kept while serving:

    - what start-up built (modules, engines, templates) is frozen out of the collector's
      reach, so full passes walk only what came later;
    - young objects are collected every 20,000 allocations instead of 700, so the objects of
      requests in flight are seldom alive at a collection and rarely promoted to the old
      generation, whose growth is what triggers a full pass (measured at 100 webhooks/s with
      10,000 sockets: no full pass in 15 s instead of one of 1.45 s, and 0.5 s instead of
      1.9 s spent in young collections).
    """
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _route_name(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


async def _run_dispatcher(runtime: Runtime) -> None:
    assert runtime.dispatcher is not None  # enabled only then
    await run_in_process(runtime.dispatcher)


async def _run_audit_schedule(runtime: Runtime) -> None:
    from .services.audit_findings import AuditSchedule

    await AuditSchedule(runtime, runtime.settings.audit_interval).run()


async def _run_publisher(runtime: Runtime) -> None:
    await runtime.publisher.run()


async def _run_link_watch(runtime: Runtime) -> None:
    await runtime.link_watch.run(runtime)


async def _run_breach_watcher(runtime: Runtime) -> None:
    await runtime.breach_watcher.run()


async def _run_broker_fallback(runtime: Runtime) -> None:
    """While the broker is down no doorbell rings: every few seconds, bring the sockets of
    this process up to date from the database (the hubs' gap repair), until it is back."""
    interval = runtime.settings.broker_fallback_interval
    while True:
        await asyncio.sleep(interval)
        try:
            if not await runtime.broker.ping():
                await runtime.hub.on_reconnect()
                await runtime.screen_hub.on_reconnect()
        except Exception:  # the loop must outlive any one round
            log.exception("broker fallback round failed")


# The loops every server process runs beside its requests; a feature adds its own here.
BACKGROUND_TASKS: tuple[BackgroundTask, ...] = (
    BackgroundTask("publisher", _run_publisher),
    BackgroundTask("link-watch", _run_link_watch),
    BackgroundTask(
        "scheduled-audit", _run_audit_schedule, lambda rt: rt.settings.audit_interval > 0
    ),
    BackgroundTask("dispatcher", _run_dispatcher, lambda rt: rt.dispatcher is not None),
    BackgroundTask("breach-watcher", _run_breach_watcher),
    BackgroundTask("broker-fallback", _run_broker_fallback),
)


def create_app(
    settings: Settings,
    *,
    clock: Clock = utcnow,
    migrate: bool | None = None,
    dispatcher: bool | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """Build the portal. Nothing connects until the lifespan starts.

    ``migrate`` and ``dispatcher`` override the settings' ``auto_migrate`` and ``dispatcher``
    (tests and the CLI pass them). ``freeze_heap`` (servers): tune the cyclic garbage
    collector for a long-running server while the app runs (see :func:`tuned_collector`).
    """
    settings = replace(
        settings,
        auto_migrate=settings.auto_migrate if migrate is None else migrate,
        dispatcher=settings.dispatcher if dispatcher is None else dispatcher,
    )
    holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        install_redaction()
        set_ws_access_log(settings.ws_access_log)
        db = Database(settings.database_url, busy_timeout=settings.db_busy_timeout)
        try:
            await _ensure_migrated(db, settings)
            runtime = build_runtime(settings, db, make_environment(), clock)
            async with _running(runtime):
                app.state.runtime = runtime
                holder["runtime"] = runtime
                with tuned_collector() if freeze_heap else nullcontext():
                    yield
        finally:
            await db.dispose()

    def metrics_of() -> Metrics | None:
        runtime = holder.get("runtime")
        return runtime.metrics if runtime else None

    link_guard = LinkGuard()
    app = Starlette(
        routes=_routes(),
        lifespan=lifespan,
        exception_handlers=HANDLERS,
        middleware=[
            Middleware(SecurityHeaders, metrics_of=metrics_of),
            Middleware(LinkGuardMiddleware, guard=link_guard),
            Middleware(BodyDeadline, seconds=settings.body_timeout),
        ],
    )
    app.state.link_guard = link_guard
    return app


async def _ensure_migrated(db: Database, settings: Settings) -> None:
    """Migrate when the settings allow it; refuse to start on an unmigrated database otherwise."""
    if await db.is_migrated():
        return
    if not settings.auto_migrate:
        raise NotMigrated(
            "the database is not migrated to the latest schema: run `portal migrate` "
            "(or start with `portal serve --migrate`)"
        )
    await db.migrate()


@asynccontextmanager
async def _running(runtime: Runtime) -> AsyncIterator[None]:
    """The broker, the inquiry bell and the background tasks, for as long as the app runs;
    on the way out the open sockets are closed (1012: restarting) and everything stopped."""
    await runtime.broker.start()
    await runtime.inquiry_bell.start()
    tasks = [
        asyncio.create_task(task.run(runtime), name=task.name)
        for task in BACKGROUND_TASKS
        if task.enabled(runtime)
    ]
    try:
        yield
    finally:
        await runtime.screen_hub.close_all(1012)
        await runtime.hub.close_all(1012)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        await runtime.inquiry_bell.stop()
        await runtime.broker.stop()


def _routes() -> list[BaseRoute]:
    return [
        *ops.routes,
        *api.routes,
        *inquiries_api.routes,
        *inquiry_page.routes,
        *inquiry_screen.routes,
        *queue.routes,
        *api_crm.routes,
        *links_api.routes,
        *report_routes,
        *review_routes,
        *archive.routes,
        *webhooks.routes,
        *delay_choice.routes,
        *pages.routes,
        *live.routes,
        *support.routes,
        *screen.routes,
        *support_audit.routes,
        *support_inquiry.routes,
        *support_delay_choice.routes,
        *support_reports.routes,
        *support_templates.routes,
        Mount("/static", app=StaticFiles(directory=str(static_dir())), name="static"),
    ]


Handler = Callable[[Request], Awaitable[Response]]
