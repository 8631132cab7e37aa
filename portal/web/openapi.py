"""The API's OpenAPI 3.1 document, generated from the same pydantic models the routes parse."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..schemas import DelayCreate, LinkCreate, OrderCreate, ShipmentCreate, StatusChange
from . import archive, openapi_inquiries
from .openapi_crm import add_crm
from .openapi_reports import add_reports

_INPUTS: tuple[type[BaseModel], ...] = (
    OrderCreate,
    StatusChange,
    ShipmentCreate,
    DelayCreate,
    LinkCreate,
    *openapi_inquiries.INPUTS,
)


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _post(
    summary: str,
    model: str | None,
    ok: dict[str, Any],
    *,
    code: str = "201",
    optional: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [
            {"$ref": "#/components/parameters/IdempotencyKey"},
        ],
        "responses": {
            code: ok,
            "401": _error_response("missing or invalid API key"),
            "403": _error_response("the key lacks the orders:write scope"),
            "409": _error_response("conflicts with the order's state or an earlier request"),
            "413": _error_response("body over 256 KiB"),
            "415": _error_response("body is not application/json"),
            "422": _error_response("invalid fields, listed in error.details"),
            "408": _error_response("the body did not arrive within PORTAL_BODY_TIMEOUT"),
            "503": _error_response(
                "database_busy: the database could not take the write in time; nothing was "
                "written, retry after Retry-After seconds"
            ),
        },
    }
    if model:
        op["requestBody"] = {
            "required": not optional,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}},
        }
    return op


_ORDER_PARAM = {
    "name": "order_number",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


@cache
def _components() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(m, "validation") for m in _INPUTS], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {},
                },
            }
        },
    }
    schemas["Order"] = {
        "type": "object",
        "required": ["order_number", "status", "items", "shipments", "delays", "events"],
        "properties": {
            "order_number": {"type": "string"},
            "status": {"type": "string"},
            "tracking_url": {"type": "string", "description": "only in the answer to a create"},
            "estimated_delivery": {"type": ["string", "null"], "format": "date"},
            "items": {"type": "array", "items": {"type": "object"}},
            "shipments": {"type": "array", "items": {"$ref": "#/components/schemas/Shipment"}},
            "delays": {"type": "array", "items": {"$ref": "#/components/schemas/Delay"}},
            "events": {"type": "array", "items": {"type": "object"}},
        },
    }
    schemas["Shipment"] = {
        "type": "object",
        "properties": {
            "carrier": {"type": "string"},
            "tracking_number": {"type": "string"},
            "tracking_url": {"type": ["string", "null"]},
            "status": {"type": "string"},
            "estimated_delivery": {"type": ["string", "null"], "format": "date"},
        },
    }
    schemas["Delay"] = {
        "type": "object",
        "properties": {
            "reason_code": {"type": "string"},
            "message": {"type": "string"},
            "new_estimated_delivery": {"type": ["string", "null"], "format": "date"},
            "compensation": {"type": ["string", "null"]},
            "alternatives": {"type": "array", "items": {"type": "string"}},
            "state": {"type": "string"},
            "opened_at": {"type": "string", "format": "date-time"},
        },
    }
    schemas["Link"] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "expires_at": {"type": ["string", "null"]},
        },
    }
    schemas.update(_link_schemas())
    schemas["Notifications"] = {
        "type": "object",
        "properties": {"notifications": {"type": "array", "items": {"type": "object"}}},
    }
    schemas.update(openapi_inquiries.SCHEMAS)
    schemas["Archive"] = archive.ARCHIVE_SCHEMA
    return schemas


def openapi_document(base_url: str) -> dict[str, Any]:
    read: dict[str, Any] = {
        "security": [{"bearer": []}],
        "parameters": [_ORDER_PARAM],
        "responses": {
            "401": _error_response("missing or invalid API key"),
            "404": _error_response("no such order"),
        },
    }
    paths: dict[str, Any] = {
        "/api/v1/orders": {
            "post": _post(
                "Create an order; sends the confirmation", "OrderCreate", _ok("created", "Order")
            )
        },
        "/api/v1/orders/{order_number}": {
            "get": {
                **read,
                "summary": "The order with shipments, delays and timeline",
                "responses": {**read["responses"], "200": _ok("the order", "Order")},
            }
        },
        "/api/v1/orders/{order_number}/status": {
            "post": {
                **_post(
                    "Set processing, packed or cancelled",
                    "StatusChange",
                    _ok("the order", "Order"),
                    code="200",
                ),
                "parameters": [_ORDER_PARAM, {"$ref": "#/components/parameters/IdempotencyKey"}],
            }
        },
        "/api/v1/orders/{order_number}/shipments": {
            "post": {
                **_post(
                    "Register a shipment: marks the order shipped",
                    "ShipmentCreate",
                    _ok("the shipment", "Shipment"),
                ),
                "parameters": [_ORDER_PARAM, {"$ref": "#/components/parameters/IdempotencyKey"}],
            }
        },
        "/api/v1/orders/{order_number}/delays": {
            "post": {
                **_post(
                    "Record a delay and notify the customer",
                    "DelayCreate",
                    _ok("the delay", "Delay"),
                ),
                "parameters": [_ORDER_PARAM, {"$ref": "#/components/parameters/IdempotencyKey"}],
            }
        },
        "/api/v1/orders/{order_number}/links": {
            "post": {
                **_post("A new share link", "LinkCreate", _ok("the link", "Link"), optional=True),
                "parameters": [_ORDER_PARAM, {"$ref": "#/components/parameters/IdempotencyKey"}],
            }
        },
        "/api/v1/orders/{order_number}/notifications": {
            "get": {
                **read,
                "summary": "Every notification of the order, with exact content",
                "responses": {**read["responses"], "200": _ok("the log", "Notifications")},
            }
        },
    }
    paths.update(openapi_inquiries.paths(_post, _ok, _error_response))
    _add_link_paths(paths, read)
    paths.update(archive.openapi_paths(read))
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Tracking portal API", "version": "1"},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "a retry with the same key answers the first answer again",
                }
            },
        },
    }
    return add_reports(add_crm(document))


def _link_schemas() -> dict[str, Any]:
    when = {"type": ["string", "null"], "format": "date-time"}
    return {
        "LinkInfo": {
            "type": "object",
            "description": "a share link as listed: never its token",
            "properties": {
                "id": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
                "created_by": {"type": "string"},
                "expires_at": when,
                "revoked_at": when,
                "use_count": {"type": "integer"},
                "last_used_at": when,
            },
        },
        "Links": {
            "type": "object",
            "properties": {
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/LinkInfo"}}
            },
        },
    }


def _add_link_paths(paths: dict[str, Any], read: dict[str, Any]) -> None:
    """The links list (beside the create) and the revoke route."""
    paths["/api/v1/orders/{order_number}/links"]["get"] = {
        **read,
        "summary": "The order's share links (never a token)",
        "responses": {**read["responses"], "200": _ok("the links", "Links")},
    }
    revoke = _post(
        "Revoke a share link; open pages on it go offline",
        None,
        _ok("the link", "LinkInfo"),
        code="200",
    )
    revoke["responses"]["404"] = _error_response("no such order, or no such link on it")
    link_param = {"name": "link_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    revoke["parameters"] = [
        _ORDER_PARAM,
        link_param,
        {"$ref": "#/components/parameters/IdempotencyKey"},
    ]
    paths["/api/v1/orders/{order_number}/links/{link_id}/revoke"] = {"post": revoke}
