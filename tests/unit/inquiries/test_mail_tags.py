"""Reply-To tags: building, parsing, signatures; finding the tag and order numbers in mail."""

from __future__ import annotations

import pytest

from portal.domain.mail_tags import (
    Tag,
    make_tag,
    order_numbers_in,
    parse_tag,
    tag_in_recipients,
    tagged_address,
)

SECRET = "s" * 40


@pytest.mark.parametrize(("kind", "number"), [("m", 1), ("m", 42), ("o", 987654321)])
def test_tags_round_trip(kind: str, number: int) -> None:
    tag = make_tag(kind, number, SECRET)
    assert parse_tag(tag, SECRET) == Tag(kind, number)
    assert parse_tag(tag.upper(), SECRET) == Tag(kind, number)  # mail systems may upper-case


@pytest.mark.parametrize(
    "tag",
    [
        "m42",  # no signature
        "m42-aaaaaaaaaa",  # wrong signature
        "x42-aaaaaaaaaa",  # unknown kind
        "m-aaaaaaaaaa",
        "",
        "m42-" + "a" * 11,
    ],
)
def test_bad_tags_are_refused(tag: str) -> None:
    assert parse_tag(tag, SECRET) is None


def test_a_tag_made_for_one_number_does_not_open_another() -> None:
    signature = make_tag("m", 41, SECRET).split("-")[1]
    assert parse_tag(f"m42-{signature}", SECRET) is None
    assert parse_tag(make_tag("m", 42, "other" * 8), SECRET) is None


def test_tagged_address_and_finding_it_again() -> None:
    tag = make_tag("o", 7, SECRET)
    address = tagged_address("support@shop.example", tag)
    assert address == f"support+{tag}@shop.example"
    recipients = ["Someone <other@x.example>", f"Shop Support <{address.upper()}>"]
    assert tag_in_recipients(recipients, "support@shop.example") == tag.upper().lower()
    assert tag_in_recipients(["support@shop.example"], "support@shop.example") is None
    assert tag_in_recipients([f"sales+{tag}@shop.example"], "support@shop.example") is None
    assert tag_in_recipients([f"support+{tag}@evil.example"], "support@shop.example") is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Example Shop: your order A1001 is delayed", ["A1001"]),
        ("Where is order #ORD-2027-0042?", ["ORD-2027-0042"]),
        ("Question about 1001 and A-77.", ["1001", "A-77"]),
        ("Hello there", []),
        ("", []),
    ],
)
def test_order_numbers_in_a_subject(subject: str, expected: list[str]) -> None:
    assert order_numbers_in(subject) == expected
