"""The plain-statement writer records exactly what the ORM path records.

Each scenario sends the same carrier checkpoints to two identical databases: once through
``ingest`` (which takes the plain path where it qualifies) and once through the ORM path alone
(``apply_updates``, as replays use it). Every row either writes to the order, its shipments,
timeline, delays and notices must be the same, and so must the events announced. Each scenario
also states which of its checkpoints the plain path must take, so a change that quietly sends
every webhook the slow way fails here too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from carriers.base import Location, ParsedWebhook, TrackingUpdate
from carriers.status import ReasonCode, ShipmentStatus
from portal.db import Database
from portal.notify.rules import Rules
from portal.schemas import OrderCreate, ShipmentCreate
from portal.services import plain_checkpoint
from portal.services.orders import add_shipment, create_order
from portal.services.outbox import Notifier
from portal.services.timeline import Published, UnitOfWork
from portal.services.webhook_apply import apply_updates
from portal.services.webhooks import ingest
from portal.settings import Settings, load_settings
from tests.integration.conftest import fresh_postgres_database, order_body

START = datetime.now(UTC).replace(microsecond=0)
TODAY = START.date()


@dataclass(frozen=True)
class Step:
    shipment: int  # index into the scenario's shipments
    status: ShipmentStatus
    minutes: int  # after START
    plain: bool  # whether the plain path must record it
    reason: ReasonCode | None = None
    estimate: date | None = None
    public_url: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    shipments: tuple[tuple[str, ...], ...]  # the SKUs each shipment carries
    steps: tuple[Step, ...]
    rules: dict[str, Any] = field(default_factory=dict)  # overrides of the default rules


IT, OFD, DEL = ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED
SCENARIOS = (
    Scenario(
        "a parcel's journey",
        (("MUG", "TEA"),),
        (
            Step(0, ShipmentStatus.PRE_TRANSIT, 1, plain=True),
            Step(0, IT, 10, plain=True),
            Step(0, IT, 20, plain=True, public_url="https://carrier.example/t/1"),
            Step(0, OFD, 30, plain=False),  # announced to the customer
            Step(0, DEL, 40, plain=False),
        ),
    ),
    Scenario(
        "late and stale news",
        (("MUG", "TEA"),),
        (
            Step(0, IT, 20, plain=True),
            Step(0, ShipmentStatus.PRE_TRANSIT, 5, plain=True),  # older: kept, moves nothing
            Step(0, IT, 30, plain=False, estimate=TODAY + timedelta(days=3)),
            Step(0, IT, 40, plain=True, estimate=TODAY + timedelta(days=3)),  # same estimate
            Step(0, IT, 50, plain=False, reason=ReasonCode.WEATHER),  # a delay
            Step(0, ShipmentStatus.EXCEPTION, 60, plain=False, reason=ReasonCode.CUSTOMS),
            Step(0, IT, 70, plain=True),
        ),
    ),
    Scenario(
        "two parcels",
        (("MUG",), ("TEA",)),
        (
            Step(0, IT, 10, plain=True),  # the order waits for the other parcel
            Step(1, IT, 20, plain=True),  # now the order is in transit
            Step(0, OFD, 30, plain=True),  # the other one is still in transit
            Step(0, DEL, 40, plain=False),
            Step(1, ShipmentStatus.AVAILABLE_FOR_PICKUP, 50, plain=False),
        ),
    ),
    Scenario(
        "part of the order shipped",
        (("MUG",),),
        (Step(0, IT, 10, plain=True), Step(0, DEL, 20, plain=False)),
    ),
    Scenario(
        "in transit announced by the shop's rules",
        (("MUG", "TEA"),),
        (Step(0, IT, 10, plain=False), Step(0, IT, 20, plain=True)),
        rules={"in_transit": {"kind": "status_update", "channels": ["email"]}},
    ),
    Scenario(
        "a cancelled parcel",
        (("MUG", "TEA"),),
        (Step(0, ShipmentStatus.CANCELLED, 10, plain=False), Step(0, IT, 20, plain=True)),
    ),
)


def update_of(step: Step, tracking_number: str) -> TrackingUpdate:
    return TrackingUpdate(
        tracking_number=tracking_number,
        carrier="dhl",
        status=step.status,
        occurred_at=START + timedelta(minutes=step.minutes),
        message=f"{step.status.value} at minute {step.minutes}",
        carrier_status=step.status.value.upper(),
        location=Location(city="Leipzig", country="DE"),
        reason_code=step.reason,
        estimated_delivery=step.estimate,
        public_url=step.public_url,
    )


class Shop:
    """One database with one order shipped as the scenario says."""

    def __init__(self, url: str, settings: Settings, scenario: Scenario) -> None:
        self.db = Database(url, pool_size=2)
        rules = Rules.from_mapping(scenario.rules) if scenario.rules else Rules.default()
        self.notifier = Notifier(settings, rules)
        self.scenario = scenario
        self.tracking_numbers = [f"JD{n:010d}" for n in range(len(scenario.shipments))]
        self.published: list[Published] = []

    async def open(self) -> None:
        await self.db.migrate()
        async with self.db.write() as session:
            uow = UnitOfWork(notifier=self.notifier)
            items = [
                {"sku": "MUG", "name": "Blue mug", "quantity": 1},
                {"sku": "TEA", "name": "Green tea", "quantity": 2},
            ]
            data = OrderCreate.model_validate(order_body(order_number="PARITY-1", items=items))
            order, _ = await create_order(session, uow, data, now=START, source="test")
            for number, skus in zip(self.tracking_numbers, self.scenario.shipments, strict=True):
                quantities = {"MUG": 1, "TEA": 2}
                shipment = ShipmentCreate.model_validate(
                    {
                        "carrier": "dhl",
                        "tracking_number": number,
                        "items": [{"sku": s, "quantity": quantities[s]} for s in skus],
                    }
                )
                await add_shipment(session, uow, order, shipment, now=START, source="test")

    async def through_ingest(self, step: Step, index: int) -> None:
        uow = UnitOfWork(notifier=self.notifier)
        update = update_of(step, self.tracking_numbers[step.shipment])
        parsed = ParsedWebhook(f"wh-{index}", (update,))
        now = update.occurred_at + timedelta(seconds=5)
        result = await ingest(self.db, uow, "generic", parsed, b"{}", {}, now)
        assert result.outcome == "applied", result
        self.published.extend(uow.published)

    async def through_orm(self, step: Step, index: int) -> None:
        uow = UnitOfWork(notifier=self.notifier)
        update = update_of(step, self.tracking_numbers[step.shipment])
        now = update.occurred_at + timedelta(seconds=5)
        async with self.db.write() as session:
            await apply_updates(session, uow, (update,), now=now, source="carrier:generic")
        self.published.extend(uow.published)

    async def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Everything the two paths may write (ids included: both databases grow alike)."""
        queries = {
            "orders": "SELECT * FROM orders ORDER BY id",
            "shipments": "SELECT * FROM shipments ORDER BY id",
            "order_events": "SELECT * FROM order_events ORDER BY id",
            "delays": "SELECT * FROM delays ORDER BY id",
            "notifications": (
                "SELECT id, order_id, idempotency_key, kind, channel, milestone, event_seq, "
                "shipment_id, delay_id, state, recipient, due_at FROM notifications ORDER BY id"
            ),
        }
        async with self.db.engine.connect() as conn:
            return {
                table: [tuple(row) for row in (await conn.execute(text(sql))).all()]
                for table, sql in queries.items()
            }


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def twin_urls(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"
        return
    (first, drop_first), (second, drop_second) = (
        await fresh_postgres_database(),
        await fresh_postgres_database(),
    )
    try:
        yield first, second
    finally:
        await drop_first()
        await drop_second()


def spy_on_plain(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the checkpoints the plain path records."""
    recorded: list[int] = []
    real: Callable[..., Awaitable[int]] = plain_checkpoint.record

    async def counting(*args: Any, **kwargs: Any) -> int:
        count = await real(*args, **kwargs)
        recorded.append(count)
        return count

    monkeypatch.setattr(plain_checkpoint, "record", counting)
    return recorded


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_the_plain_path_writes_what_the_orm_path_writes(
    scenario: Scenario,
    twin_urls: tuple[str, str],
    instance_dir: Path,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(
        {"PORTAL_INSTANCE_DIR": str(instance_dir), "PORTAL_SECRET_KEY": "x" * 40}
    )
    fast, reference = (Shop(url, settings, scenario) for url in twin_urls)
    recorded = spy_on_plain(monkeypatch)
    try:
        for shop in (fast, reference):
            await shop.open()
        for index, step in enumerate(scenario.steps):
            before = len(recorded)
            await fast.through_ingest(step, index)
            took_plain = len(recorded) > before
            assert took_plain == step.plain, f"step {index} ({step.status.value})"
            await reference.through_orm(step, index)
            assert await fast.rows() == await reference.rows(), f"after step {index}"
        assert fast.published == reference.published
    finally:
        await fast.db.dispose()
        await reference.db.dispose()


def test_scenarios_cover_both_paths() -> None:
    steps = [step for scenario in SCENARIOS for step in scenario.steps]
    assert any(step.plain for step in steps) and not all(step.plain for step in steps)


def work_statements(db: Database) -> tuple[list[str], Callable[[], None]]:
    """The first word of every SELECT/INSERT/UPDATE/DELETE ``db`` runs from now on, and a stop."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        word = statement.split(None, 1)[0].upper()
        if word in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            seen.append(word)

    engines = {id(e): e.sync_engine for e in (db.engine, db.write_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)

    def stop() -> None:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)

    return seen, stop


async def test_a_plain_checkpoint_takes_seven_statements(
    twin_urls: tuple[str, str], instance_dir: Path, clean_env: None
) -> None:
    # The hot path of live traffic: each statement's overhead costs more than the indexed
    # lookup it runs, so whether the checkpoint is held already and whether the order has other
    # parcels come with the shipment's row rather than as statements of their own.
    settings = load_settings(
        {"PORTAL_INSTANCE_DIR": str(instance_dir), "PORTAL_SECRET_KEY": "x" * 40}
    )
    scenario = Scenario("one parcel", (("MUG", "TEA"),), (Step(0, IT, 10, plain=True),))
    shop = Shop(twin_urls[0], settings, scenario)
    try:
        await shop.open()
        seen, stop = work_statements(shop.db)
        try:
            await shop.through_ingest(scenario.steps[0], 0)
        finally:
            stop()
        # find (with held and other parcels), unshipped items (the order's status moves),
        # the receipt, its receipt_tracking rows (the archive's indexed lookup), the shipment,
        # the two events, the order.
        assert seen == ["SELECT", "SELECT", "INSERT", "INSERT", "UPDATE", "INSERT", "UPDATE"], seen
        assert [p.kind for p in shop.published] == ["checkpoint", "status"]
    finally:
        await shop.db.dispose()
