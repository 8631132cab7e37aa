"""Who the client is: the peer's address, or, behind a trusted proxy, the address it forwarded.

Forwarded headers are honoured only from the proxies named in PORTAL_TRUSTED_PROXIES (addresses
or networks): anyone else could write any address there. The portal reads them itself (uvicorn's
own proxy_headers is off), so the rule is the same under every server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` as networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for part in value.split(","):
        part = part.strip()
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(networks)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted: Sequence[Network]) -> str:
    """The client's address for rate limits (HTTP and websocket scopes alike).

    Behind trusted proxies, X-Forwarded-For is read from the right: the first address that is
    not itself a trusted proxy is the client (entries further left were written by the client).
    """
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded.extend(v.strip() for v in value.decode("latin-1").split(","))
    for address in reversed([a for a in forwarded if a]):
        if not _trusted(address, trusted):
            return address
    return peer
