"""Locale names: the shipped locales and how a customer's locale tag maps onto them."""

from __future__ import annotations

from collections.abc import Collection

DEFAULT_LOCALE = "en"
SHIPPED_LOCALES: tuple[str, ...] = ("en", "es")


def resolve_locale(tag: str | None, available: Collection[str] = SHIPPED_LOCALES) -> str:
    """The best of `available` for a tag such as `es`, `es-MX` or `es_ES`; else English."""
    if not tag:
        return DEFAULT_LOCALE
    tag = tag.strip().replace("_", "-").lower()
    if tag in available:
        return tag
    language = tag.split("-", 1)[0]
    return language if language in available else DEFAULT_LOCALE
