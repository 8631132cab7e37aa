"""`portal demo`: the embedded default with demo orders and a carrier simulator.

Everything the simulator does goes through the public doors: the order API with an API key,
and signed carrier webhooks (the generic Standard Webhooks receiver), exactly as a shop and a
carrier would use them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from carriers.registry import get_adapter

from .app import create_app
from .db import Database
from .demo_console import seed_console
from .demo_terminal import ensure_demo_agent, quiet_logging, step_line, summary
from .server import uvicorn_kwargs
from .settings import DEFAULT_BASE_URL, DEFAULT_SHOP_NAME, Settings

log = logging.getLogger("portal.demo")

CUSTOMERS = (
    ("Ada Lovelace", "ada@example.com", "+14155552671", "en", "Europe/London"),
    ("Grace Hopper", "grace@example.com", "+14155552672", "en", "America/New_York"),
    ("Alan Turing", "alan@example.com", None, "en", "Europe/London"),
    ("Lucía Pérez", "lucia@example.com", "+34600123456", "es", "Europe/Madrid"),
    ("Katherine Johnson", "katherine@example.com", "+14155552673", "en", "America/Chicago"),
    ("Edsger Dijkstra", "edsger@example.com", None, "en", "Europe/Amsterdam"),
)
ITEMS = (
    [{"sku": "MUG-1", "name": "Blue mug", "quantity": 2}],
    [
        {"sku": "TEA-7", "name": "Darjeeling tea, 250 g", "quantity": 1},
        {"sku": "POT-2", "name": "Teapot", "quantity": 1},
    ],
    [{"sku": "BOOK-42", "name": "A field guide to clouds", "quantity": 1}],
    [{"sku": "SCARF-3", "name": "Wool scarf", "quantity": 1}],
    [
        {"sku": "LAMP-9", "name": "Desk lamp", "quantity": 1},
        {"sku": "BULB-1", "name": "LED bulb", "quantity": 3},
    ],
    [{"sku": "PEN-5", "name": "Fountain pen", "quantity": 1}],
)
CITIES = (
    {"city": "Leipzig", "region": "SN", "country": "DE"},
    {"city": "Cologne", "region": "NW", "country": "DE"},
    {"city": "London", "region": "ENG", "country": "GB"},
)


@dataclass
class DemoOrder:
    number: str
    url: str
    tracking: str | None = None


def demo_settings(settings: Settings, host: str, port: int) -> Settings:
    """The demo's settings: its shop name and address unless set, a dispatcher, and a webhook
    secret for the generic receiver (kept in the instance folder) unless one is set."""
    changes: dict[str, Any] = {"dispatcher": True}
    if settings.shop_name == DEFAULT_SHOP_NAME:
        changes["shop_name"] = "Demo Shop"
    if settings.base_url == DEFAULT_BASE_URL and port != 8000:
        changes["base_url"] = f"http://{host}:{port}"
    if not settings.secrets_for("generic"):
        secrets_ = {**settings.webhook_secrets, "generic": (_demo_webhook_secret(settings),)}
        changes["webhook_secrets"] = secrets_
    return replace(settings, **changes)


def _demo_webhook_secret(settings: Settings) -> str:
    path = settings.instance_dir / "demo_webhook_secret"
    if path.exists():
        secret = path.read_text().strip()
    else:
        import base64

        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secret)
        path.chmod(0o600)
    return secret


async def _demo_accounts(settings: Settings) -> tuple[str, tuple[str, str]]:
    """Migrate, then the simulator's API key and the demo agent's login (email, password)."""
    from .clock import utcnow
    from .services.api_keys import create_api_key

    db = Database(settings.database_url, pool_size=1)
    try:
        await db.migrate()
        key = await create_api_key(db, "demo-simulator", now=utcnow())
        login = await ensure_demo_agent(db, utcnow())
    finally:
        await db.dispose()
    return key, login


class Simulator:
    """Moves demo orders through their lifecycle over a few minutes, via the API and webhooks."""

    def __init__(
        self, client: httpx.AsyncClient, api_key: str, webhook_secret: str, step: float
    ) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {api_key}"}
        self.secret = webhook_secret
        self.step = step
        self.adapter = get_adapter("generic")
        self.announce = False  # one line per step, once the summary is on screen

    def say(self, order: DemoOrder, what: str) -> None:
        if self.announce:
            print(step_line(order.number, what), flush=True)

    async def api(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers=self.auth)

    async def create(self, index: int, number: str) -> DemoOrder:
        name, email, phone, locale, tz = CUSTOMERS[index % len(CUSTOMERS)]
        today = datetime.now(UTC).date()
        customer: dict[str, Any] = {"name": name, "email": email, "locale": locale, "timezone": tz}
        if phone:
            customer["phone"] = phone
        body = {
            "order_number": number,
            "customer": customer,
            "items": ITEMS[index % len(ITEMS)],
            "promised_ship_by": (today + timedelta(days=1)).isoformat(),
            "promised_deliver_by": (today + timedelta(days=4)).isoformat(),
        }
        answer = await self.api("POST", "/api/v1/orders", body)
        if answer.status_code == 409:  # kept from an earlier demo run: a fresh link will do
            link = await self.api("POST", f"/api/v1/orders/{number}/links", {"expires_in_days": 30})
            link.raise_for_status()
            return DemoOrder(number, link.json()["url"])
        answer.raise_for_status()
        return DemoOrder(number, answer.json()["tracking_url"])

    async def status(self, order: DemoOrder, status: str) -> None:
        await self.api("POST", f"/api/v1/orders/{order.number}/status", {"status": status})
        self.say(order, status)

    async def ship(self, order: DemoOrder, days: int) -> None:
        order.tracking = "JD" + "".join(secrets.choice("0123456789") for _ in range(12))
        eta = (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
        await self.api(
            "POST",
            f"/api/v1/orders/{order.number}/shipments",
            {"carrier": "dhl", "tracking_number": order.tracking, "estimated_delivery": eta},
        )
        self.say(order, f"shipped with DHL {order.tracking}")

    async def carrier(
        self,
        order: DemoOrder,
        status: str,
        message: str,
        *,
        city: int = 0,
        reason: str | None = None,
        eta: date | None = None,
    ) -> None:
        assert self.adapter is not None and order.tracking
        payload = {
            "tracking_number": order.tracking,
            "carrier": "dhl",
            "status": status,
            "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "location": CITIES[city % len(CITIES)],
            "message": message,
            "estimated_delivery": eta.isoformat() if eta else None,
            "reason_code": reason,
        }
        body = json.dumps(payload).encode()
        headers, query = self.adapter.sign(body, self.secret, datetime.now(UTC))
        answer = await self.client.post(
            "/webhooks/generic",
            content=body,
            params=query,
            headers={**headers, "Content-Type": "application/json"},
        )
        if answer.status_code >= 300:
            log.warning("simulated webhook answered %s: %s", answer.status_code, answer.text)
        self.say(order, f"carrier: {message}")

    async def pause(self) -> None:
        await asyncio.sleep(self.step)

    async def lifecycle(self, order: DemoOrder, *, delayed: bool) -> None:
        """placed, processing, packed, shipped, in transit, (delay), out for delivery, delivered."""
        today = datetime.now(UTC).date()
        await self.status(order, "processing")
        await self.pause()
        await self.status(order, "packed")
        await self.pause()
        await self.ship(order, days=2)
        await self.pause()
        await self.carrier(order, "in_transit", "Departed the sorting hub", city=0)
        await self.pause()
        if delayed:
            await self.carrier(
                order,
                "exception",
                "Snow closed the depot",
                city=1,
                reason="weather",
                eta=today + timedelta(days=4),
            )
            await self.pause()
            await self.carrier(order, "in_transit", "Back on the road", city=1)
            await self.pause()
        await self.carrier(order, "in_transit", "Arrived at the delivery depot", city=2)
        await self.pause()
        await self.carrier(order, "out_for_delivery", "Out for delivery", city=2)
        await self.pause()
        await self.carrier(order, "delivered", "Delivered to the front door", city=2)


async def _seed_and_simulate(
    settings: Settings,
    api_key: str,
    step: float,
    ready: asyncio.Event,
    screen: tuple[tuple[str, str], tuple[Path, Path]],
) -> None:
    await ready.wait()
    secret = settings.secrets_for("generic")[0]
    async with httpx.AsyncClient(base_url=settings.base_url, timeout=10) as client:
        sim = Simulator(client, api_key, secret, step)
        stamp = datetime.now(UTC).strftime("%H%M")
        orders = [await sim.create(i, f"DEMO-{stamp}-{i + 1}") for i in range(4)]
        # Give some a head start so the newcomer sees several states at once.
        await sim.status(orders[1], "processing")
        await sim.status(orders[2], "processing")
        await sim.status(orders[2], "packed")
        await sim.ship(orders[2], days=2)
        await sim.carrier(orders[2], "in_transit", "Departed the sorting hub")
        await sim.status(orders[3], "processing")
        await sim.status(orders[3], "packed")
        await sim.ship(orders[3], days=1)
        await sim.carrier(orders[3], "in_transit", "Arrived at the delivery depot", city=2)
        await sim.carrier(orders[3], "out_for_delivery", "Out for delivery", city=2)
        await sim.carrier(orders[3], "delivered", "Delivered to the front door", city=2)
        await seed_console(sim.api, [order.number for order in orders])
        login, logs = screen
        block = summary(settings, [(o.number, o.url) for o in orders], login, logs)
        print(f"\nDemo is running.\n{block}\nPress Ctrl+C to stop.\n", flush=True)
        sim.announce = True
        await asyncio.gather(
            sim.lifecycle(orders[0], delayed=True),
            _after(step * 2, sim.lifecycle(orders[1], delayed=False)),
        )
        print(
            f"\nThe simulated orders have been delivered; the portal keeps running.\n{block}\n"
            "Press Ctrl+C to stop.",
            flush=True,
        )


async def _after(seconds: float, coro: Any) -> None:
    await asyncio.sleep(seconds)
    await coro


def run_demo(settings: Settings, *, host: str, port: int, step_seconds: float) -> int:
    settings = demo_settings(settings, host, port)
    Path(settings.instance_dir).mkdir(parents=True, exist_ok=True)
    logs = quiet_logging(Path(settings.instance_dir))
    api_key, login = asyncio.run(_demo_accounts(settings))

    async def main() -> None:
        app = create_app(settings, freeze_heap=True)
        config = uvicorn_kwargs(host, port, log_level="warning", app=app)
        server = uvicorn.Server(uvicorn.Config(**config))
        ready = asyncio.Event()

        async def watch_started() -> None:
            # uvicorn offers no start event; polling its flag is the documented way.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            ready.set()

        sim = asyncio.create_task(
            _seed_and_simulate(settings, api_key, step_seconds, ready, (login, logs))
        )
        watcher = asyncio.create_task(watch_started())
        try:
            await server.serve()
        finally:
            sim.cancel()
            watcher.cancel()

    asyncio.run(main())
    return 0
