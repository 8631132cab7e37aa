"""`portal archive export`: one gzipped JSON file per order changed since a date.

Streams: order ids are read in keyset batches, each batch's documents are loaded with one
statement per part and written one file at a time, so memory holds one batch whatever the
number of orders.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from ..db import Database
from .archive import Document, changed_since_batch, load_archives

BATCH = 200


def parse_since(value: str) -> datetime:
    """An ISO date (the start of that day, UTC) or an ISO date-time (UTC if it has no zone)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO date or date-time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class ExportResult:
    orders: int = 0
    bytes_written: int = 0


def write_document(out_dir: Path, doc: Document) -> int:
    """Write ``<order_number>.json.gz`` atomically (a temporary file renamed); its size."""
    number = doc["order"]["order_number"]
    target = out_dir / f"{number}.json.gz"
    partial = out_dir / f".{number}.json.gz.part"
    with gzip.open(partial, "wt", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
    os.replace(partial, target)
    return target.stat().st_size


async def export_archives(
    db: Database,
    since: datetime,
    out_dir: Path,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write every order changed since ``since`` into ``out_dir`` (which exists)."""
    result = ExportResult()
    next_ids = changed_since_batch(since, batch)
    last_id = 0
    while True:
        async with db.read() as session:
            ids = list((await session.execute(next_ids, {"after_id": last_id})).scalars())
            if not ids:
                return result
            documents = await load_archives(session, ids)
        for doc in documents:
            result.bytes_written += write_document(out_dir, doc)
            result.orders += 1
        documents.clear()
        last_id = ids[-1]
        if progress is not None:
            progress(result.orders)
