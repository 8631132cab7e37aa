"""carriers.text: what every adapter's updates are cleaned and cut to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from carriers.base import Location, ParsedWebhook, TrackingUpdate
from carriers.status import ShipmentStatus
from carriers.text import (
    CARRIER_STATUS_MAX,
    MESSAGE_MAX,
    URL_MAX,
    clean_text,
    normalise_update,
    normalise_webhook,
)

E = "\u2026"


@pytest.mark.parametrize(
    ("raw", "limit", "clean"),
    [
        ("Departed hub", None, "Departed hub"),
        ("  Departed\x00 hub ", None, "Departed hub"),
        ("line\r\nbreak\ttab\x0bvt\x85nel", None, "line break tab vt nel"),
        ("bell\x07\x1b[31mred", None, "bell[31mred"),
        ("abc\u202edcba\u202c", None, "abcdcba"),
        ("\u2066isolate\u2069 \u200emark\u200f", None, "isolate mark"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeff", None, "zerowidth"),
        ("lone \ud800 surrogate \udfff", None, "lone surrogate"),
        ("para\u2028graph\u2029end", None, "para graph end"),
        ('<b>markup</b> & "quotes"', None, '<b>markup</b> & "quotes"'),  # escaped on output
        ("Zürich, 東京 🚚", None, "Zürich, 東京 🚚"),
        ("abcdef", 6, "abcdef"),
        ("abcdefg", 6, "abcde" + E),
        ("abcd  efg", 6, "abcd" + E),
        ("\x00\u200b", 10, ""),
    ],
)
def test_clean_text(raw: str, limit: int | None, clean: str) -> None:
    assert clean_text(raw, limit) == clean
    assert clean_text(clean_text(raw, limit), limit) == clean_text(raw, limit)


def _update(**changes: object) -> TrackingUpdate:
    base = TrackingUpdate(
        tracking_number="TN1",
        carrier="dhl",
        status=ShipmentStatus.IN_TRANSIT,
        occurred_at=datetime(2027, 3, 2, tzinfo=UTC),
        message="Departed",
        carrier_status="IT",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_normalise_update_cleans_and_bounds_every_text_field() -> None:
    update = normalise_update(
        _update(
            tracking_number="TN\x001",
            carrier="d\u200bhl",
            message="m" * 3000 + "\x00",
            carrier_status="S" * 500,
            location=Location(
                city="C" * 999, region="R" * 99, postal_code="P" * 99, country="\x00"
            ),
            public_url="https://example.com/" + "u" * URL_MAX,
        )
    )
    assert update.tracking_number == "TN1" and update.carrier == "dhl"
    assert len(update.message) == MESSAGE_MAX and update.message.endswith(E)
    assert len(update.carrier_status) == CARRIER_STATUS_MAX
    assert update.location is not None and update.location.country is None
    assert len(update.location.label()) <= 200
    assert update.public_url is None


def test_an_empty_location_after_cleaning_is_none_and_a_clean_url_is_kept() -> None:
    update = normalise_update(
        _update(location=Location(city="\u200b"), public_url="https://example.com/t/1")
    )
    assert update.location is None
    assert update.public_url == "https://example.com/t/1"
    assert normalise_update(_update(public_url="https://x.test/\x00")).public_url is None


def test_a_clean_update_is_unchanged() -> None:
    update = _update(location=Location(city="Leipzig", region="SN", country="DE"))
    assert normalise_update(update) == update
    parsed = ParsedWebhook("key", (update,))
    assert normalise_webhook(parsed) == parsed


def test_the_registry_normalises_every_adapter() -> None:
    from carriers.registry import ADAPTERS, Normalised

    assert all(isinstance(adapter, Normalised) for adapter in ADAPTERS.values())
