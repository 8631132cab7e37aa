"""Public tracking pages, display names and tracking number formats of well-known carriers.

Carrier codes are matched loosely: case, spaces, ``-`` and ``_`` are ignored and the spellings
of the aggregators are folded in (``DHLExpress`` from EasyPost, ``dhl_express`` from Shippo,
``royal-mail`` from AfterShip all mean the same carrier).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

__all__ = [
    "CARRIER_NAMES",
    "TRACKING_URLS",
    "canonical_carrier",
    "carrier_name",
    "plausible_tracking_number",
    "tracking_url",
    "ups_check_digit",
]

# Public tracking page per canonical code; "{}" receives the URL-quoted tracking number.
TRACKING_URLS: dict[str, str] = {
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={}",
    "dhlecommerce": "https://webtrack.dhlecs.com/?trackingnumber={}",
    "dhlpaket": "https://www.dhl.de/en/privatkunden/pakete-empfangen/verfolgen.html?piececode={}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "dpduk": "https://track.dpd.co.uk/parcels/{}",
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "canadapost": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
    "ontrac": "https://www.ontrac.com/tracking/?number={}",
    "lasership": "https://www.lasership.com/track/{}",
    "purolator": "https://www.purolator.com/en/shipping/tracker?pin={}",
    "gls": "https://gls-group.com/track/{}",
    "evri": "https://www.evri.com/track/parcel/{}",
    "australiapost": "https://auspost.com.au/mypost/track/details/{}",
    "tnt": "https://www.tnt.com/express/en_us/site/shipping-tools/tracking.html?searchType=con&cons={}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{}",
}

CARRIER_NAMES: dict[str, str] = {
    "ups": "UPS",
    "fedex": "FedEx",
    "usps": "USPS",
    "dhl": "DHL Express",
    "dhlecommerce": "DHL eCommerce",
    "dhlpaket": "DHL Paket",
    "dpd": "DPD",
    "dpduk": "DPD UK",
    "royalmail": "Royal Mail",
    "canadapost": "Canada Post",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
    "purolator": "Purolator",
    "gls": "GLS",
    "evri": "Evri",
    "australiapost": "Australia Post",
    "tnt": "TNT",
    "postnl": "PostNL",
}

# Other spellings (already lowercased, separators removed) of the codes above.
_ALIASES: dict[str, str] = {
    "dhlexpress": "dhl",
    "dhlglobalmail": "dhlecommerce",
    "dhlecs": "dhlecommerce",
    "dhlecommerceasia": "dhlecommerce",
    "dhlgermany": "dhlpaket",
    "deutschepost": "dhlpaket",
    "dpdde": "dpd",
    "fedexground": "fedex",
    "fedexexpress": "fedex",
    "upsground": "ups",
    "royalmailuk": "royalmail",
    "canadapostca": "canadapost",
    "ontracv3": "ontrac",
    "lasershipv2": "lasership",
    "hermesuk": "evri",
    "hermes": "evri",
    "auspost": "australiapost",
    "glsus": "gls",
    "tntexpress": "tnt",
}

_SEPARATORS = re.compile(r"[\s_\-.]+")


def canonical_carrier(carrier: str) -> str:
    """The canonical code of a carrier code or alias (``"DHL_Express"`` -> ``"dhl"``).

    Unknown carriers come back lowercased with separators removed.
    """
    folded = _SEPARATORS.sub("", carrier.strip().lower())
    return _ALIASES.get(folded, folded)


def tracking_url(carrier: str, tracking_number: str) -> str | None:
    """The carrier's public tracking page for ``tracking_number``; None for unknown carriers."""
    template = TRACKING_URLS.get(canonical_carrier(carrier))
    number = tracking_number.strip()
    if template is None or not number:
        return None
    return template.format(quote(number, safe=""))


def carrier_name(carrier: str) -> str:
    """A display name (``"UPS"``, ``"FedEx"``, ``"DHL Express"``); unknown codes title-cased."""
    known = CARRIER_NAMES.get(canonical_carrier(carrier))
    if known is not None:
        return known
    return _SEPARATORS.sub(" ", carrier.strip()).title()


def ups_check_digit(body: str) -> int:
    """The check digit of the 15 characters after ``1Z``.

    Letters count as (position in the alphabet + 1) modulo 10 (A=2, B=3, ... I=0), every
    second character counts double, and the digit tops the sum up to a multiple of ten.
    """
    total = 0
    for index, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - ord("A") + 2) % 10
        total += value * (2 if index % 2 else 1)
    return (10 - total % 10) % 10


def _ups(number: str) -> bool:
    if re.fullmatch(r"1Z[0-9A-Z]{16}", number) is None:
        return False
    return ups_check_digit(number[2:17]) == int(number[17]) if number[17].isdigit() else False


def _usps(number: str) -> bool:
    # IMpb barcodes are 20 to 22 digits; international items use the 13 character S10 format.
    return bool(re.fullmatch(r"\d{20,22}", number) or _s10(number, "US"))


def _fedex(number: str) -> bool:
    return re.fullmatch(r"\d{12}|\d{15}|\d{20}|\d{22}", number) is not None


def _dhl(number: str) -> bool:
    # Express air waybills are 10 digits; DHL parcel and eCommerce numbers start JD/JJD/GM.
    return bool(
        re.fullmatch(r"\d{10,11}", number)
        or re.fullmatch(r"(JJD|JD|JVGL|GM)[0-9A-Z]{8,24}", number)
        or re.fullmatch(r"\d{12}|\d{20}", number)
        or _s10(number)
    )


def _royalmail(number: str) -> bool:
    return bool(_s10(number, "GB") or re.fullmatch(r"[A-Z0-9]{16}", number))


def _canadapost(number: str) -> bool:
    return bool(re.fullmatch(r"\d{12}|\d{16}", number) or _s10(number, "CA"))


def _ontrac(number: str) -> bool:
    return bool(re.fullmatch(r"[CD]\d{14}", number) or re.fullmatch(r"1LS\d{12,15}", number))


def _s10(number: str, country: str | None = None) -> bool:
    """UPU S10: two letters, eight digits and a check digit, a two-letter country."""
    match = re.fullmatch(r"[A-Z]{2}(\d{8})(\d)([A-Z]{2})", number)
    if match is None or (country is not None and match.group(3) != country):
        return False
    weights = (8, 6, 4, 2, 3, 5, 9, 7)
    check = 11 - sum(int(d) * w for d, w in zip(match.group(1), weights, strict=True)) % 11
    check = {10: 0, 11: 5}.get(check, check)
    return check == int(match.group(2))


_FORMATS: dict[str, Callable[[str], bool]] = {
    "ups": _ups,
    "usps": _usps,
    "fedex": _fedex,
    "dhl": _dhl,
    "royalmail": _royalmail,
    "canadapost": _canadapost,
    "ontrac": _ontrac,
}


def plausible_tracking_number(carrier: str, tracking_number: str) -> bool:
    """Whether ``tracking_number`` has the shape the carrier uses.

    Spaces are ignored (labels print numbers in groups) and letters are compared uppercased.
    Carriers without a known format accept 4-40 characters of letters, digits and dashes.
    """
    number = re.sub(r"\s+", "", tracking_number).upper()
    check = _FORMATS.get(canonical_carrier(carrier))
    if check is None:
        return re.fullmatch(r"[A-Z0-9-]{4,40}", number) is not None
    return check(number)
