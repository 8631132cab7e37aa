"""Reply-To tags: ``<local>+<tag>@<domain>`` names what a customer's email reply is about.

A tag is ``m<message id>`` (a reply to an agent's answer: that inquiry) or ``o<order id>``
(a reply to an order notification), followed by a short HMAC so a tag cannot be made up to
reach another order: ``m42-k3j9x2pd``. Pure: the secret is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import getaddresses

_TAG = re.compile(r"^([mo])(\d{1,18})-([a-z2-7]{10})$")
KINDS = {"m": "message", "o": "order"}


@dataclass(frozen=True, slots=True)
class Tag:
    kind: str  # "m" (an inquiry message) or "o" (an order)
    number: int


def _signature(secret: str, kind: str, number: int) -> str:
    digest = hmac.new(secret.encode(), f"mail-tag:{kind}{number}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode().lower()[:10]


def make_tag(kind: str, number: int, secret: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown tag kind {kind!r}")
    return f"{kind}{number}-{_signature(secret, kind, number)}"


def parse_tag(tag: str, secret: str) -> Tag | None:
    """The tag's meaning, or None when it is malformed or its signature is wrong."""
    match = _TAG.match(tag.strip().lower())
    if match is None:
        return None
    kind, number = match[1], int(match[2])
    if not hmac.compare_digest(match[3], _signature(secret, kind, number)):
        return None
    return Tag(kind, number)


def tagged_address(inbound: str, tag: str) -> str:
    """``local@domain`` with the tag: ``local+tag@domain``."""
    local, _, domain = inbound.rpartition("@")
    return f"{local}+{tag}@{domain}"


def tag_in_recipients(recipients: list[str], inbound: str) -> str | None:
    """The tag of the first recipient that is the inbound address with a tag, if any."""
    local, _, domain = inbound.lower().rpartition("@")
    for _, address in getaddresses(recipients):
        name, _, host = address.lower().rpartition("@")
        base, plus, tag = name.partition("+")
        if plus and base == local and host == domain and tag:
            return tag
    return None


_ORDER_IN_SUBJECT = re.compile(
    r"(?<![A-Za-z0-9._-])([A-Za-z0-9][A-Za-z0-9._-]{2,63})(?![A-Za-z0-9])"
)


def order_numbers_in(subject: str) -> list[str]:
    """Words of a subject that could be order numbers, those with a digit first (most likely)."""
    words = [w.rstrip("._-") for w in _ORDER_IN_SUBJECT.findall(subject or "")]
    return sorted({w for w in words if any(c.isdigit() for c in w)}, key=words.index)
