"""Idempotency-Key on API POSTs: a retry answers the first answer again, exactly once.

The record is inserted before the work in the same transaction, so on PostgreSQL a concurrent
retry waits on its unique index and then replays; on SQLite writes are serialised anyway.
Stored answers are encrypted: a create's answer carries the share-link token, which the
portal otherwise keeps only as a hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import Conflict, ValidationFailed
from ..models import ApiKey, IdempotencyRecord
from ..services.timeline import UnitOfWork

Handler = Callable[[AsyncSession, UnitOfWork], Awaitable[tuple[int, dict[str, Any]]]]
MAX_KEY_LENGTH = 200


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"idempotency-records:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def run_write(request: Request, key: ApiKey, body: bytes, handler: Handler) -> JSONResponse:
    """Run `handler` in one write transaction, honouring Idempotency-Key; publish after commit."""
    runtime = request.app.state.runtime
    idem = request.headers.get("idempotency-key")
    uow = runtime.new_uow()
    if idem is None:
        try:
            async with runtime.db.write() as session:
                status, payload = await handler(session, uow)
        except IntegrityError:
            # A concurrent request created the same thing first (order or tracking number).
            raise Conflict("the request conflicts with a record created at the same time") from None
        await runtime.after_commit(uow)
        return JSONResponse(payload, status_code=status)
    if not idem or len(idem) > MAX_KEY_LENGTH:
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = request_fingerprint(request.method, request.url.path, body)
    fernet = _fernet(runtime.settings.secret_key)
    assert key.id is not None
    try:
        async with runtime.db.write() as session:
            replay = await _replay(session, key.id, idem, fingerprint, fernet)
            if replay is not None:
                return replay
            record = IdempotencyRecord(
                api_key_id=key.id,
                key=idem,
                request_hash=fingerprint,
                status_code=0,
                response_body="",
                created_at=runtime.clock(),
            )
            session.add(record)
            await session.flush()
            status, payload = await handler(session, uow)
            record.status_code = status
            record.response_body = fernet.encrypt(json.dumps(payload).encode()).decode()
            session.add(record)
    except IntegrityError:
        # A concurrent request with the same key won the race (or a unique field clashed).
        async with runtime.db.read() as session:
            replay = await _replay(session, key.id, idem, fingerprint, fernet)
        if replay is not None:
            return replay
        raise Conflict("the request conflicts with an existing record") from None
    await runtime.after_commit(uow)
    return JSONResponse(payload, status_code=status)


async def _replay(
    session: AsyncSession, key_id: int, idem: str, fingerprint: str, fernet: Fernet
) -> JSONResponse | None:
    stmt = select(IdempotencyRecord).where(
        col(IdempotencyRecord.api_key_id) == key_id, col(IdempotencyRecord.key) == idem
    )
    record = (await session.execute(stmt)).scalar_one_or_none()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request")
    body = json.loads(fernet.decrypt(record.response_body.encode()))
    return JSONResponse(
        body, status_code=record.status_code, headers={"Idempotent-Replayed": "true"}
    )
