"""start_eagerly: runs a coroutine in the caller until it waits, then hands it to a task."""

from __future__ import annotations

import asyncio

import pytest

from realtime.eager import start_eagerly


async def test_a_coroutine_that_never_waits_runs_to_the_end_at_once() -> None:
    steps: list[str] = []

    async def quick() -> None:
        steps.append("ran")

    assert start_eagerly(quick()) is None
    assert steps == ["ran"]  # before the caller awaited anything


async def test_an_exception_before_waiting_reaches_the_caller() -> None:
    async def broken() -> None:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError, match="gone"):
        start_eagerly(broken())


async def test_a_waiting_coroutine_goes_on_in_a_task_with_what_it_awaited() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def waits() -> None:
        steps.append("before")
        steps.append(await gate)
        await asyncio.sleep(0)  # a bare yield to the loop works too
        steps.append("after")

    task = start_eagerly(waits())
    assert task is not None
    assert steps == ["before"]
    gate.set_result("woken")
    await task
    assert steps == ["before", "woken", "after"]


async def test_an_exception_after_waiting_ends_the_task_with_it() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def fails_later() -> None:
        await gate
        raise OSError("broken pipe")

    task = start_eagerly(fails_later())
    assert task is not None
    gate.set_result(None)
    with pytest.raises(OSError, match="broken pipe"):
        await task


async def test_an_exception_set_on_the_awaited_future_is_raised_inside() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen: list[BaseException] = []

    async def catches() -> None:
        try:
            await gate
        except KeyError as exc:
            seen.append(exc)

    task = start_eagerly(catches())
    assert task is not None
    gate.set_exception(KeyError("k"))
    await task
    assert [type(exc) for exc in seen] == [KeyError]


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cleaned: list[bool] = []

    async def waits_forever() -> None:
        try:
            await gate
        finally:
            cleaned.append(True)

    task = start_eagerly(waits_forever())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]
    assert gate.cancelled()  # the awaited future was cancelled, as with a plain task
