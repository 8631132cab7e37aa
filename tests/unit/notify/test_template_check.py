"""Saving an edited template: only when it renders every field the accuracy gate needs."""

from __future__ import annotations

from datetime import date

import pytest

from portal.notify.kinds import Channel, NotificationKind
from portal.notify.samples import sample_context
from portal.notify.template_check import minimal_context, problems
from portal.notify.templates import DEFAULT_DIRECTORY, PARTS, TemplateSet, read_directory

TODAY = date(2027, 3, 10)
BASE = TemplateSet.load_default()
SHIPPED = read_directory(DEFAULT_DIRECTORY)
K, C = NotificationKind, Channel


def shipped(kind: K, channel: C, locale: str = "en") -> dict[str, str]:
    return {p: SHIPPED[(kind.value, channel.value, locale, p)][1] for p in PARTS[channel]}


def check(kind: K, channel: C, parts: dict[str, str], locale: str = "en") -> list[str]:
    return problems(BASE, kind, channel, locale, parts, today=TODAY, base_url="https://s.example")


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("kind", list(K))
@pytest.mark.parametrize("channel", list(C))
def test_every_shipped_template_passes(kind: K, channel: C, locale: str) -> None:
    assert check(kind, channel, shipped(kind, channel, locale), locale) == []


@pytest.mark.parametrize(
    ("kind", "channel", "part", "drop", "expected"),
    [
        # The feedback link is the portal link plus "#feedback": it shows the link too.
        (K.DELIVERY, C.SMS, "txt", ("{{ feedback_url }}",), "portal link"),
        (K.ORDER_CONFIRMATION, C.EMAIL, "txt", ("{{ portal_url }}",), "portal link"),
        (K.SHIPPING, C.EMAIL, "txt", ("{{ carrier_url }}",), "carrier link"),
        # The carrier link carries the tracking number: both dropped, the number is missing.
        (K.SHIPPING, C.SMS, "txt", ("{{ tracking_number }}", "{{ carrier_url }}"), "tracking"),
    ],
)
def test_dropping_a_field_the_gate_needs_is_refused(
    kind: K, channel: C, part: str, drop: tuple[str, ...], expected: str
) -> None:
    parts = shipped(kind, channel)
    for field in drop:
        assert field in parts[part]
        parts[part] = parts[part].replace(field, "")
    found = check(kind, channel, parts)
    assert found and all("accuracy gate blocks it" in p for p in found)
    assert any(expected in p for p in found)


def test_an_unguarded_optional_field_is_refused() -> None:
    parts = shipped(K.SHIPPING, C.SMS)
    parts["txt"] += " {{ estimated_delivery|shortdate }}"
    [problem] = check(K.SHIPPING, C.SMS, parts)
    assert "only the required fields" in problem and "estimated_delivery" in problem
    parts["txt"] = shipped(K.SHIPPING, C.SMS)["txt"] + (
        "{% if estimated_delivery is defined %} {{ estimated_delivery|shortdate }}{% endif %}"
    )
    assert check(K.SHIPPING, C.SMS, parts) == []


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"txt": "  "}, "the txt part is empty"),
        ({"txt": "{{ portal_url }}", "html": "x"}, "sms has no part 'html'"),
        ({"txt": "{{ portal_url }} {% if %}"}, "delivery.sms.txt"),
        ({"txt": "{{ portal_url }} {{ no_such_field }}"}, "no_such_field"),
        ({"txt": "{{ portal_url }} None"}, "a field was not filled"),
    ],
)
def test_broken_candidates(parts: dict[str, str], expected: str) -> None:
    found = check(K.DELIVERY, C.SMS, parts)
    assert any(expected in p for p in found), found


def test_an_email_needs_every_part() -> None:
    parts = shipped(K.DELAY, C.EMAIL)
    parts["subject"] = ""
    assert check(K.DELAY, C.EMAIL, parts) == ["the subject part is empty"]


def test_minimal_context_keeps_only_required_fields() -> None:
    full = sample_context(TODAY)
    ctx = minimal_context(full, K.SHIPPING, C.EMAIL)
    assert ctx.tracking_number == full.tracking_number and ctx.unsubscribe_url
    assert ctx.estimated_delivery is None and ctx.compensation is None and ctx.items == ()
    assert minimal_context(full, K.ORDER_CONFIRMATION, C.SMS).items == full.items
