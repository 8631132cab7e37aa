from __future__ import annotations

import base64

from portal.security import (
    API_KEY_PREFIX,
    api_key_prefix,
    hash_password,
    hash_token,
    new_api_key,
    new_token,
    verify_password,
)


def test_tokens_carry_at_least_128_bits() -> None:
    token = new_token()
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128
    assert token.isascii() and "/" not in token and "+" not in token


def test_tokens_are_unique() -> None:
    assert len({new_token() for _ in range(1000)}) == 1000


def test_hash_is_stable_and_not_the_token() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert hash_token(token) != token
    assert len(hash_token(token)) == 64
    assert hash_token(token) != hash_token(new_token())


def test_api_keys() -> None:
    key = new_api_key()
    assert key.startswith(API_KEY_PREFIX)
    assert api_key_prefix(key) == key[: len(API_KEY_PREFIX) + 6]


def test_passwords_use_argon2() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong")
    assert not verify_password("not-a-hash", "x")
