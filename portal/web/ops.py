"""Operator endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..db import head_revision


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime = request.app.state.runtime
    checks = {"database": "ok", "migrations": "ok", "broker": "ok"}
    if not await runtime.db.ping():
        checks["database"] = "down"
        checks["migrations"] = "unknown"
    elif await runtime.db.current_revision() != head_revision():
        checks["migrations"] = "behind"
    if not await runtime.broker.ping():
        checks["broker"] = "down"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(checks, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    runtime = request.app.state.runtime
    runtime.refresh_gauges()
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
