"""The adapters the portal mounts under ``POST /webhooks/{carrier}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from carriers.aftership import AfterShipAdapter
from carriers.base import CarrierAdapter, ParsedWebhook
from carriers.easypost import EasyPostAdapter
from carriers.fedex import FedExAdapter
from carriers.generic import GenericAdapter
from carriers.shippo import ShippoAdapter
from carriers.text import normalise_webhook
from carriers.ups import UPSAdapter

__all__ = ["ADAPTERS", "Normalised", "get_adapter"]


class Normalised:
    """An adapter whose parsed updates carry only clean, bounded text (carriers.text).

    Every path that parses a body (the webhook route, replay, late matching) gets its adapter
    here, so none can store what the normalisation would refuse.
    """

    def __init__(self, adapter: CarrierAdapter) -> None:
        self.adapter = adapter
        self.name = adapter.name

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        secrets: Sequence[str],
        now: datetime,
    ) -> None:
        self.adapter.verify(body, headers, query, secrets, now)

    def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedWebhook:
        return normalise_webhook(self.adapter.parse(body, headers))

    def sign(
        self, body: bytes, secret: str, now: datetime
    ) -> tuple[dict[str, str], dict[str, str]]:
        return self.adapter.sign(body, secret, now)


_ALL: tuple[CarrierAdapter, ...] = tuple(
    Normalised(adapter)
    for adapter in (
        EasyPostAdapter(),
        AfterShipAdapter(),
        ShippoAdapter(),
        UPSAdapter(),
        FedExAdapter(),
        GenericAdapter(),
    )
)

ADAPTERS: Mapping[str, CarrierAdapter] = MappingProxyType({a.name: a for a in _ALL})


def get_adapter(name: str) -> CarrierAdapter | None:
    """The adapter for a URL segment (``easypost``, ``ups``, ...); None when there is none."""
    return ADAPTERS.get(name.strip().lower())
