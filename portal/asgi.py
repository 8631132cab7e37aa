"""The ASGI entry points uvicorn imports (one per worker): settings from the environment."""

from __future__ import annotations

from starlette.applications import Starlette

from .app import create_app
from .settings import load_settings


def build() -> Starlette:
    """Factory for `uvicorn --factory portal.asgi:build` and `portal serve --workers N`."""
    return create_app(load_settings(), freeze_heap=True)


def build_without_dispatcher() -> Starlette:
    """`portal serve --workers N --no-dispatcher`: the same, sending no notifications."""
    return create_app(load_settings(), dispatcher=False, freeze_heap=True)
