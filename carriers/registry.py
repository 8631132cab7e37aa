"""The adapters the portal mounts under ``POST /webhooks/{carrier}``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from carriers.aftership import AfterShipAdapter
from carriers.base import CarrierAdapter
from carriers.easypost import EasyPostAdapter
from carriers.fedex import FedExAdapter
from carriers.generic import GenericAdapter
from carriers.shippo import ShippoAdapter
from carriers.ups import UPSAdapter

__all__ = ["ADAPTERS", "get_adapter"]

_ALL: tuple[CarrierAdapter, ...] = (
    EasyPostAdapter(),
    AfterShipAdapter(),
    ShippoAdapter(),
    UPSAdapter(),
    FedExAdapter(),
    GenericAdapter(),
)

ADAPTERS: Mapping[str, CarrierAdapter] = MappingProxyType({a.name: a for a in _ALL})


def get_adapter(name: str) -> CarrierAdapter | None:
    """The adapter for a URL segment (``easypost``, ``ups``, ...); None when there is none."""
    return ADAPTERS.get(name.strip().lower())
