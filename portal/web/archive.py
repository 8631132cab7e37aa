"""`GET /api/v1/orders/{order_number}/archive`: everything kept about an order, one document."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import NotFound
from ..services.archive import load_archives, order_id_by_number
from .auth import require_api_key


async def order_archive(request: Request) -> Response:
    await require_api_key(request, "orders:read")
    runtime = request.app.state.runtime
    async with runtime.db.read() as session:
        number = request.path_params["order_number"]
        order_id = await order_id_by_number(session, number)
        documents = await load_archives(session, [order_id]) if order_id is not None else []
    if not documents:
        raise NotFound(f"no order {number!r}")
    return JSONResponse(documents[0], headers={"Cache-Control": "no-store"})


def openapi_paths(read: dict[str, Any]) -> dict[str, Any]:
    """This module's part of the OpenAPI document (``read``: the shared read-operation shape)."""
    return {
        "/api/v1/orders/{order_number}/archive": {
            "get": {
                **read,
                "summary": "Everything kept about the order, for audit (never a share-link token)",
                "responses": {
                    **read["responses"],
                    "200": {
                        "description": "the archive document",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Archive"}}
                        },
                    },
                },
            }
        }
    }


ARCHIVE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "archive_version",
        "order",
        "shipments",
        "events",
        "delays",
        "webhook_receipts",
        "notifications",
        "interactions",
        "feedback",
        "links",
    ],
    "properties": {
        "archive_version": {"type": "integer"},
        "order": {"type": "object", "description": "every column of the order, and its items"},
        "shipments": {"type": "array", "items": {"type": "object"}},
        "events": {"type": "array", "items": {"type": "object"}},
        "delays": {
            "type": "array",
            "items": {"type": "object", "description": "with the customer's choice, if any"},
        },
        "webhook_receipts": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "raw_body (text as received) or raw_body_base64 (not UTF-8)",
            },
        },
        "notifications": {
            "type": "array",
            "items": {
                "type": "object",
                "description": "exact content and attempts; share-link tokens as /t/<link ID>",
            },
        },
        "interactions": {"type": "array", "items": {"type": "object"}},
        "inquiries": {"type": "array", "items": {"type": "object"}},
        "feedback": {"type": ["object", "null"]},
        "links": {"type": "array", "items": {"type": "object"}},
        "audit_findings": {"type": "array", "items": {"type": "object"}},
    },
}

routes = [Route("/api/v1/orders/{order_number}/archive", order_archive, methods=["GET"])]
