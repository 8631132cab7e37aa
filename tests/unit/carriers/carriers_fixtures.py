"""Shared helpers for the carrier tests: fixture payloads and a fixed clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"

# The package never reads the clock; tests hand it this one.
NOW = datetime(2027, 3, 2, 12, 0, 0, tzinfo=UTC)

SECRET = "s3cr3t-Ähnlich-ﬁ"  # non-ASCII, with a ligature NFKD folds (EasyPost normalises)
OTHER_SECRET = "another-secret"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a Standard Webhooks example secret


def payload(provider: str, name: str) -> bytes:
    """The raw bytes of ``payloads/<provider>/<name>.json``."""
    return (PAYLOADS / provider / f"{name}.json").read_bytes()


def payload_json(provider: str, name: str) -> object:
    """The decoded fixture."""
    return json.loads(payload(provider, name))


def fixture_names(provider: str) -> list[str]:
    """Every fixture of a provider, by name."""
    return sorted(path.stem for path in (PAYLOADS / provider).glob("*.json"))
