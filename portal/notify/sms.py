"""How long an SMS is: its encoding (GSM-7 or UCS-2), its length in units and its segments.

GSM 03.38: the basic character set costs one septet a character; the extension table
(^ { } \\ [ ~ ] | € and form feed) costs two, an escape and the character. Anything else forces
UCS-2, counted in UTF-16 code units, so an emoji outside the Basic Multilingual Plane costs two.
A single SMS holds 160 septets or 70 UCS-2 units; a long one is split into segments of 153 or 67
(the rest carries the concatenation header), and a character is never split across segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True, slots=True)
class SmsEncoding:
    """`units`: septets for GSM-7, UTF-16 code units for UCS-2; `segments`: SMS parts billed."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """Whether `text` can be sent in the GSM-7 alphabet."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def segments(text: str) -> SmsEncoding:
    """Encoding, length and segment count of `text` (an empty text is one segment)."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    single, per_segment = _LIMITS[encoding]
    costs = [_cost(char, encoding) for char in text]
    units = sum(costs)
    if units <= single:
        return SmsEncoding(encoding, units, 1)
    count, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            count, used = count + 1, 0
        used += cost
    return SmsEncoding(encoding, units, count)
