"""Prometheus metrics, one registry per app so several apps can live in one test process."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "portal_http_requests_total",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "portal_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.events_published = Counter(
            "portal_events_published_total", "Order events published to the broker", registry=r
        )
        self.publish_failures = Counter(
            "portal_publish_failures_total",
            "Publishes that failed (the broker was down)",
            registry=r,
        )
        self.webhooks = Counter(
            "portal_webhooks_total",
            "Carrier webhooks by carrier and outcome",
            ["carrier", "outcome"],
            registry=r,
        )
        self.publish_queue = Gauge(
            "portal_publish_queue",
            "Orders with a doorbell waiting for the broker (portal/publisher.py)",
            registry=r,
        )
        self.publish_dropped = Counter(
            "portal_publish_dropped_total",
            "Doorbells dropped because the publish queue was full (repaired from the database)",
            registry=r,
        )
        self.webhook_secret_matches = Counter(
            "portal_webhook_secret_matches_total",
            "Verified webhooks by carrier and the secret that matched (0: the first listed in "
            "PORTAL_WEBHOOK_SECRET_<CARRIER>; another slot means an old secret is still in use)",
            ["carrier", "slot"],
            registry=r,
        )
        self.webhook_unknown_statuses = Counter(
            "portal_webhook_unknown_statuses_total",
            "Carrier checkpoints whose status code no mapping knows (stored as unknown)",
            ["carrier"],
            registry=r,
        )
        self.notifications = Counter(
            "portal_notifications_total",
            "Notification outcomes by channel",
            ["channel", "state"],
            registry=r,
        )
        self.sla_breaches = Counter(
            "portal_sla_breaches_total",
            "SLA breaches recorded, by target (each once, whichever process saw it)",
            ["target"],
            registry=r,
        )
        self.websockets = Gauge("portal_websockets", "Open tracking-page websockets", registry=r)
        self.hub_topics = Gauge(
            "portal_hub_topics", "Orders watched by at least one socket", registry=r
        )
        self.ws_connect_work = Gauge(
            "portal_ws_connect_work",
            "Tracking-socket connects since start: link_lookups asked and link_queries run, "
            "snapshot_reads, snapshots_shared (another socket's read), snapshot_orders read in "
            "snapshot_queries (batched), refused_busy (closed with 1013: too many waiting)",
            ["kind"],
            registry=r,
        )
        self.audit_findings = Gauge(
            "portal_audit_findings",
            "Open audit findings (as of this process's last check of the database)",
            registry=r,
        )
        self.slow_consumers = Counter(
            "portal_ws_slow_consumers_total", "Sockets closed for falling behind", registry=r
        )

    def count_sla_breaches(self, targets: Iterable[str]) -> None:
        """Breaches whose SLA event this process inserted (and committed): each once."""
        for target in targets:
            self.sla_breaches.labels(target).inc()
