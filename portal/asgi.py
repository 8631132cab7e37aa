"""The ASGI entry point uvicorn imports (one per worker): settings from the environment."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from .app import create_app
from .settings import load_settings


def build() -> Starlette:
    """Factory for `uvicorn --factory portal.asgi:build` and `portal serve`."""
    return create_app(
        load_settings(),
        migrate=os.environ.get("PORTAL_AUTO_MIGRATE") == "1",
        dispatcher=os.environ.get("PORTAL_DISPATCHER", "1") != "0",
        freeze_heap=True,
    )
