"""The ceiling for bench/webhook_ingest.py: the least a webhook endpoint can do on this stack.

One Starlette route under the same uvicorn, on the same database through the same engine set-up
as the portal (portal.db.Database: SQLite WAL with one writer at a time, or an asyncpg pool):
read the body, verify a Standard Webhooks HMAC-SHA256 in constant time, insert one row in one
transaction, publish one message to Redis, answer 200. No parsing, no lookups, no timeline.

    BENCH_DATABASE_URL=... BENCH_REDIS_URL=redis://127.0.0.1:6379/0 BENCH_SECRET=whsec_... \\
    BENCH_CHANNEL=bench:bare uvicorn --factory bench._bare_webhook:build --port 8100
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.db import Database

TABLE = sa.Table(
    "bench_bare_webhooks",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("webhook_id", sa.String(200), nullable=False, unique=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
)
TOLERANCE_SECONDS = 300
LIMIT = 256 * 1024


def build() -> Starlette:
    url = os.environ["BENCH_DATABASE_URL"]
    secret = os.environ["BENCH_SECRET"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    channel = os.environ.get("BENCH_CHANNEL", "bench:bare")
    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.run_sync(TABLE.metadata.create_all)
        redis = Redis.from_url(os.environ["BENCH_REDIS_URL"])
        await redis.ping()
        state["db"], state["redis"] = db, redis
        try:
            yield
        finally:
            await redis.aclose()
            await db.dispose()

    async def receive(request: Request) -> Response:
        body = await request.body()
        if len(body) > LIMIT:
            return JSONResponse({"error": {"code": "payload_too_large"}}, status_code=413)
        msg_id = request.headers.get("webhook-id", "")
        stamp = request.headers.get("webhook-timestamp", "")
        signatures = request.headers.get("webhook-signature", "").split()
        if not msg_id or not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
            return JSONResponse({"error": {"code": "invalid_signature"}}, status_code=401)
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        if not any([hmac.compare_digest(expected, s.partition(",")[2]) for s in signatures]):
            return JSONResponse({"error": {"code": "invalid_signature"}}, status_code=401)
        db = state["db"]
        assert isinstance(db, Database)
        async with db.write() as session:
            await session.execute(
                TABLE.insert().values(
                    webhook_id=msg_id, body=body.decode(), received_at=time.time()
                )
            )
        redis = state["redis"]
        assert isinstance(redis, Redis)
        await redis.publish(channel, msg_id)
        return JSONResponse({"outcome": "applied", "events": 1})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/webhooks/generic", receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
