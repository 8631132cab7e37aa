"""The order screen's tests reuse the live tests' in-loop portal server."""

from __future__ import annotations

from tests.integration.live.conftest import make_portal

__all__ = ["make_portal"]
