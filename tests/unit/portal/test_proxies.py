"""The client's address: the peer's, or what a trusted proxy forwarded (read from the right)."""

from __future__ import annotations

import pytest

from portal.proxies import client_address, parse_networks
from portal.settings import SettingsError, load_settings

PROXIES = parse_networks("10.0.0.0/8, 2001:db8::1")


def scope(peer: str, *forwarded: str) -> dict[str, object]:
    return {
        "client": (peer, 1234),
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.5", (), PROXIES, "203.0.113.5"),
        ("203.0.113.5", ("198.51.100.1",), PROXIES, "203.0.113.5"),  # not from a proxy
        ("203.0.113.5", ("198.51.100.1",), (), "203.0.113.5"),  # no proxy trusted
        ("10.1.2.3", ("198.51.100.1",), PROXIES, "198.51.100.1"),
        ("10.1.2.3", ("6.6.6.6, 198.51.100.1",), PROXIES, "198.51.100.1"),  # spoofed left part
        ("10.1.2.3", ("198.51.100.1, 10.9.9.9",), PROXIES, "198.51.100.1"),  # two proxies
        ("10.1.2.3", ("6.6.6.6", "198.51.100.1"), PROXIES, "198.51.100.1"),  # repeated header
        ("10.1.2.3", ("10.4.4.4",), PROXIES, "10.1.2.3"),  # only proxies: the peer
        ("10.1.2.3", (), PROXIES, "10.1.2.3"),
        ("2001:db8::1", ("2001:db8::42",), PROXIES, "2001:db8::42"),
    ],
)
def test_client_address(
    peer: str, forwarded: tuple[str, ...], trusted: object, client: str
) -> None:
    assert client_address(scope(peer, *forwarded), trusted) == client  # type: ignore[arg-type]


def test_the_setting_is_validated(tmp_path: object) -> None:
    env = {"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "x" * 40}
    assert load_settings(env).trusted_proxies == ()
    settings = load_settings({**env, "PORTAL_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(SettingsError, match="PORTAL_TRUSTED_PROXIES"):
        load_settings({**env, "PORTAL_TRUSTED_PROXIES": "not-an-address"})
