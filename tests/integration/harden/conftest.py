"""The live fixtures (a real uvicorn in the test's loop, `portal serve` subprocesses) for harden."""

from __future__ import annotations

from tests.integration.live.conftest import make_portal, spawn_portal

__all__ = ["make_portal", "spawn_portal"]
