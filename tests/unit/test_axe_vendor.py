"""The vendored axe-core is the pinned version, byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "e2e" / "vendor"


def test_vendored_axe_matches_its_pin() -> None:
    pins = dict(line.split("=", 1) for line in (VENDOR / "VERSIONS").read_text().split() if line)
    script = (VENDOR / "axe.min.js").read_bytes()
    assert hashlib.sha256(script).hexdigest() == pins["axe.min.js.sha256"]
    assert f"axe v{pins['axe-core']}".encode() in script[:200]
    assert (VENDOR / "axe-core.LICENSE").is_file()
