"""The review report's part of the OpenAPI document: `GET /api/v1/reports`."""

from __future__ import annotations

from typing import Any

from ..domain.report import LONG_COLUMNS

_DATE = {"type": "string", "format": "date"}
_ROWS = {"type": "array", "items": {"type": "object"}}
SECTIONS = (
    "notifications",
    "on_time_by_carrier",
    "eta_accuracy_by_carrier",
    "delays_by_reason",
    "sla",
    "feedback_by_carrier",
    "feedback_by_template",
    "inquiries_after_notice",
)

REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["period", *SECTIONS],
    "properties": {
        "period": {
            "type": "object",
            "properties": {"from": _DATE, "to": _DATE, "timezone": {"type": "string"}},
        },
        **{name: _ROWS for name in SECTIONS},
    },
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def report_paths() -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "/api/v1/reports": {
            "get": {
                "summary": "The review figures for a period (README: Reports and review)",
                "security": [{"bearer": []}],
                "parameters": [
                    _query(
                        "from", "first local date, inclusive (default: 29 days before to)", _DATE
                    ),
                    _query("to", "last local date, inclusive (default: today)", _DATE),
                    _query("format", "json (default) or csv", {"enum": ["json", "csv"]}),
                    _query(
                        "section", "with format=csv: one section's table", {"enum": list(SECTIONS)}
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "the figures; CSV columns "
                        + ",".join(LONG_COLUMNS)
                        + " (or the section's own)",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "401": {"description": "missing or invalid API key", "content": error},
                    "404": {"description": "no such section", "content": error},
                    "422": {"description": "a bad date or format", "content": error},
                },
            }
        }
    }


def add_reports(document: dict[str, Any]) -> dict[str, Any]:
    """Merge the report path and schema into the API document."""
    document["paths"].update(report_paths())
    document["components"]["schemas"]["Report"] = REPORT_SCHEMA
    return document
