"""What the adapters' ``verify`` and ``sign`` share: headers, secrets, constant-time checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from carriers.base import SignatureError, SignatureMissing

__all__ = [
    "as_utc",
    "b64_hmac",
    "header",
    "hex_hmac",
    "hmac_sha256",
    "matches_any",
    "to_bytes",
    "usable_secrets",
]


def to_bytes(text: str) -> bytes:
    """UTF-8 bytes of any str, lone surrogates included, so a hostile value cannot crash us."""
    return text.encode("utf-8", "surrogatepass")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name``, looked up case-insensitively; None when absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None


def usable_secrets(secrets: Sequence[str]) -> list[str]:
    """The configured secrets, or ``SignatureError`` when the carrier is not configured.

    Empty strings are dropped: an HMAC keyed with an empty secret is one anybody can forge.
    """
    usable = [secret for secret in secrets if isinstance(secret, str) and secret]
    if not usable:
        raise SignatureError("no webhook secret is configured for this carrier")
    return usable


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest."""
    return hmac.new(key, message, hashlib.sha256).digest()


def hex_hmac(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 as lowercase hex."""
    return hmac_sha256(key, message).hex()


def b64_hmac(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 as standard padded base64."""
    return base64.b64encode(hmac_sha256(key, message)).decode("ascii")


def matches_any(expected: Iterable[str], provided: str) -> bool:
    """True when ``provided`` equals one of ``expected``, each compared in constant time.

    Every candidate is compared (no early exit), so timing does not reveal which secret of
    a rotation matched.
    """
    provided_bytes = to_bytes(provided)
    found = False
    for candidate in expected:
        if hmac.compare_digest(to_bytes(candidate), provided_bytes):
            found = True
    return found


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def verify_body_hmac(
    headers: Mapping[str, str], name: str, secrets: Sequence[str], body: bytes
) -> None:
    """Check a header holding base64 HMAC-SHA256(secret, raw body) against every secret.

    The scheme AfterShip and FedEx share; raises SignatureError saying what is wrong.
    """
    candidates = usable_secrets(secrets)
    provided = header(headers, name)
    if provided is None:
        raise SignatureMissing(f"missing {name} header")
    provided = provided.strip()
    if not provided:
        raise SignatureError(f"malformed {name} header")
    if not matches_any((b64_hmac(to_bytes(s), body) for s in candidates), provided):
        raise SignatureError("signature does not match")
