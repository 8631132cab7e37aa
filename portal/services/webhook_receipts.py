"""Webhook receipts: what is kept of each carrier delivery (body, audit headers, dedupe key)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.base import ParsedWebhook

from ..db import Database
from ..models import WebhookReceipt, table_of
from . import receipt_links

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


async def find_receipt_id(session: AsyncSession, carrier: str, key: str) -> int | None:
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


def tracking_list(parsed: ParsedWebhook) -> str:
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
            existing = await find_receipt_id(session, carrier, key)
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
            twin = await find_receipt_id(session, carrier, key)
        if twin is None:
            raise
        return twin


# The insert the hot path runs, built once: values come as parameters (building a statement
# costs more than running it here).
_RECEIPTS = table_of(WebhookReceipt)
INSERT_RECEIPT = insert(_RECEIPTS).returning(_RECEIPTS.c.id)
