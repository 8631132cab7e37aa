"""The CRM routes' part of the OpenAPI document (search, interactions)."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from ..domain.search import MAX_LIMIT
from ..schemas_crm import InteractionCreate


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = _ref("Error")
_ORDER = {"name": "order_number", "in": "path", "required": True, "schema": {"type": "string"}}

_INTERACTION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "order_number": {"type": ["string", "null"]},
        "channel": {"type": "string"},
        "direction": {"type": "string"},
        "outcome": {"type": "string"},
        "action": {"type": "string"},
        "summary": {"type": "string"},
        "duration_s": {"type": ["integer", "null"]},
        "staff": {"type": "string", "description": "staff email, or api:<key name>"},
        "inquiry_id": {"type": ["integer", "null"]},
        "order_status": {"type": ["string", "null"]},
        "order_eta": {"type": ["string", "null"], "format": "date"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "recorded_at": {"type": "string", "format": "date-time"},
    },
}
_HIT = {
    "type": "object",
    "properties": {
        "order_number": {"type": "string"},
        "status": {"type": "string"},
        "customer": {"type": "object"},
        "estimated_delivery": {"type": ["string", "null"], "format": "date"},
        "created_at": {"type": "string", "format": "date-time"},
        "tracking_numbers": {"type": "array", "items": {"type": "string"}},
    },
}


def crm_schemas() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(InteractionCreate, "validation")], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Interaction"] = _INTERACTION
    schemas["OrderHit"] = _HIT
    return schemas


def crm_paths() -> dict[str, Any]:
    read_errors = {"401": _json("missing or invalid API key", _ERROR)}
    query_params = [
        {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 20},
        },
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    ]
    listing = {
        "type": "object",
        "properties": {"interactions": {"type": "array", "items": _ref("Interaction")}},
    }
    page = {
        "type": "object",
        "properties": {
            "orders": {"type": "array", "items": _ref("OrderHit")},
            "next_cursor": {"type": ["string", "null"]},
        },
    }
    return {
        "/api/v1/orders": {
            "get": {
                "summary": "Search orders by number, email, phone, tracking number or name "
                "(case-insensitive substring), newest first",
                "security": [{"bearer": []}],
                "parameters": query_params,
                "responses": {
                    "200": _json("a page of matching orders", page),
                    "422": _json("no q, or a bad limit or cursor", _ERROR),
                    **read_errors,
                },
            }
        },
        "/api/v1/orders/{order_number}/interactions": {
            "get": {
                "summary": "The order's CRM log, newest first",
                "security": [{"bearer": []}],
                "parameters": [_ORDER],
                "responses": {
                    "200": _json("the log", listing),
                    "404": _json("no such order", _ERROR),
                    **read_errors,
                },
            },
            "post": {
                "summary": "Log a contact about the order",
                "security": [{"bearer": []}],
                "parameters": [_ORDER, {"$ref": "#/components/parameters/IdempotencyKey"}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("InteractionCreate")}},
                },
                "responses": {
                    "201": _json("the entry", _ref("Interaction")),
                    "404": _json("no such order", _ERROR),
                    "409": _json("an earlier request with this Idempotency-Key differs", _ERROR),
                    "422": _json("invalid fields, listed in error.details", _ERROR),
                    **read_errors,
                },
            },
        },
    }


def add_crm(document: dict[str, Any]) -> dict[str, Any]:
    """Merge the CRM paths and schemas into the API document (paths shared with others merge)."""
    paths = document["paths"]
    for path, operations in crm_paths().items():
        paths[path] = {**paths.get(path, {}), **operations}
    components = document["components"]
    components["schemas"] = {**components["schemas"], **crm_schemas()}
    return document
