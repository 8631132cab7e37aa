"""Carrier webhook ingestion: receipt, shipment change, timeline, outbox, in one transaction."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.base import CarrierAdapter, ParsedWebhook, PayloadError, TrackingUpdate
from carriers.status import ReasonCode, ShipmentStatus

from ..db import Database
from ..domain.status import DelayState, ShipmentState, apply_checkpoint, is_final
from ..errors import NotFound
from ..models import Delay, Order, Shipment, WebhookReceipt, table_of
from ..schemas import DelayCreate
from . import orders as order_service
from . import plain_checkpoint, receipt_links
from .checkpoints import (
    HELD_FINGERPRINTS,
    carries_news,
    checkpoint_event,
    checkpoint_fingerprint,
    pick_shipment,
    reports_delay,
    shipment_changes,
)
from .timeline import UnitOfWork, append_event

# Headers worth keeping for audit (signatures prove what was received). The UPS credential and
# Authorization headers, and Shippo's ?token=, ARE the secrets: they are never stored.
AUDIT_HEADERS = (
    "content-type",
    "user-agent",
    "x-request-id",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-hmac-signature",
    "aftership-hmac-sha256",
    "as-webhook-version",
    "shippo-auth-signature",
    "shippo-signature",
    "fdx-signature",
)


_MAX_DEDUPE_KEY = 200


class Outcome(StrEnum):
    """A kept webhook receipt's outcome (a replay records the outcome it then had)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    receipt_id: int | None
    applied_events: int = 0
    unmatched: tuple[str, ...] = ()
    error: str | None = None


def audit_headers(headers: Mapping[str, str]) -> str:
    kept = {name: headers[name] for name in AUDIT_HEADERS if name in headers}
    return json.dumps(kept, sort_keys=True)


def stored_dedupe_key(key: str) -> str:
    """The dedupe key as the receipt stores it: long keys are hashed, never cut.

    Cutting would make two different long keys collide, and the lookup would miss the stored
    form of a long key so that every redelivery failed on the unique index.
    """
    key = key.strip()
    if len(key) <= _MAX_DEDUPE_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def _receipt_id(session: AsyncSession, carrier: str, key: str) -> int | None:
    found: int | None = (
        await session.execute(
            select(col(WebhookReceipt.id)).where(
                col(WebhookReceipt.carrier) == carrier, col(WebhookReceipt.dedupe_key) == key
            )
        )
    ).scalar_one_or_none()
    return found


def stored_body(body: bytes) -> tuple[str, str | None]:
    """A receipt's body columns: the text as received, plus the exact bytes when not UTF-8 or
    when it holds NUL (PostgreSQL text refuses NUL; such a body is never valid JSON, so it is
    only ever a dead letter, kept for audit)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace"), base64.b64encode(body).decode("ascii")
    if "\x00" in text:
        return text.replace("\x00", "\ufffd"), base64.b64encode(body).decode("ascii")
    return text, None


def received_body(receipt: WebhookReceipt) -> bytes:
    """The exact bytes a receipt was sent with."""
    if receipt.body_base64 is not None:
        return base64.b64decode(receipt.body_base64)
    return receipt.body.encode("utf-8")


def _tracking_list(parsed: ParsedWebhook) -> str:
    numbers = sorted({u.tracking_number for u in parsed.updates})
    return "," + ",".join(numbers) + "," if numbers else ""


async def record_dead_letter(
    db: Database, carrier: str, body: bytes, headers: Mapping[str, str], error: str, now: datetime
) -> int | None:
    """Keep an authenticated but unparseable body so it can be replayed after a fix."""
    key = "body:" + hashlib.sha256(body).hexdigest()
    text, exact = stored_body(body)
    try:
        async with db.write() as session:
            existing = await _receipt_id(session, carrier, key)
            if existing is not None:
                return existing
            receipt = WebhookReceipt(
                carrier=carrier,
                dedupe_key=key,
                outcome=Outcome.DEAD_LETTER,
                body=text,
                body_base64=exact,
                headers=audit_headers(headers),
                error=error[:1000],
                received_at=now,
            )
            session.add(receipt)
            await session.flush()
            assert receipt.id is not None
            await receipt_links.link(session, receipt.id, receipt.outcome, "", text)
            return receipt.id
    except IntegrityError:
        # The same body arrived twice at once; the other request kept it.
        async with db.read() as session:
            twin = await _receipt_id(session, carrier, key)
        if twin is None:
            raise
        return twin


# The hot path's statements, built once: values come as parameters (building a statement
# costs more than running it here).
_RECEIPTS = table_of(WebhookReceipt)
_INSERT_RECEIPT = insert(_RECEIPTS).returning(_RECEIPTS.c.id)
_FIND_SHIPMENT = (
    select(Shipment, Order)
    .join(Order, col(Order.id) == col(Shipment.order_id))
    .where(col(Shipment.tracking_number) == bindparam("tracking_number"))
    .order_by(col(Shipment.id))
    .with_for_update(of=[Order, Shipment])
)


async def ingest(
    db: Database,
    uow: UnitOfWork,
    carrier: str,
    parsed: ParsedWebhook,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> IngestResult:
    """Store the receipt and apply its updates once; a repeated dedupe key changes nothing."""
    key = stored_dedupe_key(parsed.dedupe_key)
    text, exact = stored_body(body)
    try:
        async with db.write() as session:
            rules = uow.notifier.rules if uow.notifier is not None else None
            plain = await plain_checkpoint.qualify(session, parsed.updates, rules)
            groups: Matched = {}
            unmatched: list[str] = []
            if plain is None:
                groups, unmatched = await match_updates(session, parsed.updates)
            outcome = Outcome.UNMATCHED if unmatched else Outcome.APPLIED
            # The unique (carrier, dedupe_key) index is the dedupe: the receipt is written
            # before anything else, so a redelivery fails here having changed nothing, and on
            # PostgreSQL a concurrent twin waits here until the first one commits. (A plain
            # INSERT: the receipt is not changed later, so it needs no ORM object.)
            numbers = _tracking_list(parsed)
            receipt_id = (
                await session.execute(
                    _INSERT_RECEIPT,
                    {
                        "carrier": carrier,
                        "dedupe_key": key,
                        "outcome": outcome,
                        "body": text,
                        "body_base64": exact,
                        "headers": audit_headers(headers),
                        "tracking_numbers": numbers[:1000],
                        "received_at": now,
                        "applied_at": None if unmatched else now,
                    },
                )
            ).scalar_one()
            await receipt_links.link(session, receipt_id, outcome, numbers, text)
            source = f"carrier:{carrier}"
            if plain is not None:
                applied = await plain_checkpoint.record(session, uow, plain, now=now, source=source)
            else:
                applied = await apply_matched(session, uow, groups, now=now, source=source)
            return IngestResult(outcome, receipt_id, applied, tuple(unmatched))
    except IntegrityError:
        # Only a twin that committed first makes this a duplicate; any other constraint
        # failure must not be answered 2xx, or the carrier would never send it again.
        uow.published.clear()
        uow.notifications = 0
        async with db.read() as session:
            twin = await _receipt_id(session, carrier, key)
        if twin is None:
            raise
        return IngestResult(Outcome.DUPLICATE, twin)


async def _find_shipment(
    session: AsyncSession, update: TrackingUpdate
) -> tuple[Shipment, Order] | None:
    """The shipment an update names, with its order, both locked for the change (one statement).

    On PostgreSQL the order row is locked first (the order every writer follows), then the
    shipment's; a row whose lock had to wait is read again once granted, so both are current.
    """
    rows = (
        await session.execute(_FIND_SHIPMENT, {"tracking_number": update.tracking_number})
    ).all()
    if not rows:
        return None
    shipment, order = pick_shipment(rows, update.carrier, lambda row: row[0].carrier)
    return shipment, order


Matched = dict[int, tuple[Shipment, Order, list[TrackingUpdate]]]


async def match_updates(
    session: AsyncSession,
    updates: tuple[TrackingUpdate, ...],
    *,
    only: tuple[Shipment, Order] | None = None,
    lookup_only: bool = False,
) -> tuple[Matched, list[str]]:
    """Group updates by the shipment they name, oldest first; and the numbers not found.

    The orders of the shipments found are locked (on PostgreSQL) until the transaction ends.
    """
    groups: Matched = {}
    unmatched: list[str] = []
    found: dict[tuple[str, str], tuple[Shipment, Order] | None] = {}
    for update in sorted(updates, key=lambda u: u.occurred_at):
        if only is not None:
            if only[0].tracking_number != update.tracking_number:
                continue
            target: tuple[Shipment, Order] | None = only
        else:
            lookup = (update.tracking_number, update.carrier)
            if lookup not in found:
                found[lookup] = await _find_shipment(session, update)
            target = found[lookup]
        if target is None:
            if update.tracking_number not in unmatched:
                unmatched.append(update.tracking_number)
            continue
        shipment, order = target
        assert shipment.id is not None
        groups.setdefault(shipment.id, (shipment, order, []))[2].append(update)
    if (
        unmatched
        and only is None
        and not lookup_only
        and await _lock_tracking_numbers(session, unmatched)
    ):
        # The shop may be registering one of these numbers at this very moment: look again
        # once its transaction is over (see apply_unmatched), so the update is not kept
        # unmatched for a shipment that exists.
        late = [u for u in updates if u.tracking_number in unmatched]
        found_late, unmatched = await match_updates(session, tuple(late), lookup_only=True)
        for shipment_id, (shipment, order, more) in found_late.items():
            merged = groups.setdefault(shipment_id, (shipment, order, []))[2]
            merged.extend(more)
            merged.sort(key=lambda u: u.occurred_at)
    return groups, unmatched


async def _lock_tracking_numbers(session: AsyncSession, numbers: list[str]) -> bool:
    """On PostgreSQL, a transaction lock per tracking number, taken in sorted order."""
    if not _concurrent_writers(session):
        return False
    for number in sorted(set(numbers)):
        digest = hashlib.sha256(b"portal:tracking:" + number.encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))
    return True


async def apply_matched(
    session: AsyncSession, uow: UnitOfWork, groups: Matched, *, now: datetime, source: str
) -> int:
    """Apply grouped updates shipment by shipment; returns the checkpoints recorded."""
    recorded = 0
    for shipment, order, shipment_updates in groups.values():
        recorded += await _apply_to_shipment(
            session, uow, shipment, order, shipment_updates, now=now, source=source
        )
    return recorded


async def apply_updates(
    session: AsyncSession,
    uow: UnitOfWork,
    updates: tuple[TrackingUpdate, ...],
    *,
    now: datetime,
    source: str,
    only: tuple[Shipment, Order] | None = None,
) -> tuple[int, list[str]]:
    """Apply checkpoints oldest first. Returns (events recorded, tracking numbers not found).

    ``only``: a shipment and its order, locked by the caller; updates for other numbers are
    left alone.
    """
    groups, unmatched = await match_updates(session, updates, only=only)
    return await apply_matched(session, uow, groups, now=now, source=source), unmatched


def _concurrent_writers(session: AsyncSession) -> bool:
    """Whether another transaction may have changed rows this one read before its locks.

    SQLite runs one write transaction at a time (and the portal serialises them), so rows
    read inside one are current; PostgreSQL runs them side by side.
    """
    bind = session.bind
    return bind is None or bind.dialect.name != "sqlite"


async def _apply_to_shipment(
    session: AsyncSession,
    uow: UnitOfWork,
    shipment: Shipment,
    order: Order,
    updates: list[TrackingUpdate],
    *,
    now: datetime,
    source: str,
) -> int:
    # The shipment and its order were read under their locks (_find_shipment), or created in
    # this transaction (apply_unmatched): both are current, so an older checkpoint cannot move
    # the status backward.
    assert shipment.id is not None
    milestone_before = shipment.milestone
    fingerprints = {update: checkpoint_fingerprint(update) for update in updates}
    held = set(
        (
            await session.execute(
                HELD_FINGERPRINTS,
                {"order_id": order.id, "fingerprints": sorted(set(fingerprints.values()))},
            )
        ).scalars()
    )
    recorded = 0
    last_applied: datetime | None = None
    for update in updates:
        fingerprint = fingerprints[update]
        if fingerprint in held:
            continue  # the carrier repeated history we already hold
        held.add(fingerprint)
        newest = carries_news(shipment.status_occurred_at, shipment.milestone, update)
        state = ShipmentState(
            ShipmentStatus(shipment.status),
            ShipmentStatus(shipment.milestone),
            shipment.status_occurred_at,
        )
        decision = apply_checkpoint(state, update.status, update.occurred_at)
        for name, value in shipment_changes(shipment, update, decision).items():
            setattr(shipment, name, value)
        if decision.applied:
            last_applied = update.occurred_at
        session.add(shipment)
        append_event(
            session,
            uow,
            order,
            now=now,
            **checkpoint_event(update, shipment.id, decision.applied, fingerprint, source),
        )
        recorded += 1
        if (
            newest
            and update.estimated_delivery
            and update.estimated_delivery != shipment.estimated_delivery
        ):
            shipment.estimated_delivery = update.estimated_delivery
            session.add(shipment)
            await session.flush()
            await order_service.update_order_eta(session, uow, order, now=now, source=source)
        if decision.opens_delay or reports_delay(update, newest):
            await _open_carrier_delay(session, uow, order, shipment, update, now=now, source=source)
    await session.flush()
    # The order's status follows its shipments' milestones only: when this one's did not
    # move (another scan on the way, an exception), there is nothing to derive.
    if last_applied is not None and shipment.milestone != milestone_before:
        await order_service.settle_order_status(
            session,
            uow,
            order,
            now=now,
            occurred_at=last_applied,
            source=source,
            shipment_id=shipment.id,
        )
    return recorded


async def _open_carrier_delay(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    shipment: Shipment,
    update: TrackingUpdate,
    *,
    now: datetime,
    source: str,
) -> None:
    """An exception or failed attempt opens a delay, unless one is already open for the shipment."""
    if is_final(order.status):
        return
    open_ = await session.execute(
        select(col(Delay.id)).where(
            col(Delay.shipment_id) == shipment.id, col(Delay.state) == DelayState.OPEN
        )
    )
    if open_.first() is not None:
        return
    reason = update.reason_code or (
        ReasonCode.RECIPIENT_UNAVAILABLE
        if update.status == ShipmentStatus.ATTEMPT_FAILED
        else ReasonCode.CARRIER
    )
    data = DelayCreate(
        reason_code=reason,
        message=update.message or "The carrier reported a problem with your parcel.",
        new_estimated_delivery=update.estimated_delivery,
    )
    await order_service.open_delay(
        session, uow, order, data, now=now, source=source, shipment_id=shipment.id
    )


async def apply_unmatched(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    shipment: Shipment,
    *,
    now: datetime,
    adapters: Mapping[str, CarrierAdapter] | None = None,
) -> int:
    """Apply webhooks that named this tracking number before the shop registered it."""
    from carriers.registry import ADAPTERS

    adapters = ADAPTERS if adapters is None else adapters
    # Meets a webhook for this number being ingested right now: either it committed its
    # unmatched receipt before this lock (then the query below sees it) or it waits for this
    # transaction and then finds the shipment.
    await _lock_tracking_numbers(session, [shipment.tracking_number])
    rows = await session.execute(
        select(WebhookReceipt)
        .where(
            col(WebhookReceipt.outcome) == Outcome.UNMATCHED,
            col(WebhookReceipt.tracking_numbers).contains(f",{shipment.tracking_number},"),
        )
        .order_by(col(WebhookReceipt.id))
    )
    applied = 0
    for receipt in rows.scalars():
        adapter = adapters.get(receipt.carrier)
        if adapter is None:
            continue
        try:
            parsed = adapter.parse(received_body(receipt), json.loads(receipt.headers))
        except PayloadError:
            continue
        mine = tuple(u for u in parsed.updates if u.tracking_number == shipment.tracking_number)
        count, _ = await apply_updates(
            session, uow, mine, now=now, source=f"carrier:{receipt.carrier}", only=(shipment, order)
        )
        applied += count
        still_unknown = [
            number
            for number in {u.tracking_number for u in parsed.updates}
            if number != shipment.tracking_number
            and (
                await session.execute(
                    select(col(Shipment.id)).where(col(Shipment.tracking_number) == number)
                )
            ).first()
            is None
        ]
        if not still_unknown:
            receipt.outcome = Outcome.APPLIED
            receipt.applied_at = now
            session.add(receipt)
    return applied


async def replay(
    db: Database, uow: UnitOfWork, receipt_id: int, adapter: CarrierAdapter, now: datetime
) -> IngestResult:
    """Parse a kept body again (after a fix) and apply it; for dead letters and unmatched ones."""
    async with db.write() as session:
        receipt = await session.get(WebhookReceipt, receipt_id)
        if receipt is None:
            raise NotFound(f"no webhook receipt {receipt_id}")
        if receipt.outcome not in (Outcome.DEAD_LETTER, Outcome.UNMATCHED):
            return IngestResult(Outcome(receipt.outcome), receipt.id)
        try:
            parsed = adapter.parse(received_body(receipt), json.loads(receipt.headers))
        except PayloadError as exc:
            receipt.error = str(exc)[:1000]
            session.add(receipt)
            return IngestResult(Outcome.DEAD_LETTER, receipt.id, error=str(exc))
        key = stored_dedupe_key(parsed.dedupe_key)
        twin = await _receipt_id(session, receipt.carrier, key)
        if twin is not None and twin != receipt.id:
            receipt.outcome = Outcome.DUPLICATE
            session.add(receipt)
            await receipt_links.relink(
                session, receipt_id, receipt.outcome, receipt.tracking_numbers, receipt.body
            )
            return IngestResult(Outcome.DUPLICATE, receipt.id)
        applied, unmatched = await apply_updates(
            session, uow, parsed.updates, now=now, source=f"carrier:{receipt.carrier}"
        )
        receipt.dedupe_key = key
        numbers = _tracking_list(parsed)
        receipt.tracking_numbers = numbers[:1000]
        receipt.outcome = Outcome.UNMATCHED if unmatched else Outcome.APPLIED
        receipt.error = None
        receipt.applied_at = None if unmatched else now
        session.add(receipt)
        await receipt_links.relink(session, receipt_id, receipt.outcome, numbers, receipt.body)
        return IngestResult(receipt.outcome, receipt.id, applied, tuple(unmatched))
