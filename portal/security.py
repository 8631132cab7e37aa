"""Tokens, keys and passwords: generation and hashing, pure apart from the OS random source."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# 24 random bytes = 192 bits, well above the 128 the design asks of share-link tokens.
TOKEN_BYTES = 24
API_KEY_PREFIX = "pk_"

_hasher = PasswordHasher()


def new_token() -> str:
    """A fresh share-link token (URL-safe, 192 bits of entropy)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a high-entropy token or key: SHA-256, hex.

    A fast hash is right here: the token carries 192 random bits, so there is nothing to
    brute-force; slow hashes are for passwords (see hash_password).
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_prefix(key: str) -> str:
    """The part of a key shown in listings so people can tell keys apart."""
    return key[: len(API_KEY_PREFIX) + 6]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def sign(secret_key: str, purpose: str, value: str) -> str:
    """An HMAC tying `value` to this portal and one purpose (CSRF fields, lookup timing)."""
    mac = hmac.new(secret_key.encode("utf-8"), f"{purpose}:{value}".encode(), hashlib.sha256)
    return mac.hexdigest()
