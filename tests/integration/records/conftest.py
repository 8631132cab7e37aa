"""The records tests use the notifications harness (real SMTP and SMS servers)."""

from __future__ import annotations

from tests.integration.notifications.conftest import harness

__all__ = ["harness"]
