"""The inquiry routes' part of the OpenAPI document (merged by portal.web.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..schemas_inquiries import (
    InquiryAssign,
    InquiryCreate,
    InquiryLink,
    InquiryMessageCreate,
    InquiryStateChange,
)

INPUTS: tuple[type[BaseModel], ...] = (
    InquiryCreate,
    InquiryMessageCreate,
    InquiryStateChange,
    InquiryLink,
    InquiryAssign,
)

_ID = {"name": "inquiry_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TARGET = {
    "type": "object",
    "properties": {
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "state": {"type": "string", "enum": ["pending", "paused", "met", "breached"]},
    },
}

SCHEMAS: dict[str, Any] = {
    "Inquiry": {
        "type": "object",
        "required": ["id", "channel", "state", "priority", "targets"],
        "properties": {
            "id": {"type": "integer"},
            "order_number": {"type": ["string", "null"]},
            "channel": {"type": "string", "enum": ["web", "email", "phone", "chat"]},
            "subject": {"type": "string"},
            "state": {"type": "string", "enum": ["open", "waiting_on_customer", "resolved"]},
            "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
            "priority_reason": {"type": ["string", "null"]},
            "assignee": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "next_due_at": {"type": ["string", "null"], "format": "date-time"},
            "breached": {"type": "boolean"},
            "targets": {
                "type": "object",
                "properties": {
                    "first_response": _TARGET,
                    "next_response": _TARGET,
                    "resolution": _TARGET,
                },
            },
            "messages": {"type": "array", "items": {"type": "object"}},
            "sla_events": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Inquiries": {
        "type": "object",
        "properties": {
            "inquiries": {"type": "array", "items": {"$ref": "#/components/schemas/Inquiry"}}
        },
    },
}


def paths(post: Any, ok: Any, error: Any) -> dict[str, Any]:
    """The paths, built with openapi.py's helpers for a POST, an answer and an error."""
    read: dict[str, Any] = {
        "security": [{"bearer": []}],
        "responses": {"401": error("missing or invalid API key")},
    }
    with_id = [_ID, {"$ref": "#/components/parameters/IdempotencyKey"}]
    return {
        "/api/v1/inquiries": {
            "get": {
                **read,
                "summary": "The queue: open inquiries by next due time, breached first",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"type": "string"}},
                    {"name": "breached", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "priority", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {**read["responses"], "200": ok("the queue", "Inquiries")},
            },
            "post": post(
                "Open an inquiry; answers its due times",
                "InquiryCreate",
                ok("the inquiry", "Inquiry"),
            ),
        },
        "/api/v1/inquiries/{inquiry_id}": {
            "get": {
                **read,
                "summary": "The inquiry with messages, SLA targets and SLA events",
                "parameters": [_ID],
                "responses": {
                    **read["responses"],
                    "200": ok("the inquiry", "Inquiry"),
                    "404": error("no such inquiry"),
                },
            }
        },
        "/api/v1/inquiries/{inquiry_id}/messages": {
            "post": {
                **post(
                    "A reply (sent through the outbox) or a customer message",
                    "InquiryMessageCreate",
                    ok("the inquiry", "Inquiry"),
                ),
                "parameters": with_id,
            }
        },
        "/api/v1/inquiries/{inquiry_id}/state": {
            "post": {
                **post(
                    "open, waiting_on_customer (pauses) or resolved",
                    "InquiryStateChange",
                    ok("the inquiry", "Inquiry"),
                    code="200",
                ),
                "parameters": with_id,
            }
        },
        "/api/v1/inquiries/{inquiry_id}/order": {
            "post": {
                **post(
                    "Link an unmatched inquiry to an order (409 sender_mismatch when its sender "
                    "is not the order's customer and confirm_sender is not true; 409 "
                    "already_linked when it is about an order already); the clocks keep running",
                    "InquiryLink",
                    ok("the inquiry, with sender_check matched or confirmed", "Inquiry"),
                    code="200",
                ),
                "parameters": with_id,
            }
        },
    } | _assignee(post, ok, with_id)


def _assignee(post: Any, ok: Any, with_id: list[Any]) -> dict[str, Any]:
    answer = ok("the inquiry", "Inquiry")
    what = (
        "Assign the inquiry to a staff user (assignee: an active staff user's email) or to "
        "nobody (null); open order screens show it at once"
    )
    return {
        "/api/v1/inquiries/{inquiry_id}/assignee": {
            "post": {**post(what, "InquiryAssign", answer, code="200"), "parameters": with_id}
        }
    }
