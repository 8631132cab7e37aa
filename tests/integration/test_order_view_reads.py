"""The live feed's read of an order: what it asks the database for on every event."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from portal.db import Database
from portal.models import Feedback
from portal.schemas import OrderCreate, ShipmentCreate
from portal.services.orders import add_shipment, create_order
from portal.services.outbox import Notifier
from portal.services.timeline import UnitOfWork
from portal.services.views import read_order_view_by_number
from portal.settings import load_settings
from tests.integration.conftest import order_body
from tests.integration.webhooks.test_plain_checkpoint import work_statements

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_parts_an_order_does_not_have_are_not_asked_for(
    database_url: str, instance_dir: Path, clean_env: None
) -> None:
    settings = load_settings(
        {"PORTAL_INSTANCE_DIR": str(instance_dir), "PORTAL_SECRET_KEY": "x" * 40}
    )
    db = Database(database_url, pool_size=2)
    try:
        await db.migrate()
        async with db.write() as session:
            uow = UnitOfWork(notifier=Notifier.from_settings(settings))
            data = OrderCreate.model_validate(order_body(order_number="VIEW-1"))
            order, _ = await create_order(session, uow, data, now=NOW, source="test")
            shipment = ShipmentCreate(carrier="dhl", tracking_number="JD0001")
            await add_shipment(session, uow, order, shipment, now=NOW, source="test")
            order_id = order.id

        async def read() -> tuple[object, list[str]]:
            seen, stop = work_statements(db)
            try:
                async with db.engine.connect() as connection:
                    view = await read_order_view_by_number(connection, "VIEW-1")
            finally:
                stop()
            return view, seen

        # No delay, feedback or inquiry: the order, its items, shipments, their items, timeline.
        view, seen = await read()
        assert seen == ["SELECT"] * 5, seen
        assert view is not None and view.feedback is None and not view.delays
        assert not view.inquiries and len(view.shipments) == 1 and view.events

        async with db.write() as session:
            assert order_id is not None
            session.add(Feedback(order_id=order_id, rating=5, comment="Quick", created_at=NOW))
        view, seen = await read()
        assert seen == ["SELECT"] * 6, seen  # and now its feedback
        assert view is not None and view.feedback is not None
        assert (view.feedback.rating, view.feedback.comment) == (5, "Quick")
    finally:
        await db.dispose()
