"""Random sequences of shop API calls and carrier checkpoints keep DESIGN.md "Status" true.

A Hypothesis state machine drives two portals with the same requests: one as it runs (carrier
checkpoints take the plain-statement writer where it qualifies), one with that writer switched
off (every checkpoint through the ORM path). After every step it checks, on the first, the
invariants of DESIGN.md "Status" and of the outbox and the live feed, and that both portals
hold the same rows. Examples and steps are bounded to keep the test fast.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import text

from carriers.status import ShipmentStatus
from portal.app import create_app
from portal.domain.status import FINAL, ORDER_RANK, OrderStatus
from portal.services import plain_checkpoint
from portal.services.timeline import Published
from portal.settings import Settings
from tests.integration.conftest import (
    FrozenClock,
    Portal,
    add_api_key,
    fresh_postgres_database,
    migrated,
    order_body,
)
from tests.integration.webhook_helpers import send_generic

T = TypeVar("T")
RUNS = settings(
    max_examples=12,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
STATUSES = [s.value for s in ShipmentStatus]
# Stated here, not imported, so that a change to the rules' own table cannot pass unseen.
BEFORE_SHIPPING = {"placed", "processing", "packed"}


class Writers:
    """Switches the plain-statement checkpoint writer off while the ORM-only portal runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.orm_only = False
        original = plain_checkpoint.qualify

        async def qualify(*args: Any, **kwargs: Any) -> Any:
            return None if self.orm_only else await original(*args, **kwargs)

        monkeypatch.setattr(plain_checkpoint, "qualify", qualify)


class Published_:
    """Every message portal A publishes, with whether its event was committed by then."""

    def __init__(self, portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, int, bool]] = []
        broker = portal.runtime.broker
        publish = type(broker).publish
        db = portal.runtime.db

        async def recording(view: Any, channel: str, message: bytes) -> None:
            if view is not broker:
                return await publish(view, channel, message)
            event = Published.decode(message)
            async with db.engine.connect() as conn:  # a fresh connection sees only commits
                row = await conn.execute(
                    text(
                        "SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id"
                        " WHERE o.order_number = :n AND e.seq = :s"
                    ),
                    {"n": event.order_number, "s": event.seq},
                )
                committed = row.scalar_one() == 1
            self.seen.append((event.order_number, event.seq, committed))
            return await publish(view, channel, message)

        monkeypatch.setattr(type(broker), "publish", recording)

    def of(self, order_number: str) -> list[tuple[int, bool]]:
        return [(seq, ok) for number, seq, ok in self.seen if number == order_number]

    def newest_rung(self, order_number: str, seq: int) -> list[tuple[int, bool]]:
        """The order's doorbells once the one for ``seq`` has rung (up to 5 s; called from the
        machine's thread while the publisher works on the loop's)."""
        deadline = time.monotonic() + 5
        while seq and not any(s >= seq for s, _ in self.of(order_number)):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return self.of(order_number)


async def _second_portal(settings_: Settings, clock: FrozenClock, tmp_path: Path) -> Any:
    if settings_.is_sqlite:
        url, drop = f"sqlite+aiosqlite:///{tmp_path / 'orm_only.db'}", None
    else:
        url, drop = await fresh_postgres_database()
    await migrated(url)
    key = await add_api_key(url)
    app = create_app(replace(settings_, database_url=url), clock=clock, dispatcher=False)
    return app, key, drop


@pytest.fixture
async def orm_only(settings: Settings, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Portal]:
    app, key, drop = await _second_portal(settings, clock, tmp_path)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 5000))
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
                yield Portal(app, c, key, clock)
    finally:
        if drop is not None:
            await drop()


def _comparable(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": order["status"],
        "estimated_delivery": order["estimated_delivery"],
        "shipments": [
            (s["tracking_number"], s["status"], s["estimated_delivery"]) for s in order["shipments"]
        ],
        "delays": [
            (d["reason_code"], d["state"], d["new_estimated_delivery"]) for d in order["delays"]
        ],
        "events": [
            (e["seq"], e["kind"], e["status"], e["occurred_at"], e["message"], e["location"])
            for e in order["events"]
        ],
    }


def make_machine(
    loop: asyncio.AbstractEventLoop, a: Portal, b: Portal, writers: Writers, feed: Published_
) -> type[RuleBasedStateMachine]:
    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    class OrderMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            body = order_body()
            self.number = body["order_number"]
            self.tracking: list[str] = []
            self.history: list[str] = []
            self.minutes = 0
            for portal in (a, b):
                answer = run(portal.post("/api/v1/orders", body))
                assert answer.status_code == 201, answer.text

        def both(self, call: Any) -> int:
            """Run one request on both portals; they must answer alike."""
            writers.orm_only = False
            first = run(call(a))
            writers.orm_only = True
            try:
                second = run(call(b))
            finally:
                writers.orm_only = False
            assert first.status_code == second.status_code, (first.text, second.text)
            assert first.status_code < 500, first.text
            return first.status_code

        @rule(to=st.sampled_from(["processing", "packed", "cancelled"]))
        def shop_status(self, to: str) -> None:
            path = f"/api/v1/orders/{self.number}/status"
            self.both(lambda p: p.post(path, {"status": to}))

        @rule()
        def ship(self) -> None:
            number = f"SM{self.number}{len(self.tracking)}"
            path = f"/api/v1/orders/{self.number}/shipments"
            body = {
                "carrier": "dhl",
                "tracking_number": number,
                "items": [{"sku": "TEA-7" if self.tracking else "MUG-1", "quantity": 1}],
            }
            if self.both(lambda p: p.post(path, body)) == 201:
                self.tracking.append(number)

        @rule(
            which=st.integers(0, 3),
            status=st.sampled_from(STATUSES),
            minutes=st.integers(-90, 60),
            eta_days=st.none() | st.integers(1, 9),
        )
        def checkpoint(self, which: int, status: str, minutes: int, eta_days: int | None) -> None:
            if not self.tracking:
                return
            self.minutes += 1
            number = self.tracking[which % len(self.tracking)]
            when = a.clock() + timedelta(minutes=self.minutes + minutes)
            eta = (a.clock() + timedelta(days=eta_days)).date().isoformat() if eta_days else None
            reason = "weather" if status in ("exception", "attempt_failed") else None
            self.both(
                lambda p: send_generic(
                    p,
                    number,
                    status,
                    f"{status} at {when:%H:%M}",
                    occurred_at=when,
                    reason_code=reason,
                    estimated_delivery=eta,
                    msg_id=f"msg_{number}_{self.minutes}",
                )
            )

        @rule(days=st.integers(1, 9))
        def delay(self, days: int) -> None:
            eta = (a.clock() + timedelta(days=days)).date().isoformat()
            body = {"reason_code": "weather", "message": "Snow", "new_estimated_delivery": eta}
            self.both(lambda p: p.post(f"/api/v1/orders/{self.number}/delays", body))

        def order(self, portal: Portal) -> dict[str, Any]:
            answer = run(portal.get(f"/api/v1/orders/{self.number}"))
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        @invariant()
        def status_rules_hold(self) -> None:
            order = self.order(a)
            status = OrderStatus(order["status"])
            if self.history:
                last = OrderStatus(self.history[-1])
                if last in FINAL:
                    assert status == last, f"{last} is final, then {status}"
                elif status == OrderStatus.CANCELLED:
                    assert last in BEFORE_SHIPPING, f"cancelled after {last}"
                else:
                    assert ORDER_RANK[status] >= ORDER_RANK[last], f"{last} -> {status}"
            self.history.append(status.value)
            live = [s for s in order["shipments"] if s["status"] != "cancelled"]
            if status == OrderStatus.DELIVERED:
                assert live and all(s["status"] == "delivered" for s in live), live
            if status == OrderStatus.CANCELLED:
                assert not live, live
            seqs = [e["seq"] for e in sorted(order["events"], key=lambda e: e["seq"])]
            assert seqs == list(range(1, len(seqs) + 1))
            # Doorbells are rung after commit by the background publisher, which coalesces an
            # order's waiting doorbells (the newest is enough: the hub repairs gaps from the
            # database). So: each rung once, in order, only after commit, and the newest rung.
            published = feed.newest_rung(self.number, seqs[-1] if seqs else 0)
            assert all(committed for _, committed in published), published
            rung = [seq for seq, _ in published]
            assert rung == sorted(set(rung)) and set(rung) <= set(seqs), (published, seqs)
            assert not seqs or rung[-1] == seqs[-1], (published, seqs)
            assert _comparable(order) == _comparable(self.order(b))

        @invariant()
        def one_notice_per_key(self) -> None:
            notices = [
                sorted(
                    (n["kind"], n["channel"], n["state"])
                    for n in run(portal.get(f"/api/v1/orders/{self.number}/notifications")).json()[
                        "notifications"
                    ]
                )
                for portal in (a, b)
            ]
            assert notices[0] == notices[1]
            keys = run(_keys(a, self.number))
            assert len(keys) == len(set(keys)), keys
            assert sorted(keys) == sorted(run(_keys(b, self.number)))

    return OrderMachine


async def _keys(portal: Portal, number: str) -> list[str]:
    async with portal.runtime.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT n.idempotency_key FROM notifications n JOIN orders o ON o.id = n.order_id"
                " WHERE o.order_number = :n"
            ),
            {"n": number},
        )
        return [str(key) for (key,) in rows.all()]


async def test_random_orders_keep_the_status_rules_and_both_writers_agree(
    portal: Portal, orm_only: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = Writers(monkeypatch)
    feed = Published_(portal, monkeypatch)
    machine = make_machine(asyncio.get_running_loop(), portal, orm_only, writers, feed)
    await asyncio.to_thread(run_state_machine_as_test, machine, settings=RUNS)
