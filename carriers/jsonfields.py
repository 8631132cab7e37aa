"""Typed access to decoded JSON: every wrong shape becomes a ``PayloadError`` naming the field."""

from __future__ import annotations

import json
from collections.abc import Mapping

from carriers.base import PayloadError

__all__ = [
    "JsonObject",
    "expect_list",
    "expect_object",
    "json_type",
    "load_json",
    "optional_list",
    "optional_object",
    "optional_str",
    "required_str",
]

JsonObject = Mapping[str, object]


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def load_json(body: bytes) -> object:
    """Decode a request body as UTF-8 JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        # json.loads recurses per nesting level; a hostile body can exhaust the stack.
        raise PayloadError("body is not JSON we accept: nested too deeply") from None


def expect_object(value: object, where: str) -> JsonObject:
    """``value`` as a JSON object."""
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object, got {json_type(value)}")
    return value


def optional_object(value: object, where: str) -> JsonObject | None:
    """``value`` as a JSON object, or None when null or absent."""
    if value is None:
        return None
    return expect_object(value, where)


def expect_list(value: object, where: str) -> list[object]:
    """``value`` as a JSON array."""
    if not isinstance(value, list):
        raise PayloadError(f"{where}: expected an array, got {json_type(value)}")
    return value


def optional_list(value: object, where: str) -> list[object]:
    """``value`` as a JSON array; null or absent reads as empty."""
    if value is None:
        return []
    return expect_list(value, where)


def optional_str(value: object, where: str) -> str | None:
    """A stripped string, or None for null, absent or blank.

    Numbers are accepted and turned into text because carriers send postal codes and codes
    both ways.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(f"{where}: expected a string, got boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(value) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected a string, got {json_type(value)}")
    stripped = value.strip()
    return stripped or None


def required_str(value: object, where: str) -> str:
    """A non-blank stripped string."""
    text = optional_str(value, where)
    if text is None:
        raise PayloadError(f"{where}: is required")
    return text
