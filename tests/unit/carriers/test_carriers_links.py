"""Tracking page links, display names and tracking number formats."""

from __future__ import annotations

import pytest

from carriers.links import (
    CARRIER_NAMES,
    TRACKING_URLS,
    canonical_carrier,
    carrier_name,
    plausible_tracking_number,
    tracking_url,
    ups_check_digit,
)


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [
        ("ups", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("fedex", "794644790138", "https://www.fedex.com/fedextrack/?trknbr=794644790138"),
        ("usps", "9400111899223456789012",
         "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223456789012"),
        ("dhl", "1234567890", "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
         "?submit=1&tracking-id=1234567890"),
        ("dpd", "01234567890123", "https://tracking.dpd.de/status/en_US/parcel/01234567890123"),
        ("royalmail", "AB123456785GB",
         "https://www.royalmail.com/track-your-item#/tracking-results/AB123456785GB"),
        ("canadapost", "1234567890123456", "https://www.canadapost-postescanada.ca/track-reperage/"
         "en#/search?searchFor=1234567890123456"),
        ("ontrac", "C10000000000000", "https://www.ontrac.com/tracking/?number=C10000000000000"),
        ("lasership", "1LS123456789012", "https://www.lasership.com/track/1LS123456789012"),
    ],
)  # fmt: skip
def test_tracking_url_of_known_carriers(carrier: str, number: str, url: str) -> None:
    assert tracking_url(carrier, number) == url


@pytest.mark.parametrize("carrier", sorted(TRACKING_URLS))
def test_every_known_carrier_has_an_https_page_and_a_name(carrier: str) -> None:
    url = tracking_url(carrier, "ABC123")
    assert url is not None and url.startswith("https://") and "ABC123" in url
    assert carrier in CARRIER_NAMES


def test_tracking_number_is_url_quoted() -> None:
    url = tracking_url("ups", "1Z 999/AA?1&x=#")
    assert url == "https://www.ups.com/track?tracknum=1Z%20999%2FAA%3F1%26x%3D%23"


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("DHLExpress", "dhl"),
        ("dhl_express", "dhl"),
        ("royal-mail", "royalmail"),
        ("Canada Post", "canadapost"),
        ("LaserShipV2", "lasership"),
        ("UPS", "ups"),
        ("FedEx", "fedex"),
        ("some-local_courier", "somelocalcourier"),
    ],
)
def test_aggregator_spellings_fold_to_one_code(alias: str, canonical: str) -> None:
    assert canonical_carrier(alias) == canonical


def test_unknown_carrier_has_no_url() -> None:
    assert tracking_url("acme-couriers", "123456") is None
    assert tracking_url("ups", "   ") is None


@pytest.mark.parametrize(
    ("carrier", "name"),
    [
        ("ups", "UPS"),
        ("fedex", "FedEx"),
        ("usps", "USPS"),
        ("dhl", "DHL Express"),
        ("DHLExpress", "DHL Express"),
        ("royal-mail", "Royal Mail"),
        ("canadapost", "Canada Post"),
        ("ontrac", "OnTrac"),
        ("lasership", "LaserShip"),
        ("dpd", "DPD"),
        ("acme", "Acme"),
        ("acme_couriers", "Acme Couriers"),
    ],
)
def test_carrier_name(carrier: str, name: str) -> None:
    assert carrier_name(carrier) == name


@pytest.mark.parametrize(
    ("carrier", "number", "plausible"),
    [
        # UPS: 1Z + 16, the last one a check digit.
        ("ups", "1Z999AA10123456784", True),
        ("ups", "1z999aa10123456784", True),
        ("ups", "1Z 999 AA1 01 2345 6784", True),
        ("ups", "1ZCIETST0111111114", True),  # UPS's Track Alert test numbers
        ("ups", "1Z204W4R0308071865", True),
        ("ups", "1Z999AA10123456785", False),  # wrong check digit
        ("ups", "1Z999AA1012345678", False),  # too short
        ("ups", "1Z999AA1012345678A", False),  # letter as check digit
        ("ups", "9400111899223456789012", False),
        # USPS: 20-22 digits, or an international S10 number.
        ("usps", "9400111899223456789012", True),
        ("usps", "92055901649173127510", True),
        ("usps", "EA123456785US", True),
        ("usps", "EA123456789US", False),  # S10 check digit
        ("usps", "940011189922345678901234", False),
        # FedEx: 12, 15, 20 or 22 digits.
        ("fedex", "794644790138", True),
        ("fedex", "123456789012345", True),
        ("fedex", "12345678901234567890", True),
        ("fedex", "1234567890123456789012", True),
        ("fedex", "1234567890123", False),
        ("fedex", "79464479013A", False),
        # DHL: express waybills and parcel numbers.
        ("dhl", "1234567890", True),
        ("dhl", "JD014600003828", True),
        ("dhl", "JJD000390007827819", True),
        ("dhl", "12345", False),
        # Royal Mail, Canada Post, OnTrac.
        ("royalmail", "AB123456785GB", True),
        ("royalmail", "AB123456785US", False),
        ("canadapost", "1234567890123456", True),
        ("ontrac", "C10000000000000", True),
        ("ontrac", "X10000000000000", False),
        # Unknown carriers: 4-40 letters, digits and dashes.
        ("acme", "AB-12", True),
        ("acme", "abc1", True),
        ("acme", "ab1", False),
        ("acme", "A" * 41, False),
        ("acme", "AB_12", False),
        ("acme", "ÄB12", False),
        ("acme", "", False),
    ],
)
def test_plausible_tracking_number(carrier: str, number: str, plausible: bool) -> None:
    assert plausible_tracking_number(carrier, number) is plausible


def test_ups_check_digit_of_a_documented_example() -> None:
    assert ups_check_digit("999AA1012345678") == 4
