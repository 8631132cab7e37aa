"""Every secret comparison of every adapter goes through hmac.compare_digest, with no early exit."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pytest

from carriers.base import SignatureError, SignatureMissing
from carriers.registry import ADAPTERS

NOW = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
BODY = b'{"hello": "world"}'
SECRETS = {
    "generic": ("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtMTIzNDU2Nzg5MA==", "whsec_b2xkLXNlY3JldA=="),
    "easypost": ("ep-current", "ep-old"),
    "aftership": ("as-current", "as-old"),
    "shippo": ("shippo-current", "shippo-old"),
    "ups": ("ups-current", "ups-old"),
    "fedex": ("fedex-current", "fedex-old"),
}


class Spy:
    def __init__(self) -> None:
        self.calls = 0
        self.real = hmac.compare_digest

    def __call__(self, a: bytes, b: bytes) -> bool:
        self.calls += 1
        return self.real(a, b)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    monkeypatch.setattr(hmac, "compare_digest", spy)
    return spy


def test_every_adapter_is_covered() -> None:
    assert set(ADAPTERS) == set(SECRETS)


@pytest.mark.parametrize("name", sorted(SECRETS))
@pytest.mark.parametrize("signed_with", [0, 1])
def test_a_genuine_request_is_compared_in_constant_time(
    spy: Spy, name: str, signed_with: int
) -> None:
    adapter = ADAPTERS[name]
    secrets = SECRETS[name]
    headers, query = adapter.sign(BODY, secrets[signed_with], NOW)
    adapter.verify(BODY, headers, query, secrets, NOW)
    # Every configured secret was compared, the matching one too, whichever matched.
    assert spy.calls >= len(secrets)


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_a_forged_request_is_compared_against_every_secret(spy: Spy, name: str) -> None:
    adapter = ADAPTERS[name]
    secrets = SECRETS[name]
    headers, query = adapter.sign(
        BODY, "whsec_Zm9yZ2VkLWtleQ==" if name == "generic" else "forged", NOW
    )
    with pytest.raises(SignatureError) as refused:
        adapter.verify(BODY, headers, query, secrets, NOW)
    assert refused.value.code == "signature_invalid"
    assert spy.calls >= len(secrets)


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_no_signature_is_signature_missing(name: str) -> None:
    with pytest.raises(SignatureMissing) as refused:
        ADAPTERS[name].verify(BODY, {}, {}, SECRETS[name], NOW)
    assert refused.value.code == "signature_missing"


def test_the_portal_compares_its_own_tokens_in_constant_time(spy: Spy) -> None:
    from portal.security import constant_time_equal

    assert constant_time_equal("a" * 64, "a" * 64)
    assert not constant_time_equal("a" * 64, "b" * 64)
    assert spy.calls == 2
