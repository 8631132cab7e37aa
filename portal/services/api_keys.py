"""Shop API keys: made once, shown once, stored as a hash (the CLI, the demo and tests use this)."""

from __future__ import annotations

from datetime import datetime

from ..db import Database
from ..models import ApiKey
from ..security import api_key_prefix, hash_token, new_api_key

READ_SCOPES = "orders:read"
WRITE_SCOPES = "orders:read orders:write"


async def create_api_key(
    db: Database, name: str, *, now: datetime, scopes: str = WRITE_SCOPES
) -> str:
    """Store a new key named `name` and return it (the only time it is seen in clear)."""
    key = new_api_key()
    async with db.write() as session:
        session.add(
            ApiKey(
                name=name,
                prefix=api_key_prefix(key),
                key_hash=hash_token(key),
                scopes=scopes,
                created_at=now,
            )
        )
    return key
