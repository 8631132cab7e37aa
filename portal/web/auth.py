"""Bearer API keys for the shop's order system."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import col
from starlette.requests import Request

from ..errors import Forbidden, Unauthorized
from ..models import ApiKey
from ..security import hash_token


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def require_api_key(request: Request, scope: str) -> ApiKey:
    """The caller's key, or 401 (missing, unknown, revoked) / 403 (lacks the scope)."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    runtime = request.app.state.runtime
    now: datetime = runtime.clock()
    async with runtime.db.read() as session:
        key = (
            await session.execute(select(ApiKey).where(col(ApiKey.key_hash) == hash_token(token)))
        ).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        raise Unauthorized("the API key is not valid")
    if scope not in key.scopes.split():
        raise Forbidden(f"this API key lacks the {scope!r} scope")
    last = key.last_used_at
    if last is None or (now - last).total_seconds() > 60:
        # Coarse on purpose: a write per request would serialise every API call on SQLite.
        async with runtime.db.write() as session:
            await session.execute(
                update(ApiKey).where(col(ApiKey.id) == key.id).values(last_used_at=now)
            )
    return key
