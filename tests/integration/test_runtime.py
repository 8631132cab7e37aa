"""The Runtime is built whole in the lifespan from the settings, and never patched after."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from portal.app import BACKGROUND_TASKS, create_app
from portal.settings import Settings
from tests.integration.conftest import migrated


def _task_names() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks()}


@pytest.mark.parametrize("dispatcher", [True, False])
async def test_the_runtime_is_complete_and_follows_the_settings(
    settings: Settings, dispatcher: bool
) -> None:
    await migrated(settings.database_url)
    app = create_app(dataclasses.replace(settings, dispatcher=dispatcher, audit_interval=0))
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        assert runtime.settings.dispatcher is dispatcher
        assert (runtime.dispatcher is not None) is dispatcher
        assert runtime.broker is runtime.hub.broker and await runtime.broker.ping()
        names = _task_names()
        assert "link-watch" in names
        assert ("dispatcher" in names) is dispatcher
        assert "scheduled-audit" not in names
        with pytest.raises(dataclasses.FrozenInstanceError):
            runtime.hub = None
    assert not {task.name for task in BACKGROUND_TASKS} & _task_names()


async def test_the_create_app_switches_override_the_settings(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, auto_migrate=False), migrate=True)
    async with app.router.lifespan_context(app):  # migrates the fresh database
        assert app.state.runtime.settings.auto_migrate
        assert app.state.runtime.dispatcher is not None
    app = create_app(dataclasses.replace(settings, auto_migrate=True), dispatcher=False)
    async with app.router.lifespan_context(app):
        assert app.state.runtime.dispatcher is None
